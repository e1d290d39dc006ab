"""template.yaml's jobs (docs/jobs-aws.md): the queue, its dead-letter queue, the worker, the
jobs bucket, their permissions and alarms, and the facts the worker's code relies on."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from catalog.entrypoints import lambda_jobs
from catalog.settings import Settings
from tests.deploy.test_template import (
    TEMPLATE,
    _CloudFormationLoader,
    actions,
    resource_list,
    role_of,
    role_statements,
    statements,
)

JOB_FILES = {"Fn::Sub": f"${{JobsBucket.Arn}}/{Settings().jobs_prefix}/*"}
JOBS_QUEUE = {"Fn::GetAtt": ["JobsQueue", "Arn"]}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)
    return loaded


def worker(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"]["JobsFunction"]["Properties"]
    return properties


def mapping(template: dict[str, Any]) -> dict[str, Any]:
    (event,) = worker(template)["Events"].values()
    assert event["Type"] == "SQS"
    properties: dict[str, Any] = event["Properties"]
    return properties


def granted(template: dict[str, Any], function: str) -> dict[str, list[Any]]:
    """Each action the function's role allows, with the resources it allows it on."""
    found: dict[str, list[Any]] = {}
    role = role_of(template["Resources"][function])
    for statement in role_statements(template, role):
        assert statement["Effect"] == "Allow"
        for action in actions(statement):
            found.setdefault(action, []).extend(resource_list(statement))
    return found


def test_jobs_wait_on_a_fifo_queue_with_a_dead_letter_queue(template: dict[str, Any]) -> None:
    queue = template["Resources"]["JobsQueue"]["Properties"]
    dead = template["Resources"]["JobsDeadLetterQueue"]["Properties"]
    # One message group per job (SqsJobQueue): a job's messages are run one at a time.
    assert queue["FifoQueue"] is dead["FifoQueue"] is True
    # Every message has its own deduplication id: a continuation is never dropped as a copy.
    assert queue["ContentBasedDeduplication"] is False
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert queue["SqsManagedSseEnabled"] is dead["SqsManagedSseEnabled"] is True
    assert dead["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_visibility_timeout_is_six_times_the_workers_timeout(
    template: dict[str, Any],
) -> None:
    timeout = worker(template)["Timeout"]
    assert timeout == 900  # the longest: fewer continuations
    assert template["Resources"]["JobsQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout
    # A run stops with time left to write a batch and send its continuation; a failed message
    # comes back long before its visibility timeout would end.
    assert timeout / 10 >= lambda_jobs.STOP_MARGIN_MS / 1000
    assert timeout > lambda_jobs.RETRY_DELAY_SECONDS


def test_the_worker_takes_one_job_at_a_time_and_reports_failed_messages(
    template: dict[str, Any],
) -> None:
    source = mapping(template)
    assert source["Queue"] == JOBS_QUEUE
    assert source["BatchSize"] == 1
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # A chain of continuations is not a runaway loop: Lambda must let it run.
    assert worker(template)["RecursiveLoop"] == "Allow"


def test_concurrency_is_capped_by_the_mapping_and_reserved_only_as_much(
    template: dict[str, Any],
) -> None:
    assert mapping(template)["ScalingConfig"] == {
        "MaximumConcurrency": {"Ref": "JobsMaxConcurrency"}
    }
    # A reservation under the mapping's cap would throttle its own invocations: it is that cap.
    assert worker(template)["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "ReservesJobsConcurrency",
            {"Ref": "JobsMaxConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    parameter = template["Parameters"]["JobsMaxConcurrency"]
    assert parameter["MinValue"] == 2  # Lambda's smallest maximum concurrency
    assert template["Parameters"]["JobsReserveConcurrency"]["Default"] == "false"


def test_the_worker_role_makes_exactly_the_calls_of_the_worker(template: dict[str, Any]) -> None:
    calls = granted(template, "JobsFunction")
    table, indexes = {"Fn::GetAtt": ["Table", "Arn"]}, {"Fn::Sub": "${Table.Arn}/index/*"}
    assert calls == {
        "logs:CreateLogStream": [{"Fn::GetAtt": ["JobsFunctionLogs", "Arn"]}],
        "logs:PutLogEvents": [{"Fn::GetAtt": ["JobsFunctionLogs", "Arn"]}],
        "dynamodb:GetItem": [table],
        "dynamodb:BatchGetItem": [table],
        "dynamodb:Query": [table, indexes],
        "dynamodb:PutItem": [table],
        "dynamodb:DeleteItem": [table],
        "dynamodb:UpdateItem": [table],
        "dynamodb:ConditionCheckItem": [table],
        "s3:GetObject": [JOB_FILES],
        "s3:PutObject": [JOB_FILES],
        "s3:DeleteObject": [JOB_FILES],
        "s3:AbortMultipartUpload": [JOB_FILES],
        "s3:ListBucket": [{"Fn::GetAtt": ["JobsBucket", "Arn"]}],
        "sqs:ReceiveMessage": [JOBS_QUEUE],
        "sqs:DeleteMessage": [JOBS_QUEUE],
        "sqs:GetQueueAttributes": [JOBS_QUEUE],
        "sqs:ChangeMessageVisibility": [JOBS_QUEUE],
        "sqs:SendMessage": [JOBS_QUEUE],
    }
    role = role_of(template["Resources"]["JobsFunction"])
    (listing,) = (s for s in role_statements(template, role) if "s3:ListBucket" in actions(s))
    assert listing["Condition"] == {"StringLike": {"s3:prefix": f"{Settings().jobs_prefix}/*"}}


def test_the_api_queues_jobs_and_keeps_and_serves_their_files(template: dict[str, Any]) -> None:
    calls = granted(template, "ApiFunction")
    assert calls["sqs:SendMessage"] == [JOBS_QUEUE]
    assert {action for action, on in calls.items() if JOB_FILES in on} == {
        "s3:PutObject",
        "s3:GetObject",  # what a presigned download_url acts with
        "s3:AbortMultipartUpload",
    }
    assert not [
        action for action in calls if action.startswith("sqs:") and action != "sqs:SendMessage"
    ]


def test_the_api_and_the_worker_share_the_queue_and_the_bucket(template: dict[str, Any]) -> None:
    api = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    jobs = worker(template)["Environment"]["Variables"]
    for variables in (api, jobs):
        assert variables["CATALOG_JOBS_QUEUE_URL"] == {"Ref": "JobsQueue"}  # Ref: the URL
        assert variables["CATALOG_JOBS_BUCKET_NAME"] == {"Ref": "JobsBucket"}
        assert "CATALOG_JOBS_PREFIX" not in variables  # the default, which the roles name
        assert variables["CATALOG_TABLE_NAME"] == {"Ref": "Table"}
    assert jobs["CATALOG_AUTH"] == "apigw"
    assert jobs["CATALOG_CURSOR_SECRET"] == api["CATALOG_CURSOR_SECRET"]
    assert jobs["POWERTOOLS_SERVICE_NAME"] == lambda_jobs.SERVICE
    # Only the worker cuts imports into chunks, of the parameter's size.
    assert jobs["CATALOG_JOBS_CHUNK_BYTES"] == {"Ref": "JobsChunkBytes"}
    assert "CATALOG_JOBS_CHUNK_BYTES" not in api
    chunk = template["Parameters"]["JobsChunkBytes"]
    assert chunk["Default"] == Settings().jobs_chunk_bytes


def test_the_jobs_bucket_is_private_unversioned_and_expires_its_files(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["JobsBucket"]
    properties = bucket["Properties"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert "VersioningConfiguration" not in properties
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": "JobFilesRetentionDays"}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    policy = template["Resources"]["JobsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "JobsBucket"}
    (deny,) = statements({"PolicyDocument": policy["PolicyDocument"]})
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # No CDN reads it: the distribution's origin is the images bucket.
    assert "JobsBucket" not in str(template["Resources"].get("AssetDistribution", ""))


def test_browsers_on_the_allowed_origins_download_exports_and_upload_imports(
    template: dict[str, Any],
) -> None:
    """The console uploads an import over the inline limit straight to the bucket with its
    ticket (a presigned POST), which S3 answers only to the origins its CORS rules allow."""
    cors = template["Resources"]["JobsBucket"]["Properties"]["CorsConfiguration"]
    condition, when_set, _ = cors["Fn::If"]
    assert condition == "HasCorsOrigins"
    (rule,) = when_set["CorsRules"]
    assert rule["AllowedOrigins"] == {"Ref": "CorsAllowedOrigins"}
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD", "POST"}


def alarm_on(template: dict[str, Any], metric: str, dimension: dict[str, Any]) -> dict[str, Any]:
    (alarm,) = (
        a["Properties"]
        for a in template["Resources"].values()
        if a["Type"] == "AWS::CloudWatch::Alarm"
        and a["Properties"].get("MetricName") == metric
        and dimension in a["Properties"]["Dimensions"]
    )
    return alarm


def test_alarms_watch_the_dead_letter_queue_and_the_failures_the_worker_handles(
    template: dict[str, Any],
) -> None:
    dead = {"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsDeadLetterQueue", "QueueName"]}}
    assert alarm_on(template, "ApproximateNumberOfMessagesVisible", dead)["Threshold"] == 0
    # The metric the worker publishes for the failures it reports (no Lambda error).
    service = {"Name": "service", "Value": lambda_jobs.SERVICE}
    handled = alarm_on(template, lambda_jobs.FAILED_METRIC, service)
    assert handled["Namespace"] == lambda_jobs.METRICS_NAMESPACE
    assert (handled["Statistic"], handled["Threshold"]) == ("Sum", 0)
    waiting = {"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsQueue", "QueueName"]}}
    assert alarm_on(template, "ApproximateAgeOfOldestMessage", waiting)["Threshold"] == 3600


def test_outputs_name_the_jobs_resources(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["JobsQueueUrl"]["Value"] == {"Ref": "JobsQueue"}
    assert outputs["JobsDeadLetterQueueUrl"]["Value"] == {"Ref": "JobsDeadLetterQueue"}
    assert outputs["JobsBucketName"]["Value"] == {"Ref": "JobsBucket"}
