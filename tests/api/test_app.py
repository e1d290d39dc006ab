"""The application shell: problems for every failure, health, OpenAPI and offline docs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from msgspec.structs import replace

from catalog.adapters.aws.exceptions import DynamoDbTransactionFailed
from catalog.bootstrap import Container
from catalog.domain import limits
from catalog.entrypoints.api.app import create_app
from tests.api.support import Api, assert_problem, bearer, product_body


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    problem = assert_problem(client.get("/v2/whatever"), 404)
    assert problem["type"] == "/problems/not-found"
    assert problem["title"] == "Not found"
    assert problem["instance"] == "/v2/whatever"


def test_wrong_method_is_a_405_problem_allowing_every_method_of_the_path(
    client: TestClient,
) -> None:
    response = client.put("/v1/merchants/acme/products")
    problem = assert_problem(response, 405)
    assert problem["type"] == "/problems/method-not-allowed"
    assert response.headers["allow"] == "GET, HEAD, POST"

    product = "/v1/merchants/acme/products/01JDPRODUCT0000000000000000"
    response = client.put(product)
    assert_problem(response, 405)
    assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH"


class ExplodingStore:
    """A store failing the way a bug or an unreachable database does."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("connection to db-internal.example:5432 refused (secret=abc)")

        return fail


def test_unexpected_error_is_a_500_problem_without_internals(
    container: Container, acme: Api, caplog: pytest.LogCaptureFixture
) -> None:
    broken = replace(container, ctx=replace(container.ctx, store=ExplodingStore()))
    with (
        TestClient(create_app(broken), raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR, logger="catalog.api"),
    ):
        response = client.get(acme.products_url(), headers=acme.headers)
    problem = assert_problem(response, 500)
    assert problem["type"] == "/problems/internal-error"
    assert "db-internal" not in response.text
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text
    assert "connection to db-internal" in caplog.text  # the operator gets the details


def test_lifespan_starts_and_closes_the_container(container: Container) -> None:
    calls: list[str] = []

    class Worker:
        def start(self) -> None:
            calls.append("start")

        def stop(self, timeout: float = 5.0) -> None:
            calls.append("stop")

    container.workers.append(Worker())
    app = create_app(container)
    assert calls == []  # nothing runs at build time
    with TestClient(app) as client:
        assert calls == ["start"]
        client.get("/health")
    assert calls == ["start", "stop"]


def test_remote_store_reads_run_in_the_thread_pool(container: Container, acme: Api) -> None:
    remote = replace(container, settings=container.settings.model_copy(update={"backend": "aws"}))
    app = create_app(remote)
    assert app.state.inline_reads is False
    created = acme.create_ok()
    with TestClient(app) as client:
        api = Api(client, acme.headers["Authorization"].removeprefix("Bearer "), "acme")
        assert api.get(created["id"]).json() == created
        assert api.list().json()["items"] == [created]
        assert api.history(created["id"]).status_code == 200


def test_app_state_exposes_the_container(container: Container) -> None:
    app = create_app(container)
    assert app.state.container is container
    assert app.state.local_assets is None
    assert app.state.inline_reads is True
    assert not any(getattr(r, "path", "").startswith("/assets") for r in app.routes)


# ------------------------------------------------------------------ OpenAPI and docs


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_openapi_lists_every_route_of_the_contract(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    base = "/v1/merchants/{merchant_id}/products"
    assert set(paths[base]) == {"get", "post"}
    assert set(paths[base + "/{product_id}"]) == {"get", "patch", "delete"}
    assert "post" in paths[base + "/{product_id}/status"]
    assert "get" in paths[base + "/{product_id}/history"]
    assert "post" in paths[base + "/{product_id}/images"]
    assert "delete" in paths[base + "/{product_id}/images/{image_id}"]
    assert "/health" in paths


def test_openapi_documents_bodies_limits_and_problems(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    create = schemas["ProductCreate"]
    assert create["additionalProperties"] is False
    assert set(create["required"]) == {"sku", "name"}
    assert create["properties"]["sku"]["maxLength"] == limits.MAX_SKU_LENGTH
    assert create["properties"]["name"]["maxLength"] == limits.MAX_NAME_LENGTH
    assert schemas["Money"]["properties"]["amount"]["type"] == "integer"
    assert schemas["Money"]["properties"]["amount"]["maximum"] == limits.MAX_AMOUNT
    assert {"ProductUpdate", "StatusChange", "ProductView", "ProductPage", "HistoryPage"} <= set(
        schemas
    )

    base = "/v1/merchants/{merchant_id}/products"
    post = openapi["paths"][base]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductCreate"
    }
    assert "201" in post["responses"]
    assert "application/problem+json" in post["responses"]["422"]["content"]
    patch = openapi["paths"][base + "/{product_id}"]["patch"]
    assert "application/merge-patch+json" in patch["requestBody"]["content"]
    assert any(p["name"] == "If-Match" for p in patch["parameters"])
    upload = openapi["paths"][base + "/{product_id}/images"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "HTTPValidationError" not in schemas
    assert openapi["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert openapi["security"] == [{"bearerAuth": []}]
    assert openapi["paths"]["/health"]["get"]["security"] == []


def test_openapi_is_not_built_at_app_creation(container: Container) -> None:
    app = create_app(container)
    assert app.openapi_schema is None


EXTERNAL_URL = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]?\s*(?:https?:)?//""", re.I)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_everything_locally(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "/openapi.json" in html
    assert "http://" not in html and "https://" not in html
    assert not EXTERNAL_URL.search(html)
    for asset in re.findall(r"""(?:src|href)="([^"]+)""", html):
        assert asset.startswith("/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000


def test_docs_and_openapi_need_no_token(client: TestClient) -> None:
    assert client.get("/openapi.json", headers=bearer("nonsense")).status_code == 200
    assert client.get("/docs").status_code == 200


class BusyStore:
    """A store whose writes are refused for now, as a throttled DynamoDB's are."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(self, change: Any) -> None:
        raise DynamoDbTransactionFailed(change.product.id, [{"Code": "ThrottlingError"}])


def test_a_busy_store_is_a_503_to_retry_not_a_500(container: Container, acme: Api) -> None:
    busy = replace(container, ctx=replace(container.ctx, store=BusyStore(container.ctx.store)))
    with TestClient(create_app(busy), raise_server_exceptions=False) as client:
        response = client.post(acme.products_url(), headers=acme.headers, json=product_body())
    problem = assert_problem(response, 503)
    assert problem["type"] == "/problems/store-unavailable"
    assert response.headers["retry-after"] == "1"


def test_a_product_that_would_outgrow_a_document_is_413_and_nothing_changes(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    # Each request is within the body limit; together they would outgrow a stored document.
    big = {f"k{i}": "a" * 1900 for i in range(limits.MAX_ATTRIBUTES)}
    product = acme.create_ok(product_body(attributes=big))
    count = len(events())

    overrides = {
        f"c{n}": {"attributes": {f"k{i}": "b" * 1900 for i in range(60)}} for n in range(2)
    }
    response = acme.patch(product["id"], {"channel_overrides": overrides})

    problem = assert_problem(response, 413)
    assert problem["type"] == "/problems/product-too-large"
    assert acme.get(product["id"]).json() == product
    assert len(events()) == count
