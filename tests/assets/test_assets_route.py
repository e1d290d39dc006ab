from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from catalog.adapters.embedded.local_assets import LocalAssetStore
from catalog.entrypoints.api.head import HeadAsGet
from catalog.entrypoints.api.routers.assets import router
from tests.clocks import NOON, ManualSecondsClock

from .images import encoded

KEY = "acme/01JDPRODUCT/01JDIMAGE.png"
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


@pytest.fixture
def clock() -> ManualSecondsClock:
    return ManualSecondsClock(NOON)


@pytest.fixture
def store(tmp_path: Path, clock: ManualSecondsClock) -> LocalAssetStore:
    return LocalAssetStore(tmp_path, "http://testserver", b"k" * 32, clock=clock)


@pytest.fixture
def client(store: LocalAssetStore) -> TestClient:
    app = FastAPI()
    app.state.local_assets = store
    app.include_router(router)
    # HEAD is the app's (head.HeadAsGet answers it from every GET route), not the router's.
    app.add_middleware(HeadAsGet)
    return TestClient(app)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def assert_not_found(response: Response) -> None:
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem.keys() >= PROBLEM_FIELDS
    assert problem["status"] == 404
    assert problem["type"] == "/problems/not-found"  # the same type as any other 404 of the API


def test_signed_url_serves_the_bytes(
    client: TestClient, store: LocalAssetStore, clock: ManualSecondsClock
) -> None:
    data = encoded("PNG")
    store.put(KEY, data, "image/png")
    url = store.url_for(KEY)
    expires = int(url.rsplit("expires=", 1)[1].split("&")[0])

    response = client.get(path_of(url))

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    cache_control = response.headers["cache-control"]
    assert "private" in cache_control
    assert f"max-age={expires - int(clock.now)}" in cache_control
    assert "content-disposition" not in response.headers  # shown inline, not downloaded


def test_max_age_never_outlives_the_url(
    client: TestClient, store: LocalAssetStore, clock: ManualSecondsClock
) -> None:
    store.put(KEY, b"x", "image/png")
    url = store.url_for(KEY)
    expires = int(url.rsplit("expires=", 1)[1].split("&")[0])
    clock.now = expires - 5

    response = client.get(path_of(url))

    assert "max-age=5," in response.headers["cache-control"]


def test_etag_revalidation_answers_304(client: TestClient, store: LocalAssetStore) -> None:
    store.put(KEY, encoded("PNG"), "image/png")
    url = path_of(store.url_for(KEY))
    etag = client.get(url).headers["etag"]

    response = client.get(url, headers={"If-None-Match": f'"other", {etag}'})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_gives_headers_without_body(client: TestClient, store: LocalAssetStore) -> None:
    data = encoded("GIF")
    store.put("acme/p/i.gif", data, "image/gif")

    response = client.head(path_of(store.url_for("acme/p/i.gif")))

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["content-length"] == str(len(data))
    assert response.content == b""


def test_tampered_signature_is_a_problem_404(client: TestClient, store: LocalAssetStore) -> None:
    store.put(KEY, b"x", "image/png")
    url = path_of(store.url_for(KEY))
    base, signature = url.rsplit("signature=", 1)
    tampered = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert_not_found(client.get(f"{base}signature={tampered}"))


def test_expired_url_is_a_problem_404(
    client: TestClient, store: LocalAssetStore, clock: ManualSecondsClock
) -> None:
    store.put(KEY, b"x", "image/png")
    url = path_of(store.url_for(KEY))
    clock.now += 3 * 24 * 3600

    assert_not_found(client.get(url))


def test_deleted_object_is_a_problem_404(client: TestClient, store: LocalAssetStore) -> None:
    store.put(KEY, b"x", "image/png")
    url = path_of(store.url_for(KEY))
    store.delete(KEY)

    assert_not_found(client.get(url))


@pytest.mark.parametrize(
    "query",
    ["", "?expires=123", "?signature=abc", "?expires=soon&signature=abc", "?expires=²&signature=a"],
)
def test_missing_or_malformed_parameters_are_404_not_422(client: TestClient, query: str) -> None:
    assert_not_found(client.get(f"/assets/{KEY}{query}"))


def test_traversal_through_the_url_is_a_404(
    client: TestClient, store: LocalAssetStore, tmp_path: Path
) -> None:
    (tmp_path / "secret.key").write_text("top secret")
    store.put(KEY, b"x", "image/png")
    _, query = store.url_for(KEY).split("?")

    for path in (
        "/assets/acme/..%2Fsecret.key",
        "/assets/%2E%2E/secret.key",
        "/assets/secret.key/",
    ):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 404
        assert "top secret" not in response.text
