"""The console through the API's Lambda handler, as API Gateway's HTTP API (payload format
2.0) delivers /console requests: no JWT authorizer in front (no claims), cookies in the
event's `cookies` list and back in the response's. Signing in with OIDC goes to the fake
provider of tests/console/fake_issuer.py, which the function reaches over HTTP."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from PIL import Image
from typer.testing import CliRunner

from catalog.entrypoints import lambda_api
from catalog.entrypoints.cli import app as cli
from tests.aws.apigw_events import LambdaContext, http_event
from tests.aws.moto_serial import serialize_dynamodb_requests
from tests.aws.test_lambda_api import OFF_THE_COLD_PATH
from tests.conftest import AwsEndpoint
from tests.console.fake_issuer import CLIENT_ID, FakeIssuer, redirect_back, running_issuer

CALLBACK = "https://api.example.test/console/sign-in/callback"


@dataclass(frozen=True)
class Page:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]  # name -> the whole Set-Cookie value
    text: str


def get(path: str, query: dict[str, str] | None = None, cookies: Sequence[str] = ()) -> Page:
    return request("GET", path, query=query, cookies=cookies)


def request(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    cookies: Sequence[str] = (),
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> Page:
    event = http_event(method, path, claims=None, query=query, headers=headers, body=body)
    if cookies:
        event["cookies"] = list(cookies)
    response = handled(event)
    raw = response.get("body", "")
    body = base64.b64decode(raw).decode() if response.get("isBase64Encoded") else raw
    set_cookies = {value.split("=", 1)[0]: value for value in response.get("cookies") or ()}
    return Page(response["statusCode"], response.get("headers", {}), set_cookies, body)


def handled(event: dict[str, Any]) -> dict[str, Any]:
    """The handler's answer, called as Lambda's runtime calls it: where no event loop is
    running (in a pytest worker that ran a browser test, Playwright keeps one running on the
    main thread, and Mangum would refuse to start its own there)."""

    def run() -> dict[str, Any]:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return lambda_api.handler(event, LambdaContext())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    with ThreadPoolExecutor(max_workers=1) as runtime:
        return runtime.submit(run).result()


def cookie_pair(set_cookie: str) -> str:
    """The `name=value` a browser sends back for a Set-Cookie value."""
    parsed = SimpleCookie()
    parsed.load(set_cookie)
    [(name, morsel)] = parsed.items()
    return f"{name}={morsel.value}"


@pytest.fixture
def deployed(aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    """The API function's environment as template.yaml sets it, without OIDC."""
    serialize_dynamodb_requests()
    for name, value in {
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_CURSOR_SECRET": "lambda-console-cursor-secret-0123456789abcdef",
        "CATALOG_TABLE_NAME": "lambda-console",
        "CATALOG_BUCKET_NAME": "lambda-console-assets",
        "CATALOG_DATA_DIR": str(tmp_path / "never-used"),
        "CATALOG_RATE_LIMIT": "off",
        # The template passes the client id parameter even when it is left empty.
        "CATALOG_CONSOLE_OIDC_CLIENT_ID": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CATALOG_ASSET_BASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["aws", "bootstrap"])
    assert result.exit_code == 0, result.output
    lambda_api.reset()
    yield
    lambda_api.reset()


@pytest.fixture
def with_oidc(deployed: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIssuer]:
    with running_issuer() as issuer:
        issuer.redirect_uris = {CALLBACK}
        monkeypatch.setenv("CATALOG_JWT_ISSUER", issuer.url)
        monkeypatch.setenv("CATALOG_CONSOLE_OIDC_CLIENT_ID", CLIENT_ID)
        lambda_api.reset()
        yield issuer


def test_the_console_pages_answer_through_api_gateway(deployed: None) -> None:
    page = get("/console/sign-in")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Sign in to the console" in page.text
    assert "catalog console --merchant" in page.text  # no OIDC client: sign-in links
    assert page.headers["content-security-policy"].startswith("default-src 'none'")

    home = get("/console")
    assert (home.status, home.headers["location"]) == (303, "/console/products")
    # Signed out, a page sends the browser to sign in.
    products = get("/console/products")
    assert (products.status, products.headers["location"]) == (303, "/console/sign-in")
    stylesheet = get("/console/static/console.css")
    assert stylesheet.status == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


def test_signing_in_with_oidc_through_api_gateway(with_oidc: FakeIssuer) -> None:
    issuer = with_oidc
    issuer.account = {"sub": "dana", "merchant_id": "acme", "roles": ["merchant"]}
    assert "Sign in with your account" in get("/console/sign-in").text

    started = get("/console/sign-in/oidc")
    assert started.status == 303
    to_provider = started.headers["location"]
    assert to_provider.startswith(f"{issuer.url}/authorize?")
    # The redirect URI is the API's own URL, as API Gateway's Host header and scheme give it.
    assert dict(parse_qsl(urlsplit(to_provider).query))["redirect_uri"] == CALLBACK
    flow = started.cookies["catalog_console_oidc"].lower()
    assert {"httponly", "secure", "samesite=lax", "path=/console/sign-in"} <= {
        part.strip() for part in flow.split(";")
    }

    back = redirect_back(to_provider)
    signed_in = get(
        "/console/sign-in/callback",
        query=back,
        cookies=[cookie_pair(started.cookies["catalog_console_oidc"])],
    )
    assert signed_in.status == 200, signed_in.text
    assert 'http-equiv="refresh"' in signed_in.text
    session = signed_in.cookies["catalog_console"]
    assert {"httponly", "secure", "samesite=strict", "path=/console"} <= {
        part.strip() for part in session.lower().split(";")
    }

    products = get("/console/products", cookies=[cookie_pair(session)])
    assert products.status == 200
    assert "<h1>Products</h1>" in products.text
    assert "acme" in products.text


def signed_in_session(issuer: FakeIssuer) -> str:
    """The console's session cookie of acme's merchant, as a browser sends it back."""
    issuer.account = {"sub": "dana", "merchant_id": "acme", "roles": ["merchant"]}
    started = get("/console/sign-in/oidc")
    flow = cookie_pair(started.cookies["catalog_console_oidc"])
    back = redirect_back(started.headers["location"])
    signed_in = get("/console/sign-in/callback", query=back, cookies=[flow])
    return cookie_pair(signed_in.cookies["catalog_console"])


def test_an_image_goes_to_s3_with_a_ticket_and_is_confirmed_through_the_console(
    with_oidc: FakeIssuer,
) -> None:
    """What console.js does with an image too large for a request to the Lambda."""
    session = signed_in_session(with_oidc)
    created = handled(
        http_event(
            "POST",
            "/v1/merchants/acme/products",
            headers={"content-type": "application/json"},
            body=json.dumps({"sku": "RUG-1", "name": "Woven rug"}),
        )
    )
    assert created["statusCode"] == 201, created
    product_id = json.loads(created["body"])["id"]
    editor = get(f"/console/products/{product_id}", cookies=[session])
    match = re.search(r'name="csrf_token" value="([^"]+)"', editor.text)
    assert match is not None, editor.text
    console = {"accept": "application/json", "x-csrf-token": match[1]}

    asked = request(
        "POST",
        f"/console/products/{product_id}/image-uploads",
        cookies=[session],
        headers={**console, "content-type": "application/json"},
        body=json.dumps({"content_type": "image/png", "size": 2000}),
    )
    assert asked.status == 200, asked.text
    ticket = json.loads(asked.text)
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(png, format="PNG")
    # The browser's POST, to S3 (moto), not to the function.
    stored = httpx.post(ticket["url"], data=ticket["fields"], files={"file": png.getvalue()})
    assert stored.status_code < 300, stored.text
    assert (
        ticket["confirm_url"]
        == f"/console/products/{product_id}/image-uploads/{ticket['upload_id']}"
    )

    confirmed = request(
        "POST",
        ticket["confirm_url"],
        cookies=[session],
        headers={**console, "content-type": "application/x-www-form-urlencoded"},
        body=urlencode({"csrf_token": match[1], "alt": "A woven rug"}),
    )
    assert confirmed.status == 201, confirmed.text
    assert json.loads(confirmed.text) == {
        "redirect": f"/console/products/{product_id}?saved=image-added"
    }
    product = handled(http_event("GET", f"/v1/merchants/acme/products/{product_id}"))
    [image] = json.loads(product["body"])["images"]
    assert (image["id"], image["alt"]) == (ticket["upload_id"], "A woven rug")


def test_a_callback_without_its_flow_is_refused_through_api_gateway(
    with_oidc: FakeIssuer,
) -> None:
    refused = get("/console/sign-in/callback", query={"code": "c", "state": "s"})
    assert refused.status == 400
    assert "did not start in this browser" in refused.text
    assert "catalog_console" not in refused.cookies


def test_an_oidc_client_keeps_the_cold_path_light(deployed: None) -> None:
    """With the console's client configured, a fresh container answering API requests still
    loads neither PyJWT nor cryptography: the provider is first asked on the first sign-in."""
    script = """
import json, sys
from catalog.entrypoints import lambda_api
from tests.aws.apigw_events import LambdaContext, http_event
for event in (
    http_event("GET", "/health", claims=None),
    http_event("GET", "/v1/merchants/acme/products/01JD0000000000000000000000"),
):
    print(lambda_api.handler(event, LambdaContext())["statusCode"], file=sys.stderr)
print(json.dumps(sorted(sys.modules)))
"""
    env = {
        **os.environ,
        # Nobody listens there: a container that called the provider now would fail.
        "CATALOG_JWT_ISSUER": "http://127.0.0.1:9",
        "CATALOG_CONSOLE_OIDC_CLIENT_ID": CLIENT_ID,
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
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
    assert "catalog.adapters.oidc_sign_in" in loaded  # configured, so wired
    assert loaded.isdisjoint(OFF_THE_COLD_PATH), loaded.intersection(OFF_THE_COLD_PATH)
