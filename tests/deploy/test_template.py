"""template.yaml, the AWS deployment: the facts its users and the code rely on.

The template is read as data (PyYAML, with the CloudFormation short tags turned into their
long forms); nothing is deployed. What AWS would accept is checked by `make check-template`
(cfn-lint and checkov); these tests check that the stack is the one the code expects.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.adapters.aws.dynamodb_items import ALL_PRODUCTS, BY_TYPE, ITEM_TYPE
from catalog.adapters.aws.dynamodb_table import ensure_table
from catalog.adapters.aws.provisioning import CORS_METHODS, ensure_bucket
from catalog.domain.events import DomainEvent, EventName
from catalog.entrypoints import lambda_reevaluate
from catalog.service.reevaluation import Reevaluation
from catalog.service.uploads import STAGING_PREFIX, UPLOAD_TICKET_SECONDS, staging_key
from catalog.settings import Settings
from tests.conftest import REGION, AwsEndpoint

TEMPLATE = Path(__file__).parents[2] / "template.yaml"

Node = Any


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads !Ref, !GetAtt, !Sub, ... as the JSON forms AWS reads them as."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Node:
    value: Node
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)
    return loaded


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Serverless::Function")


def statements(node: Node) -> Iterator[dict[str, Any]]:
    """Every IAM policy statement anywhere in `node` (roles, bucket and queue policies)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("PolicyDocument", "AssumeRolePolicyDocument"):
                for statement in value["Statement"]:
                    # A statement kept under a condition: !If [cond, statement, NoValue].
                    if "Fn::If" in statement:
                        yield from (s for s in statement["Fn::If"][1:] if "Effect" in s)
                    else:
                        yield statement
            else:
                yield from statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from statements(item)


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def role_actions(template: dict[str, Any], role: str) -> set[str]:
    properties = template["Resources"][role]["Properties"]
    return {
        action
        for policy in properties["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in actions(statement)
    }


def role_of(function: dict[str, Any]) -> str:
    role: list[str] = function["Properties"]["Role"]["Fn::GetAtt"]
    assert role[1] == "Arn"
    return role[0]


# ------------------------------------------------------------------ IAM


def test_no_policy_grants_a_wildcard_action_or_a_scan(template: dict[str, Any]) -> None:
    found = list(statements(template["Resources"]))
    assert len(found) > 10  # the walk does reach the roles and resource policies
    for statement in found:
        for action in actions(statement):
            assert action.lower() != "dynamodb:scan", statement
            # A wildcard only ever denies (the bucket's refusal of plain HTTP).
            if "*" in action:
                assert statement["Effect"] == "Deny", statement
        if statement["Effect"] == "Allow" and "Principal" not in statement:
            # Identity policies name their resources; nothing is granted on "*".
            assert statement["Resource"] != "*", statement


def test_functions_have_their_own_roles_and_no_generated_policies(
    template: dict[str, Any],
) -> None:
    # SAM would otherwise create a role per function and attach managed policies to it
    # (AWSLambdaDynamoDBExecutionRole grants stream reads on every table of the account).
    for name, function in functions(template).items():
        properties = function["Properties"]
        assert "Policies" not in properties, name
        role = template["Resources"][role_of(function)]
        assert role["Type"] == "AWS::IAM::Role"
        assert "ManagedPolicyArns" not in role["Properties"], name


def test_api_role_makes_exactly_the_calls_of_the_api(template: dict[str, Any]) -> None:
    api = role_actions(template, role_of(template["Resources"]["ApiFunction"]))
    # TransactWriteItems is authorized per item: the Puts, Deletes and Updates of a commit
    # (Updates: a type's revision, the in_use counts of the types a product leaves or takes).
    assert {a for a in api if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
    }
    assert {a for a in api if a.startswith("s3:")} == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",  # a missing upload is then a 404 from S3, not a 403
        "s3:AbortMultipartUpload",  # an import's file past 8 MiB (test_jobs_template.py)
    }
    # sqs: the API sends jobs to their queue (test_jobs_template.py).
    assert {a.split(":")[0] for a in api} == {"dynamodb", "s3", "logs", "sqs"}


def test_relay_role_reads_the_stream_and_puts_events(template: dict[str, Any]) -> None:
    relay = role_actions(template, role_of(template["Resources"]["RelayFunction"]))
    assert relay == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "events:PutEvents",
        "sqs:SendMessage",
    }


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template["Resources"][role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def resource_list(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def test_reevaluate_role_reads_commits_and_invokes_only_itself(template: dict[str, Any]) -> None:
    role = role_of(template["Resources"]["ReevaluateFunction"])
    granted = role_actions(template, role)
    # Reads and the Puts and Deletes of a product's commit; no Scan, and no UpdateItem:
    # re-evaluation never moves a product to another type (the only Update of a commit).
    assert {a for a in granted if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    }
    assert granted - {a for a in granted if a.startswith("dynamodb:")} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "lambda:InvokeFunction",
        "sqs:SendMessage",  # the on-failure destination, sent with the function's role
    }
    found = role_statements(template, role)
    # Queries of the indexes the walk pages: a merchant's products, and its products by type.
    index_resources = [r for s in found for r in resource_list(s) if "/index/" in json.dumps(r)]
    assert index_resources == [
        {"Fn::Sub": f"${{Table.Arn}}/index/{index.name}"} for index in (ALL_PRODUCTS, BY_TYPE)
    ]
    # lambda:InvokeFunction on one ARN: the function's own, built from its fixed name.
    (invoke,) = (s for s in found if "lambda:InvokeFunction" in actions(s))
    assert actions(invoke) == ["lambda:InvokeFunction"]
    (own_arn,) = resource_list(invoke)
    name = template["Resources"]["ReevaluateFunction"]["Properties"]["FunctionName"]["Fn::Sub"]
    prefix = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    assert own_arn == {"Fn::Sub": prefix + name}
    # No other role may invoke it, and it may invoke no other function.
    for other, function in functions(template).items():
        if other != "ReevaluateFunction":
            assert not any(
                a.startswith("lambda:") for a in role_actions(template, role_of(function))
            )


# ------------------------------------------------------------------ functions


def test_every_function_runs_python_3_12_or_newer_on_arm64(template: dict[str, Any]) -> None:
    assert set(functions(template)) == {
        "ApiFunction",
        "RelayFunction",
        "ReevaluateFunction",
        "JobsFunction",
    }
    for name, function in functions(template).items():
        properties = function["Properties"]
        match = re.fullmatch(r"python3\.(\d+)", properties["Runtime"])
        assert match and int(match.group(1)) >= 12, name
        assert properties["Architectures"] == ["arm64"], name
        # `sam build` runs make build-<name>, which packages the repository root.
        assert function["Metadata"]["BuildMethod"] == "makefile", name
        assert properties["CodeUri"] == "."


@pytest.mark.parametrize(
    ("function", "handler"),
    [
        ("ApiFunction", "catalog.entrypoints.lambda_api.handler"),
        ("RelayFunction", "catalog.entrypoints.lambda_relay.handler"),
        ("ReevaluateFunction", "catalog.entrypoints.lambda_reevaluate.handler"),
        ("JobsFunction", "catalog.entrypoints.lambda_jobs.handler"),
    ],
)
def test_handlers_name_the_lambda_entrypoints(
    template: dict[str, Any], function: str, handler: str
) -> None:
    configured = template["Resources"][function]["Properties"]["Handler"]
    assert configured == handler
    module, attribute = configured.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), attribute))


def test_function_settings_are_settings_the_catalog_reads(template: dict[str, Any]) -> None:
    fields = {f"CATALOG_{name.upper()}" for name in Settings.model_fields}
    for name, function in functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        unknown = {v for v in variables if v.startswith("CATALOG_")} - fields
        assert not unknown, f"{name} sets variables the catalog never reads: {unknown}"
        assert variables["CATALOG_BACKEND"] == "aws"
        # Functions that name a bus name this stack's (the re-evaluation names none).
        assert variables.get("CATALOG_EVENT_BUS_NAME", {"Ref": "EventBus"}) == {"Ref": "EventBus"}
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Catalog"


def test_api_function_is_wired_to_the_stack(template: dict[str, Any]) -> None:
    variables = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CATALOG_AUTH"] == "apigw"
    assert variables["CATALOG_TABLE_NAME"] == {"Ref": "Table"}
    assert variables["CATALOG_BUCKET_NAME"] == {"Ref": "AssetBucket"}
    assert variables["CATALOG_JWT_MERCHANT_CLAIM"] == {"Ref": "JwtMerchantClaim"}
    assert variables["CATALOG_JWT_ROLES_CLAIM"] == {"Ref": "JwtRolesClaim"}
    assert variables["CATALOG_JWT_MERCHANTS_CLAIM"] == {"Ref": "JwtMerchantsClaim"}
    # Resolved from the generated secret at deploy time, never written in the template.
    secret = variables["CATALOG_CURSOR_SECRET"]["Fn::Sub"]
    assert secret == "{{resolve:secretsmanager:${CursorSecret}}}"
    generated = template["Resources"]["CursorSecret"]["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32  # bootstrap.MIN_CURSOR_SECRET_LENGTH
    # The CDN's domain when there is one; otherwise unset, and image URLs are presigned.
    condition, with_cdn, without_cdn = variables["CATALOG_ASSET_BASE_URL"]["Fn::If"]
    assert condition == "HasAssetCdn"
    assert with_cdn == {"Fn::Sub": "https://${AssetDistribution.DomainName}"}
    assert without_cdn == {"Ref": "AWS::NoValue"}


# Names of the variables and parameters that would hold a secret value.
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PRIVATE|SIGNING|(^|_)KEY$", re.IGNORECASE)
# Secrets Manager, not an SSM SecureString: CloudFormation resolves `ssm-secure` references
# only in a few resource properties, and a Lambda function's environment is not one of them.
DYNAMIC_SECRET = re.compile(r"\{\{resolve:secretsmanager:\$\{(\w+)\}\}\}")


def test_secret_values_come_from_secrets_manager_never_from_parameters(
    template: dict[str, Any],
) -> None:
    secret_settings = {
        f"CATALOG_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }
    # The pattern recognises every setting that holds a secret.
    assert {"CATALOG_CURSOR_SECRET", "CATALOG_WEBHOOK_SECRET"} <= secret_settings
    assert all(SECRET_NAME.search(name) for name in secret_settings)
    seen = set()
    for name, function in functions(template).items():
        for variable, value in function["Properties"]["Environment"]["Variables"].items():
            if not SECRET_NAME.search(variable):
                continue
            # A dynamic reference CloudFormation resolves at deploy time, to a secret this
            # stack generates: never a literal, a parameter or an output of another stack.
            reference = DYNAMIC_SECRET.fullmatch(
                value.get("Fn::Sub", "") if isinstance(value, dict) else ""
            )
            assert reference, f"{name} takes {variable} from {value}, not from Secrets Manager"
            source = template["Resources"][reference[1]]
            assert source["Type"] == "AWS::SecretsManager::Secret"
            assert "SecretString" not in source["Properties"]  # generated, never written here
            seen.add(variable)
    assert "CATALOG_CURSOR_SECRET" in seen
    # No parameter carries a secret either, NoEcho or not: its value would have to be handed to
    # every deploy (typed in, or on a command line and so in the shell's history).
    for name, parameter in template["Parameters"].items():
        assert "NoEcho" not in parameter, name
        assert not SECRET_NAME.search(name), name


# ------------------------------------------------------------------ HTTP API


def test_the_stage_throttles_every_route_with_the_limits_given(template: dict[str, Any]) -> None:
    settings = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert settings == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }
    parameters = template["Parameters"]
    rate, burst = parameters["ApiThrottlingRateLimit"], parameters["ApiThrottlingBurstLimit"]
    assert rate["Type"] == burst["Type"] == "Number"
    assert 0 < rate["Default"] <= burst["Default"] <= burst["MaxValue"] == 5000
    # The function's own limit per caller is off: buckets in one container would count only
    # that container's share of a caller's requests (docs/deploy.md, "Limits").
    variables = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CATALOG_RATE_LIMIT"] == "off"
    assert Settings(rate_limit=variables["CATALOG_RATE_LIMIT"]).rate_limit is None


def test_every_route_but_health_requires_the_jwt_authorizer(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]
    assert api["Type"] == "AWS::Serverless::HttpApi"
    auth = api["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == "JwtAuthorizer"
    jwt = auth["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]
    assert jwt == {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}
    # No named stage: routes sit at the root, as CATALOG_API_GATEWAY_BASE_PATH's default says.
    assert "StageName" not in api["Properties"]

    routes = {}
    for name, function in functions(template).items():
        for event in function["Properties"].get("Events", {}).values():
            # Only the HTTP API reaches a function from outside: no REST API, no function URL
            # (the others read the table's stream and the jobs queue).
            assert event["Type"] in ("HttpApi", "DynamoDB", "SQS"), name
            if event["Type"] == "HttpApi":
                properties = event["Properties"]
                assert properties["ApiId"] == {"Ref": "HttpApi"}
                routes[(properties["Method"], properties["Path"])] = properties.get("Auth")
        assert "FunctionUrlConfig" not in function["Properties"]
    # The JWT authorizer (the default) everywhere, except on the health check and the
    # console's routes (tests/deploy/test_console_template.py).
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    console = {("GET", "/console"), ("GET", "/console/{proxy+}"), ("POST", "/console/{proxy+}")}
    assert routes == {
        **{(method, "/{proxy+}"): None for method in methods},
        ("GET", "/health"): {"Authorizer": "NONE"},
        **{route: {"Authorizer": "NONE"} for route in console},
    }
    # A CORS preflight (OPTIONS, never carrying the token) must match no route: API Gateway
    # then answers it from the CORS configuration instead of refusing it at the authorizer.
    assert "CorsConfiguration" in api["Properties"]


# ------------------------------------------------------------------ table


def test_table_is_the_one_ensure_table_creates(template: dict[str, Any], aws: AwsEndpoint) -> None:
    client = aws.client("dynamodb")
    ensure_table(client, "catalog")
    created = client.describe_table(TableName="catalog")["Table"]
    ttl = client.describe_time_to_live(TableName="catalog")["TimeToLiveDescription"]
    declared = template["Resources"]["Table"]["Properties"]

    def indexes(definitions: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
            for index in definitions
        }

    assert declared["KeySchema"] == created["KeySchema"]
    assert sorted(declared["AttributeDefinitions"], key=str) == sorted(
        created["AttributeDefinitions"], key=str
    )
    assert indexes(declared["GlobalSecondaryIndexes"]) == indexes(created["GlobalSecondaryIndexes"])
    assert declared["BillingMode"] == created["BillingModeSummary"]["BillingMode"]
    assert (
        declared["StreamSpecification"]["StreamViewType"]
        == (created["StreamSpecification"]["StreamViewType"])
    )
    assert declared["TimeToLiveSpecification"] == {
        "AttributeName": ttl["AttributeName"],
        "Enabled": True,
    }


def test_table_is_protected(template: dict[str, Any]) -> None:
    table = template["Resources"]["Table"]
    properties = table["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["DeletionProtectionEnabled"] is True
    # Removing it from the template (or the stack) keeps the data.
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


# ------------------------------------------------------------------ relay


def test_relay_reads_the_table_stream_with_bounded_retries(template: dict[str, Any]) -> None:
    events = template["Resources"]["RelayFunction"]["Properties"]["Events"]
    (mapping,) = (e["Properties"] for e in events.values() if e["Type"] == "DynamoDB")
    assert mapping["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    # -1 would retry until the record leaves the stream, holding its shard all that time.
    assert 0 <= mapping["MaximumRetryAttempts"] <= 100
    # Given up before the stream's 24 h retention trims the records unseen.
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] < 24 * 3600
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
    assert destination[1] == "Arn"
    assert template["Resources"][destination[0]]["Type"] == "AWS::SQS::Queue"


def test_relay_is_invoked_for_inserted_outbox_items_only(template: dict[str, Any]) -> None:
    events = template["Resources"]["RelayFunction"]["Properties"]["Events"]
    (mapping,) = (e["Properties"] for e in events.values() if e["Type"] == "DynamoDB")
    (only,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {ITEM_TYPE: {"S": ["EVENT"]}}},
    }


# ------------------------------------------------------------------ re-evaluation


def reevaluated_event_names() -> set[str]:
    """The events Reevaluation.after turns into a run: every name, asked of each kind of
    event (a product's, a type's, a channel's)."""
    at = datetime(2026, 12, 1, tzinfo=UTC)
    shapes: list[dict[str, Any]] = [
        {"merchant_id": "acme", "product_id": "01JD0000000000000000000000"},
        {"merchant_id": "acme", "product_id": None, "product_type": "apparel"},
        {"merchant_id": None, "product_id": None, "channel": "meta"},
    ]
    return {
        name.value
        for name in EventName
        for shape in shapes
        if Reevaluation.after(DomainEvent(id="e", name=name, version=1, occurred_at=at, **shape))
    }


def test_the_rule_sends_the_function_exactly_the_events_it_acts_on(
    template: dict[str, Any],
) -> None:
    rule = template["Resources"]["ReevaluateRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBus"}
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["catalog"]
    assert set(pattern["detail-type"]) == reevaluated_event_names()
    assert len(reevaluated_event_names()) == 2  # a type's update, a channel's requirements
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ReevaluateFunction", "Arn"]}
    # What EventBridge itself cannot hand over lands where the function's failures do.
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ReevaluateFailureQueue", "Arn"]}
    permission = template["Resources"]["ReevaluateRulePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["ReevaluateRule", "Arn"]}
    (delivers,) = statements(template["Resources"]["ReevaluateFailureQueuePolicy"])
    assert delivers["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": ["ReevaluateRule", "Arn"]
    }


def test_failed_runs_are_retried_twice_then_kept_on_an_encrypted_queue(
    template: dict[str, Any],
) -> None:
    config = template["Resources"]["ReevaluateInvokeConfig"]
    assert config["Type"] == "AWS::Lambda::EventInvokeConfig"
    properties = config["Properties"]
    assert properties["FunctionName"] == {"Ref": "ReevaluateFunction"}
    assert properties["MaximumRetryAttempts"] == 2
    assert 60 <= properties["MaximumEventAgeInSeconds"] <= 21600  # Lambda's bounds
    destination = properties["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["ReevaluateFailureQueue", "Arn"]}
    queue = template["Resources"]["ReevaluateFailureQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True


def test_a_run_fits_the_timeout_after_waiting_for_the_requirements(
    template: dict[str, Any],
) -> None:
    properties = template["Resources"]["ReevaluateFunction"]["Properties"]
    assert properties["Timeout"] == 900  # Lambda's longest: fewer continuations
    variables = properties["Environment"]["Variables"]
    api = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    # The function waits as long as API processes remember the requirements: the same setting.
    setting = "CATALOG_REQUIREMENTS_MAX_AGE"
    assert variables.get(setting) == api.get(setting)
    # Even the longest wait the setting allows leaves most of the run for pages.
    (longest_wait,) = (
        m.le for m in Settings.model_fields["requirements_max_age"].metadata if hasattr(m, "le")
    )
    assert longest_wait + lambda_reevaluate.STOP_MARGIN_MS / 1000 < properties["Timeout"] / 2
    # A chain of continuations is not a runaway loop: Lambda must let it run.
    assert properties["RecursiveLoop"] == "Allow"
    # The composition root it shares with the API: claims verifier (no data folder), the table.
    assert variables["CATALOG_AUTH"] == "apigw"
    assert variables["CATALOG_TABLE_NAME"] == {"Ref": "Table"}


# ------------------------------------------------------------------ images


def test_bucket_is_private_and_expires_abandoned_uploads(template: dict[str, Any]) -> None:
    properties = template["Resources"]["AssetBucket"]["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = properties["LifecycleConfiguration"]["Rules"]
    (uploads,) = (rule for rule in rules if rule.get("Prefix") == f"{STAGING_PREFIX}/")
    assert uploads["Status"] == "Enabled"
    assert 1 <= uploads["ExpirationInDays"] <= 7
    # Versioning would otherwise keep every expired or confirmed upload as an old version.
    assert uploads["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 7
    # Every rule is scoped: a rule that expired current objects everywhere would delete images.
    for rule in rules:
        assert "ExpirationInDays" not in rule or rule.get("Prefix") == f"{STAGING_PREFIX}/"


def test_abandoned_uploads_expire_after_their_ticket_here_as_in_bootstrap(
    template: dict[str, Any], aws: AwsEndpoint
) -> None:
    rules = template["Resources"]["AssetBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (uploads,) = (rule for rule in rules if rule["Id"] == "abandoned-uploads")
    s3 = aws.client("s3")
    ensure_bucket(s3, "catalog-assets", REGION)
    (provisioned,) = s3.get_bucket_lifecycle_configuration(Bucket="catalog-assets")["Rules"]

    # The rule covers every staging key (and the mark of a used ticket next to it) ...
    assert uploads["Prefix"] == provisioned["Filter"]["Prefix"] == f"{STAGING_PREFIX}/"
    assert staging_key("acme", "01JDPRODUCT", "01JDUPLOAD").startswith(uploads["Prefix"])
    # ... and expires nothing before its ticket has: an upload can still be confirmed until then.
    assert uploads["ExpirationInDays"] == provisioned["Expiration"]["Days"]
    assert uploads["ExpirationInDays"] * 24 * 3600 >= UPLOAD_TICKET_SECONDS
    assert provisioned["Status"] == uploads["Status"] == "Enabled"


def test_bucket_takes_browser_uploads_as_bootstrap_configures_it(
    template: dict[str, Any],
) -> None:
    condition, configured, absent = template["Resources"]["AssetBucket"]["Properties"][
        "CorsConfiguration"
    ]["Fn::If"]
    (cors,) = configured["CorsRules"]
    assert cors["AllowedMethods"] == CORS_METHODS
    assert cors["AllowedOrigins"] == {"Ref": "CorsAllowedOrigins"}
    assert (condition, absent) == ("HasCorsOrigins", {"Ref": "AWS::NoValue"})


def test_cors_is_off_unless_origins_are_listed(template: dict[str, Any]) -> None:
    """As on the embedded server (CATALOG_CORS_ORIGINS): no origin is allowed by default."""
    assert template["Parameters"]["CorsAllowedOrigins"]["Default"] == ""
    api = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["Fn::If"]
    assert api[0] == "HasCorsOrigins" and api[2] == {"Ref": "AWS::NoValue"}
    assert api[1]["AllowOrigins"] == {"Ref": "CorsAllowedOrigins"}


def test_cdn_never_serves_staged_uploads(template: dict[str, Any]) -> None:
    policy = template["Resources"]["AssetBucketPolicy"]["Properties"]["PolicyDocument"]
    denied = [
        s
        for s in statements({"PolicyDocument": policy})
        if s["Effect"] == "Deny" and s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert [s["Resource"] for s in denied] == [
        {"Fn::Sub": f"${{AssetBucket.Arn}}/{STAGING_PREFIX}/*"}
    ]


# ------------------------------------------------------------------ operations


def test_dead_letter_queues_and_functions_have_alarms(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()

    def watched(metric: str, dimension: str) -> set[str]:
        names = set()
        for alarm in alarms:
            properties = alarm["Properties"]
            if properties.get("MetricName") == metric:
                for d in properties["Dimensions"]:
                    if d["Name"] == dimension:
                        value = d["Value"]
                        names.add(value.get("Ref") or value["Fn::GetAtt"][0])
        return names

    dead_letter_queues = {
        "RelayFailureQueue",
        "ReevaluateFailureQueue",
        "ExampleAdapterDeadLetterQueue",
        "JobsDeadLetterQueue",
    }
    assert dead_letter_queues <= watched("ApproximateNumberOfMessagesVisible", "QueueName")
    assert watched("Errors", "FunctionName") == set(functions(template))
    assert watched("Throttles", "FunctionName") == set(functions(template))
    throttles = next(a for a in alarms if "Metrics" in a["Properties"])["Properties"]["Metrics"]
    assert {"ReadThrottleEvents", "WriteThrottleEvents"} == {
        m["MetricStat"]["Metric"]["MetricName"] for m in throttles if "MetricStat" in m
    }
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_outputs_name_what_operators_and_adapters_need(template: dict[str, Any]) -> None:
    assert {
        "ApiUrl",
        "TableName",
        "BucketName",
        "EventBusName",
        "AssetCdnDomain",
        "RelayFailureQueueUrl",
        "ReevaluateFailureQueueUrl",
        "ExampleAdapterDeadLetterQueueUrl",
    } <= set(template["Outputs"])
