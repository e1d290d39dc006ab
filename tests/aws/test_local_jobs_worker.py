"""Jobs on moto as `make run-aws` runs them: `catalog aws bootstrap` makes the jobs queue that
CATALOG_JOBS_QUEUE_URL names (FIFO, with its dead-letter queue, as template.yaml's), and
`catalog aws jobs` hands its messages to the jobs worker Lambda's code as the event source
mapping would (adapters/aws/sqs_event_source.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.adapters.aws.sqs_event_source import SqsEventSource
from catalog.entrypoints import lambda_api, lambda_jobs
from catalog.entrypoints.cli import app as cli
from tests.aws.apigw_events import ACME, http_event
from tests.aws.apigw_events import LambdaContext as ApiContext
from tests.conftest import AwsEndpoint

ACCOUNT = "123456789012"  # moto's


@pytest.fixture
def queue_url(aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    url = f"{aws.url}/{ACCOUNT}/local-jobs.fifo"
    for name, value in {
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_CURSOR_SECRET": "local-jobs-tests-cursor-secret-0123456789abcdef",
        "CATALOG_TABLE_NAME": "local-jobs",
        "CATALOG_BUCKET_NAME": "local-jobs-assets",
        "CATALOG_JOBS_QUEUE_URL": url,
        "CATALOG_DATA_DIR": str(tmp_path / "data"),
        "CATALOG_RATE_LIMIT": "off",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CATALOG_ASSET_BASE_URL", raising=False)
    lambda_api.reset()
    lambda_jobs.reset()
    yield url
    lambda_api.reset()
    lambda_jobs.reset()


def catalog(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def api(method: str, path: str, body: str | None = None, **headers: str) -> Any:
    event = http_event(method, path, claims=ACME, headers=headers, body=body)
    response = lambda_api.handler(event, ApiContext())
    return response["statusCode"], json.loads(response["body"])


def counts(sqs: Any, url: str) -> tuple[int, int]:
    names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(found[names[0]]), int(found[names[1]])


def test_bootstrap_makes_the_jobs_queue_as_the_template_does(
    aws: AwsEndpoint, queue_url: str
) -> None:
    assert "  jobs queue local-jobs.fifo: created" in catalog("aws", "bootstrap").splitlines()
    assert "  jobs queue local-jobs.fifo: already there" in catalog("aws", "bootstrap")

    sqs = aws.client("sqs")
    found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (found["FifoQueue"], found["VisibilityTimeout"]) == ("true", "5400")
    assert found["ContentBasedDeduplication"] == "false"
    redrive = json.loads(found["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":local-jobs-dead-letters.fifo")
    assert int(redrive["maxReceiveCount"]) == 5


def test_catalog_aws_jobs_runs_an_import_the_api_queued(aws: AwsEndpoint, queue_url: str) -> None:
    catalog("aws", "bootstrap")
    rows = [
        {"sku": f"SH-{n}", "name": f"Shoe {n}", "price": {"amount": 1000, "currency": "USD"}}
        for n in (1, 2)
    ]
    content = "".join(json.dumps(row) + "\n" for row in rows)
    status, started = api(
        "POST", "/v1/merchants/acme/imports", content, **{"content-type": "application/x-ndjson"}
    )
    assert (status, started["status"]) == (202, "QUEUED")

    catalog("aws", "jobs", "--once", "--wait-seconds", "0")

    status, done = api("GET", f"/v1/merchants/acme/jobs/{started['id']}")
    assert (status, done["status"], done["created"]) == (200, "SUCCEEDED", 2)
    assert counts(aws.client("sqs"), queue_url) == (0, 0)  # its message deleted


def test_a_message_the_function_reports_failed_stays_on_the_queue(aws: AwsEndpoint) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="source.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for n in (1, 2):
        message = {"MessageGroupId": f"g{n}", "MessageDeduplicationId": f"m{n}"}
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", **message)
    seen: list[dict[str, Any]] = []

    def function(event: dict[str, Any], context: Any) -> dict[str, Any]:
        (record,) = event["Records"]
        seen.append(record)
        assert context.get_remaining_time_in_millis() > 890_000  # the function's 900 s
        failed = record["body"] == "m1"
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}] if failed else []}

    source = SqsEventSource(sqs, url, function, wait_seconds=0)
    assert (source.poll(), source.poll(), source.poll()) == (1, 1, 0)

    assert sorted(record["body"] for record in seen) == ["m1", "m2"]
    assert {record["eventSourceARN"] for record in seen} == {
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:source.fifo"
    }
    assert counts(sqs, url) == (0, 1)  # m1 in flight, to come back; m2 deleted
