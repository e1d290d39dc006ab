"""HEAD wherever GET works; query parameters a route does not take are a 400, not ignored."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from msgspec.structs import replace

from catalog.adapters.embedded.local_assets import LocalAssetStore
from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app
from tests.api.support import Api, assert_problem, png


@pytest.fixture
def container(container: Container, tmp_path: Path) -> Container:
    """The embedded deployment, so the signed asset URLs are routes of the app too."""
    local = LocalAssetStore(tmp_path / "assets", "http://testserver", b"k" * 32)
    return replace(container, ctx=replace(container.ctx, assets=local), local_assets=local)


@pytest.fixture
def product(acme: Api) -> dict[str, Any]:
    created = acme.create_ok()
    response = acme.upload(created["id"], png())
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()
    return view


def get_urls(acme: Api, product: dict[str, Any]) -> list[str]:
    """One URL of every GET route of the app."""
    url = acme.product_url(product["id"])
    return [
        url,
        url + "?channel=instagram",
        acme.products_url() + "?status=DRAFT&limit=1",
        url + "/history",
        product["images"][0]["url"],
        "/health",
        "/openapi.json",
        "/docs",
        "/redoc",
    ]


# ------------------------------------------------------------------ HEAD


def _steady(headers: Any) -> tuple[dict[str, Any], int | None]:
    """The headers without a signed asset URL's `max-age`, and that max-age: it counts the
    seconds left until the URL expires, from the wall clock, so a second may tick between
    the GET and the HEAD."""
    steady = dict(headers)
    match = re.search(r"max-age=(\d+)", steady.get("cache-control", ""))
    if match is None:
        return steady, None
    steady["cache-control"] = steady["cache-control"].replace(match.group(0), "max-age")
    return steady, int(match.group(1))


def test_head_answers_what_get_answers_without_the_body(
    client: TestClient, acme: Api, product: dict[str, Any]
) -> None:
    for url in get_urls(acme, product):
        got = client.get(url, headers=acme.headers)
        head = client.head(url, headers=acme.headers)
        assert got.status_code == 200, (url, got.text)
        assert head.status_code == 200, (url, head.text)
        (head_headers, head_age), (got_headers, got_age) = (
            _steady(head.headers),
            _steady(got.headers),
        )
        assert head_headers == got_headers, url
        assert (head_age is None) == (got_age is None), url
        assert head_age is None or got_age is None or 0 <= got_age - head_age <= 1, url
        assert head.content == b"", url
    assert (
        client.head(acme.product_url(product["id"]), headers=acme.headers).headers["etag"] == '"2"'
    )


def test_head_with_the_current_etag_is_304(
    client: TestClient, acme: Api, product: dict[str, Any]
) -> None:
    url = acme.product_url(product["id"])
    response = client.head(url, headers={**acme.headers, "If-None-Match": '"2"'})
    assert response.status_code == 304
    assert response.headers["etag"] == '"2"'
    assert response.content == b""


def test_head_answers_problems_like_get_without_the_body(client: TestClient, acme: Api) -> None:
    missing = acme.product_url("01JDPRODUCT0000000000000000")
    for headers in (acme.headers, {}):
        got = client.get(missing, headers=headers)
        head = client.head(missing, headers=headers)
        assert head.status_code == got.status_code
        assert dict(head.headers) == dict(got.headers)
        assert head.content == b""


def test_head_is_not_a_second_operation_of_the_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [url for url, operations in paths.items() if "head" in operations]
    assert client.head("/health").status_code == 200


# ------------------------------------------------------------------ unknown query parameters


def test_an_unknown_filter_on_the_list_is_a_400_naming_it(
    acme: Api, product: dict[str, Any]
) -> None:
    response = acme.list(q="shoe", sku="TS-1", status="DRAFT")
    problem = assert_problem(response, 400)
    assert problem["type"] == "/problems/unknown-query-parameter"
    assert problem["parameters"] == ["q", "sku"]
    assert "`q`" in problem["detail"] and "`sku`" in problem["detail"]
    assert problem["accepted"] == ["channel", "cursor", "limit", "product_type", "status"]


def test_every_route_refuses_a_parameter_it_does_not_take(
    client: TestClient, acme: Api, product: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    url = acme.product_url(product["id"])
    before = len(events())
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", url, {}),
        ("HEAD", url, {}),
        ("POST", acme.products_url(), {"json": {"sku": "TS-2", "name": "Other"}}),
        ("PATCH", url, {"json": {"name": "Renamed"}}),
        ("POST", url + "/status", {"json": {"status": "READY"}}),
        ("DELETE", url, {}),
        ("GET", url + "/history", {}),
        ("POST", url + "/images", {"files": {"file": ("a.png", png(), "image/png")}}),
        ("POST", url + "/channels/instagram/publish", {}),
        ("GET", product["images"][0]["url"], {}),
        ("GET", "/health", {}),
        ("GET", "/openapi.json", {}),
    ]
    for method, target, kwargs in requests:
        separator = "&" if "?" in target else "?"
        response = client.request(
            method, f"{target}{separator}dry_run=1", headers=acme.headers, **kwargs
        )
        assert response.status_code == 400, (method, target, response.text)
        if method != "HEAD":
            assert response.json()["parameters"] == ["dry_run"], (method, target)
    assert len(events()) == before  # nothing was written
    assert acme.get(product["id"]).json() == product


def test_declared_parameters_are_taken_and_any_other_refused(
    client: TestClient, acme: Api, product: dict[str, Any]
) -> None:
    # The signed asset URL (expires, signature) and the hand-read ?channel= included.
    for url in [*get_urls(acme, product), acme.product_url(product["id"]) + "/history?limit=1"]:
        assert client.get(url, headers=acme.headers).status_code == 200, url
        separator = "&" if "?" in url else "?"
        refused = client.get(f"{url}{separator}Limit=1", headers=acme.headers)
        assert assert_problem(refused, 400)["parameters"] == ["Limit"], url


@pytest.mark.parametrize(
    "query", ["status=DRAFT&status=READY", "limit=1&limit=50", "channel=a1&channel=b2"]
)
def test_a_repeated_single_value_parameter_is_a_400(
    client: TestClient, acme: Api, query: str
) -> None:
    response = client.get(f"{acme.products_url()}?{query}", headers=acme.headers)
    problem = assert_problem(response, 400)
    assert problem["type"] == "/problems/repeated-query-parameter"
    assert problem["parameters"] == [query.split("=", 1)[0]]


def test_a_repeated_channel_on_get_is_a_400(
    client: TestClient, acme: Api, product: dict[str, Any]
) -> None:
    url = acme.product_url(product["id"]) + "?channel=a1&channel=b2"
    problem = assert_problem(client.get(url, headers=acme.headers), 400)
    assert problem["parameters"] == ["channel"]


def test_a_route_added_later_is_checked_from_its_own_declaration(container: Container) -> None:
    app: FastAPI = create_app(container)

    async def search(
        tag: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
        q: str | None = None,
    ) -> dict[str, Any]:
        return {"tag": tag, "q": q}

    app.add_api_route("/search", search, methods=["GET"])
    with TestClient(app) as client:
        listed = client.get("/search?tag=a&tag=b&q=x")
        assert listed.status_code == 200
        assert listed.json() == {"tag": ["a", "b"], "q": "x"}
        assert_problem(client.get("/search?q=x&q=y"), 400)
        assert assert_problem(client.get("/search?sort=asc"), 400)["parameters"] == ["sort"]
