"""Safe headers and origins (issue 10): nosniff and a Content Security Policy on every answer,
`Cache-Control: private` on authenticated reads, CORS only for listed origins, and request
headers over the documented limit refused with 431."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from msgspec.structs import replace

from catalog.adapters.memory.store import MemoryStore
from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app
from catalog.entrypoints.api.header_limit import MAX_REQUEST_HEADER_BYTES
from catalog.service import products as use_cases
from catalog.settings import parse_request_rate
from tests.api.support import Api, assert_problem, bearer, png

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SHOP = "https://shop.example.com"


@pytest.fixture
def backend() -> MemoryStore:
    # Headers are added around every route whatever the store: one backend is enough.
    return MemoryStore()


def assert_safe(response: httpx.Response) -> None:
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert len(response.headers.get_list("content-security-policy")) == 1


def assert_api_policy(response: httpx.Response) -> None:
    assert_safe(response)
    assert response.headers["content-security-policy"] == API_POLICY


# ------------------------------------------------------------------ nosniff and CSP


def test_json_answers_carry_nosniff_and_a_policy_that_allows_nothing(
    client: TestClient, acme: Api
) -> None:
    created = acme.create_ok()
    for response in [
        acme.get(created["id"]),
        acme.list(),
        acme.history(created["id"]),
        acme.patch(created["id"], {"name": "Renamed"}),
        acme.client.get("/health"),
        acme.client.get("/openapi.json"),
        acme.client.head(acme.product_url(created["id"]), headers=acme.headers),
    ]:
        assert response.status_code < 300, response.text
        assert_api_policy(response)


def test_problem_answers_carry_them_too(client: TestClient, acme: Api, globex: Api) -> None:
    created = acme.create_ok()
    for response, status in [
        (client.get(acme.products_url()), 401),
        (globex.as_merchant("acme").get(created["id"]), 404),
        (client.get("/no/such/route"), 404),
        (acme.patch(created["id"], {"name": "x"}, if_match='"99"'), 412),
        (client.delete("/health"), 405),
    ]:
        assert_problem(response, status)
        assert_api_policy(response)


def test_an_unexpected_error_carries_them_too(
    app: FastAPI, acme: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(use_cases, "list_products", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(acme.products_url(), headers=acme.headers)
    assert_problem(response, 500)
    assert_api_policy(response)


def test_static_files_carry_them(client: TestClient) -> None:
    response = client.get("/docs/static/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert_api_policy(response)


def _inline_script_hashes(html: str) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    }


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_may_run_exactly_their_own_scripts(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_safe(response)
    policy = _directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # Scripts: the page's origin (the vendored assets) and its inline scripts by hash, no
    # 'unsafe-inline', no 'unsafe-eval', no other host.
    html = response.text
    assert set(policy["script-src"]) == {"'self'", *_inline_script_hashes(html)}
    # Every asset the page names is on this origin, answers, and is served with the type a
    # browser requires under nosniff.
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for asset in assets:
        assert asset.startswith("/docs/static/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        suffix = asset[asset.rindex(".") :]
        assert served.headers["content-type"].startswith(expected[suffix]), asset
    # The spec the page loads is on this origin too (connect-src 'self').
    assert "'self'" in policy["connect-src"]
    assert "/openapi.json" in html


def test_the_swagger_page_policy_follows_its_root_path(app: FastAPI) -> None:
    with TestClient(app, root_path="/prod") as client:
        response = client.get("/docs")
    html = response.text
    assert "/prod/openapi.json" in html
    policy = _directives(response.headers["content-security-policy"])
    assert set(policy["script-src"]) == {"'self'", *_inline_script_hashes(html)}


# ------------------------------------------------------------------ Cache-Control


def test_authenticated_reads_are_private(client: TestClient, acme: Api) -> None:
    created = acme.create_ok()
    acme.upload(created["id"], png())
    for response in [acme.list(), acme.history(created["id"])]:
        assert response.status_code == 200
        assert response.headers.get_list("cache-control") == ["private"]
    head = client.head(acme.products_url(), headers=acme.headers)
    assert head.headers.get_list("cache-control") == ["private"]
    # GET product says more on its own (revalidate with the ETag): kept, not doubled.
    product = acme.get(created["id"])
    assert product.headers.get_list("cache-control") == ["private, no-cache"]
    not_modified = acme.get(created["id"], headers={"If-None-Match": product.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.headers.get_list("cache-control") == ["private, no-cache"]


def test_anonymous_reads_and_writes_are_not_marked_private(client: TestClient, acme: Api) -> None:
    assert "cache-control" not in client.get("/health").headers
    assert "cache-control" not in client.get("/openapi.json").headers
    assert "cache-control" not in acme.create().headers
    # A refused token authenticated nobody.
    refused = client.get(acme.products_url(), headers=bearer("not-a-token"))
    assert refused.status_code == 401
    assert "cache-control" not in refused.headers


# ------------------------------------------------------------------ CORS


@pytest.fixture
def browser_app(container: Container) -> FastAPI:
    settings = container.settings.model_copy(
        update={"cors_origins": [SHOP, "http://localhost:3000"]}
    )
    return create_app(replace(container, settings=settings))


@pytest.fixture
def browser_client(browser_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(browser_app) as client:
        yield client


def preflight(client: TestClient, origin: str, method: str = "PATCH", **extra: str) -> Any:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, if-match",
        **extra,
    }
    return client.options("/v1/merchants/acme/products/01JD8X6B2Q3R4S5T6V7W8X9Y0Z", headers=headers)


def test_cors_is_off_by_default(client: TestClient, acme: Api) -> None:
    answer = preflight(client, SHOP)
    assert_problem(answer, 405)  # no route takes OPTIONS, and nothing answers preflights
    assert not [name for name in answer.headers if name.startswith("access-control-")]
    read = client.get(acme.products_url(), headers={**acme.headers, "Origin": SHOP})
    assert read.status_code == 200
    assert "access-control-allow-origin" not in read.headers


def test_a_listed_origin_gets_its_preflight_answered(browser_client: TestClient) -> None:
    answer = preflight(
        browser_client,
        SHOP,
        **{
            "Access-Control-Request-Headers": "authorization, content-type, if-match, "
            "idempotency-key, if-none-match"
        },
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == SHOP
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "idempotency-key",
    } <= allowed
    methods = {m.strip() for m in answer.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    assert answer.headers["access-control-max-age"] == "3600"
    assert "access-control-allow-credentials" not in answer.headers  # tokens, never cookies
    assert_safe(answer)


def test_a_listed_origin_may_read_the_etag_and_retry_after(
    browser_client: TestClient, principals: Any
) -> None:
    auth = {**bearer(principals.merchant("acme")), "Origin": "http://localhost:3000"}
    created = browser_client.post(
        "/v1/merchants/acme/products", headers=auth, json={"sku": "TS-1", "name": "Trail shoe"}
    )
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == "http://localhost:3000"
    exposed = {
        h.strip().lower() for h in created.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "location", "retry-after", "idempotent-replayed"} <= exposed
    assert "origin" in created.headers["vary"].lower()


@pytest.mark.parametrize(
    ("origin", "extra", "refused"),
    [
        ("https://evil.example", {}, ["origin"]),
        (SHOP + ".evil.example", {}, ["origin"]),
        (SHOP, {"Access-Control-Request-Headers": "x-forwarded-host"}, ["headers"]),
    ],
)
def test_anything_else_gets_a_refused_preflight_problem(
    browser_client: TestClient, origin: str, extra: dict[str, str], refused: list[str]
) -> None:
    answer = preflight(browser_client, origin, **extra)
    problem = assert_problem(answer, 403)
    assert problem["type"] == "/problems/cors-refused"
    assert problem["refused"] == refused
    assert not [name for name in answer.headers if name.startswith("access-control-")]
    assert_api_policy(answer)


def test_an_unlisted_origin_gets_no_cors_headers_on_its_requests(
    browser_client: TestClient, principals: Any
) -> None:
    auth = {**bearer(principals.merchant("acme")), "Origin": "https://evil.example"}
    read = browser_client.get("/v1/merchants/acme/products", headers=auth)
    assert read.status_code == 200  # a browser withholds it from the page's scripts
    assert "access-control-allow-origin" not in read.headers


def test_a_listed_origins_script_may_read_a_429(container: Container) -> None:
    settings = container.settings.model_copy(
        update={"cors_origins": [SHOP], "rate_limit": parse_request_rate("1/h,burst=1")}
    )
    with TestClient(create_app(replace(container, settings=settings))) as client:
        assert client.get("/health", headers={"Origin": SHOP}).status_code == 200
        refused = client.get("/health", headers={"Origin": SHOP})
    assert_problem(refused, 429)
    assert refused.headers["access-control-allow-origin"] == SHOP
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()
    assert_api_policy(refused)


def test_origins_are_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from catalog.settings import Settings

    monkeypatch.setenv("CATALOG_CORS_ORIGINS", " https://shop.example.com/ ,http://localhost:3000")
    assert Settings().cors_origins == [SHOP, "http://localhost:3000"]
    for wrong in ["shop.example.com", "https://shop.example.com/app", "ftp://x.example"]:
        monkeypatch.setenv("CATALOG_CORS_ORIGINS", wrong)
        with pytest.raises(ValueError, match="is not an origin: give scheme://host"):
            Settings()
    monkeypatch.delenv("CATALOG_CORS_ORIGINS")
    assert Settings().cors_origins == []


# ------------------------------------------------------------------ 431


def test_request_headers_over_the_limit_get_431(client: TestClient, acme: Api) -> None:
    just_under = {"x-padding": "a" * (MAX_REQUEST_HEADER_BYTES - 400)}
    assert client.get("/health", headers=just_under).status_code == 200
    oversized = {"x-padding": "a" * MAX_REQUEST_HEADER_BYTES}
    for response in [
        client.get("/health", headers=oversized),
        client.get(acme.products_url(), headers={**acme.headers, **oversized}),
        # Before anything reads them: the token is not even looked at.
        client.post(acme.products_url(), headers={**bearer("not-a-token"), **oversized}),
    ]:
        problem = assert_problem(response, 431)
        assert problem["type"] == "/problems/request-headers-too-large"
        assert problem["limit"] == MAX_REQUEST_HEADER_BYTES
        assert_api_policy(response)


def test_the_limit_counts_every_header_name_and_value(app: FastAPI) -> None:
    captured: list[int] = []

    async def measure(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            captured.append(sum(len(n) + len(v) for n, v in scope["headers"]))
        await app(scope, receive, send)

    with TestClient(measure) as client:  # type: ignore[arg-type]
        client.get("/health")
        base = captured[-1]
        pad = MAX_REQUEST_HEADER_BYTES - base - len("x-padding")
        assert client.get("/health", headers={"x-padding": "a" * pad}).status_code == 200
        assert captured[-1] == MAX_REQUEST_HEADER_BYTES
        refused = client.get("/health", headers={"x-padding": "a" * (pad + 1)})
        assert refused.status_code == 431
