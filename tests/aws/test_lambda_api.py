"""The Lambda handler as API Gateway invokes it: HTTP API payload format 2.0 events, with the
claims of a JWT authorizer, against DynamoDB and S3 on moto, resources created by
`catalog aws bootstrap`. Every route goes through `handler(event, context)` here.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.bootstrap import ConfigurationError
from catalog.entrypoints import lambda_api
from catalog.entrypoints.cli import app as cli
from tests.api.support import complete_body, png
from tests.aws.apigw_events import ACME, GLOBEX, PLATFORM, LambdaContext, http_event
from tests.aws.moto_serial import serialize_dynamodb_requests
from tests.conftest import AwsEndpoint

CURSOR_SECRET = "lambda-tests-cursor-secret-0123456789abcdef"
BUCKET = "lambda-tests-assets"
TABLE = "lambda-tests"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def invoke(event: dict[str, Any]) -> Reply:
    response = lambda_api.handler(event, LambdaContext())
    raw = response.get("body", "")
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    return Reply(response["statusCode"], response.get("headers", {}), body)


def json_request(
    method: str, path: str, payload: Any, claims: dict[str, str] = ACME, **headers: str
) -> Reply:
    content_type = headers.pop("content_type", "application/json")
    return invoke(
        http_event(
            method,
            path,
            claims=claims,
            headers={"content-type": content_type, **headers},
            body=json.dumps(payload),
        )
    )


def multipart(data: bytes, filename: str, content_type: str, alt: str) -> tuple[bytes, str]:
    boundary = "----catalog" + uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="alt"\r\n\r\n{alt}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def deployed(aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Any]:
    """The API's environment on Lambda, its resources created by `catalog aws bootstrap`."""
    serialize_dynamodb_requests()
    for name, value in {
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_CURSOR_SECRET": CURSOR_SECRET,
        "CATALOG_TABLE_NAME": TABLE,
        "CATALOG_BUCKET_NAME": BUCKET,
        "CATALOG_DATA_DIR": str(tmp_path / "never-used"),
        "CATALOG_RATE_LIMIT": "off",  # as template.yaml sets it
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CATALOG_ASSET_BASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["aws", "bootstrap"])
    assert result.exit_code == 0, result.output
    lambda_api.reset()
    yield aws.client("s3")
    lambda_api.reset()


PRODUCTS = "/v1/merchants/acme/products"


def test_health_openapi_and_docs_answer_without_credentials(deployed: Any) -> None:
    health = invoke(http_event("GET", "/health", claims=None))
    assert (health.status, health.json()) == (200, {"status": "ok"})

    spec = invoke(http_event("GET", "/openapi.json", claims=None))
    assert spec.status == 200
    assert "/v1/merchants/{merchant_id}/products/{product_id}" in spec.json()["paths"]

    docs = invoke(http_event("GET", "/docs", claims=None))
    assert docs.status == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert b"swagger" in docs.body.lower()
    # No public bucket, no local folder: the embedded deployment's asset route is not there.
    assert invoke(http_event("GET", "/assets/acme/x.png", claims=None)).status == 404


def test_safe_headers_and_the_header_limit_through_api_gateway(deployed: Any) -> None:
    health = invoke(http_event("GET", "/health", claims=None))
    assert health.headers["x-content-type-options"] == "nosniff"
    assert health.headers["content-security-policy"].startswith("default-src 'none'")
    listed = invoke(http_event("GET", PRODUCTS))
    assert listed.status == 200
    assert listed.headers["cache-control"] == "private"
    # API Gateway takes up to 10,240 bytes of request line and headers; the app refuses more
    # than its documented limit in that range.
    refused = invoke(http_event("GET", PRODUCTS, headers={"x-padding": "a" * 9000}))
    assert refused.status == 431
    assert refused.json()["type"] == "/problems/request-headers-too-large"
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_create_read_and_list_through_api_gateway(deployed: Any) -> None:
    body = complete_body("TS-1", attributes={"color": "red"})
    created = json_request("POST", PRODUCTS, body, **{"Idempotency-Key": "k-1"})
    assert created.status == 201, created.body
    product = created.json()
    assert product["merchant_id"] == "acme"
    assert created.headers["location"] == f"{PRODUCTS}/{product['id']}"
    assert created.headers["etag"] == '"1"'

    replay = json_request("POST", PRODUCTS, body, **{"Idempotency-Key": "k-1"})
    assert replay.status == 201
    assert replay.json()["id"] == product["id"]
    assert replay.headers.get("idempotent-replayed") == "true"

    url = f"{PRODUCTS}/{product['id']}"
    read = invoke(http_event("GET", url))
    assert read.status == 200
    assert read.json() == product
    not_modified = invoke(http_event("GET", url, headers={"If-None-Match": read.headers["etag"]}))
    assert not_modified.status == 304
    assert not_modified.body == b""

    json_request("POST", PRODUCTS, complete_body("TS-2"))
    first = invoke(http_event("GET", PRODUCTS, query={"limit": 1}))
    assert first.status == 200
    page = first.json()
    assert [item["sku"] for item in page["items"]] == ["TS-1"]
    second = invoke(http_event("GET", PRODUCTS, query={"limit": 1, "cursor": page["next_cursor"]}))
    assert [item["sku"] for item in second.json()["items"]] == ["TS-2"]
    drafts = invoke(http_event("GET", PRODUCTS, query={"status": "DRAFT"})).json()
    assert len(drafts["items"]) == 2


def test_update_images_lifecycle_and_history_through_api_gateway(deployed: Any) -> None:
    s3 = deployed
    product = json_request("POST", PRODUCTS, complete_body("TS-1")).json()
    url = f"{PRODUCTS}/{product['id']}"

    patched = json_request(
        "PATCH",
        url,
        {"attributes": {"color": "blue"}},
        content_type="application/merge-patch+json",
        **{"If-Match": '"1"'},
    )
    assert patched.status == 200, patched.body
    assert patched.json()["attributes"] == {"color": "blue"}
    stale = json_request(
        "PATCH",
        url,
        {"name": "Lost update"},
        content_type="application/merge-patch+json",
        **{"If-Match": '"1"'},
    )
    assert stale.status == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert stale.json()["status"] == 412

    incomplete = json_request("POST", f"{url}/status", {"status": "READY"})
    assert incomplete.status == 422

    # The image arrives as API Gateway delivers a binary body: base64, isBase64Encoded.
    image = png((64, 48))
    form, content_type = multipart(image, "shoe.png", "image/png", "Side view")
    uploaded = invoke(
        http_event(
            "POST",
            f"{url}/images",
            headers={"content-type": content_type},
            body=form,
            binary=True,
        )
    )
    assert uploaded.status == 201, uploaded.body
    [stored_image] = uploaded.json()["images"]
    assert (stored_image["width"], stored_image["height"]) == (64, 48)
    assert stored_image["bytes"] == len(image)
    assert stored_image["alt"] == "Side view"
    assert f"/{BUCKET}/" in stored_image["url"] and "X-Amz-Signature=" in stored_image["url"]
    [stored] = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    obj = s3.get_object(Bucket=BUCKET, Key=stored["Key"])
    assert obj["Body"].read() == image  # the very bytes, not their base64
    assert obj["ContentType"] == "image/png"

    ready = json_request("POST", f"{url}/status", {"status": "READY", "reason": "complete"})
    assert ready.status == 200
    assert ready.json()["status"] == "READY"

    removed = invoke(http_event("DELETE", f"{url}/images/{stored_image['id']}"))
    assert removed.status == 200
    assert removed.json()["images"] == []
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0

    deleted = invoke(http_event("DELETE", url))
    assert deleted.status == 200
    assert deleted.json()["status"] == "INACTIVE"
    again = invoke(http_event("DELETE", url))
    assert again.status == 200
    assert again.json()["version"] == deleted.json()["version"]

    history = invoke(http_event("GET", f"{url}/history"))
    assert history.status == 200
    entries = history.json()["items"]
    assert entries[0]["transition"]["to"] == "INACTIVE"
    assert entries[-1]["transition"]["to"] == "DRAFT"
    assert {entry["actor"] for entry in entries} == {"acme-user"}


def test_head_and_unknown_query_parameters_through_api_gateway(deployed: Any) -> None:
    created = json_request("POST", PRODUCTS, complete_body("TS-1")).json()
    url = f"{PRODUCTS}/{created['id']}"
    get = invoke(http_event("GET", url))
    head = invoke(http_event("HEAD", url))
    assert head.status == 200
    assert head.body == b""
    assert head.headers["etag"] == get.headers["etag"] == '"1"'
    listed = invoke(http_event("GET", PRODUCTS, query={"sku": "TS-1"}))
    assert listed.status == 400
    assert listed.json()["type"] == "/problems/unknown-query-parameter"
    assert listed.json()["parameters"] == ["sku"]


def test_merchants_see_only_their_products_and_platform_acts_for_any(deployed: Any) -> None:
    product = json_request("POST", PRODUCTS, complete_body("TS-1")).json()
    url = f"{PRODUCTS}/{product['id']}"

    hidden = invoke(http_event("GET", url, claims=GLOBEX))
    assert hidden.status == 404
    assert invoke(http_event("GET", PRODUCTS, claims=GLOBEX)).status == 404
    assert invoke(http_event("DELETE", url, claims=GLOBEX)).status == 404

    # Roles rendered as "[merchant platform]": the platform role is recognised.
    read = invoke(http_event("GET", url, claims=PLATFORM))
    assert read.status == 200
    renamed = json_request(
        "PATCH",
        url,
        {"name": "Renamed by ops"},
        claims=PLATFORM,
        content_type="application/merge-patch+json",
    )
    assert renamed.status == 200
    assert renamed.json()["name"] == "Renamed by ops"
    history = invoke(http_event("GET", f"{url}/history")).json()["items"]
    assert history[0]["actor"] == "ops-admin"


def test_a_channel_token_acts_only_for_the_merchants_its_scope_claim_names(
    deployed: Any,
) -> None:
    product = json_request("POST", PRODUCTS, complete_body("TS-1")).json()
    url = f"{PRODUCTS}/{product['id']}"
    # Claims as API Gateway renders them: an array claim as "[a b]".
    adapter = {"sub": "shop-adapter", "roles": "[channel:shop]", "merchants": "[globex]"}

    assert invoke(http_event("GET", url, claims=adapter)).status == 404
    assert invoke(http_event("GET", PRODUCTS, claims=adapter)).status == 404
    outcome = {"state": "FAILED", "product_version": 1, "message": "probe"}
    reported = json_request("PUT", f"{url}/channels/shop/listing", outcome, claims=adapter)
    assert reported.status == 404
    assert invoke(http_event("GET", url, claims={**adapter, "merchants": "[acme]"})).status == 200


def test_a_route_without_the_jwt_authorizer_gets_401(deployed: Any) -> None:
    response = invoke(
        http_event("GET", PRODUCTS, claims=None, headers={"Authorization": "Bearer forged"})
    )
    assert response.status == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_each_invocation_logs_json_with_the_request_id_and_publishes_metrics(
    deployed: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(http_event("GET", "/health", claims=None, request_id="req-cold"))
    invoke(http_event("GET", f"{PRODUCTS}/01JD0000000000000000000000", request_id="req-404"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]

    logs = [line for line in lines if line.get("message") == "request"]
    assert [(log["correlation_id"], log["status"]) for log in logs] == [
        ("req-cold", 200),
        ("req-404", 404),
    ]
    assert [log["cold_start"] for log in logs] == [True, False]
    assert all(log["service"] == "catalog-api" for log in logs)

    metrics = [line for line in lines if "_aws" in line]
    assert len(metrics) == 2  # flushed once per invocation
    namespaces = {
        directive["Namespace"]
        for blob in metrics
        for directive in blob["_aws"]["CloudWatchMetrics"]
    }
    assert namespaces == {"Catalog"}
    cold, warm = metrics
    assert [total(cold, name) for name in ("ColdStart", "Requests", "Status2xx")] == [1, 1, 1]
    assert "ColdStart" not in warm and "Status2xx" not in warm
    assert total(warm, "Status4xx") == 1
    assert total(warm, "Latency") >= 0


def total(blob: dict[str, Any], metric: str) -> float:
    """A metric's value in an embedded-metric-format blob (one number or a list of them)."""
    value = blob[metric]
    return float(sum(value)) if isinstance(value, list) else float(value)


def test_the_container_is_built_once_and_reused(deployed: Any) -> None:
    invoke(http_event("GET", "/health", claims=None))
    first = lambda_api.runtime()
    invoke(http_event("GET", PRODUCTS))
    assert lambda_api.runtime() is first


def test_a_health_check_creates_no_aws_client_and_a_read_creates_dynamodbs(
    deployed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session and the clients are made on first use: a cold container's health check
    pays for none of them (docs/performance.md, "Cold start"); a product read for DynamoDB's."""
    import catalog.bootstrap

    created: list[str] = []
    real_client, real_session = catalog.bootstrap.aws_client, catalog.bootstrap.aws_session

    def client(service: str, **options: Any) -> Any:
        created.append(service)
        return real_client(service, **options)

    def session() -> Any:
        created.append("session")
        return real_session()

    monkeypatch.setattr(catalog.bootstrap, "aws_client", client)
    monkeypatch.setattr(catalog.bootstrap, "aws_session", session)
    assert invoke(http_event("GET", "/health", claims=None)).status == 200
    assert created == []
    assert invoke(http_event("GET", f"{PRODUCTS}/01JD0000000000000000000000")).status == 404
    assert created == ["dynamodb", "session"]


def test_missing_cursor_secret_fails_at_the_first_invocation(
    deployed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CATALOG_CURSOR_SECRET")
    with pytest.raises(ConfigurationError, match="CATALOG_CURSOR_SECRET"):
        invoke(http_event("GET", "/health", claims=None))


def test_short_cursor_secret_is_refused(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_CURSOR_SECRET", "short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        invoke(http_event("GET", "/health", claims=None))


def test_local_tokens_are_refused_on_lambda(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_AUTH", "local")
    with pytest.raises(ConfigurationError, match="CATALOG_AUTH=apigw"):
        invoke(http_event("GET", "/health", claims=None))


# Modules the Lambda never needs; importing any of them would slow every cold start.
OFF_THE_COLD_PATH = [
    "PIL",
    "httpx",
    "jwt",
    "cryptography",
    "standardwebhooks",
    "uvicorn",
    "typer",
    "sqlite3",
    "catalog.adapters.embedded.sqlite_store",
    "catalog.adapters.embedded.relay",
    "catalog.adapters.embedded.local_assets",
    "catalog.adapters.local_tokens",
]


def test_the_cold_path_leaves_heavy_modules_unimported(aws: AwsEndpoint) -> None:
    """In a fresh interpreter: import the handler, answer a health check and a product read."""
    script = f"""
import json, sys
from catalog.entrypoints import lambda_api
from tests.aws.apigw_events import ACME, GLOBEX, PLATFORM, LambdaContext, http_event
for event in (
    http_event("GET", "/health", claims=None),
    http_event("GET", "{PRODUCTS}/01JD0000000000000000000000"),
):
    print(lambda_api.handler(event, LambdaContext())["statusCode"], file=sys.stderr)
print(json.dumps(sorted(sys.modules)))
"""
    env = {
        **os.environ,
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_CURSOR_SECRET": CURSOR_SECRET,
        "CATALOG_TABLE_NAME": TABLE,
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    CliRunner().invoke(cli, ["aws", "bootstrap"], env=env, catch_exceptions=False)
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.split() == ["200", "404"]
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert loaded.isdisjoint(OFF_THE_COLD_PATH), loaded.intersection(OFF_THE_COLD_PATH)


def test_a_named_stage_prefix_is_stripped(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stage other than $default puts its name before every path: /prod/health."""
    monkeypatch.setenv("CATALOG_API_GATEWAY_BASE_PATH", "/prod")
    response = invoke(http_event("GET", "/prod/health", claims=None))
    assert (response.status, response.json()) == (200, {"status": "ok"})


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every AWS API call any boto3 client makes, as (service, operation)."""
    from botocore.client import BaseClient

    calls: list[tuple[str, str]] = []
    original = BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        calls.append((self.meta.service_model.service_name, operation))
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def test_get_and_list_spend_one_dynamodb_call_and_no_s3_call(
    deployed: Any, aws_calls: list[tuple[str, str]]
) -> None:
    product = json_request("POST", PRODUCTS, complete_body("COST-1")).json()
    form, content_type = multipart(png(), "a.png", "image/png", "alt")
    uploaded = invoke(
        http_event(
            "POST",
            f"{PRODUCTS}/{product['id']}/images",
            headers={"content-type": content_type},
            body=form,
            binary=True,
        )
    )
    assert uploaded.status == 201
    aws_calls.clear()

    got = invoke(http_event("GET", f"{PRODUCTS}/{product['id']}"))
    assert got.status == 200
    assert "X-Amz-Signature=" in got.json()["images"][0]["url"]  # resolved, not fetched
    assert aws_calls == [("dynamodb", "GetItem")]

    aws_calls.clear()
    listed = invoke(http_event("GET", PRODUCTS))
    assert listed.status == 200 and listed.json()["items"]
    assert aws_calls == [("dynamodb", "Query")]
