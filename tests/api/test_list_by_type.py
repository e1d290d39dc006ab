"""`GET /v1/merchants/{m}/products?product_type=k` on every backend (DESIGN.md section 9): the
type filter alone and with the others, refused keys, and cursors bound to it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Api, assert_problem, error_fields, product_body


def create_type(api: Api, key: str) -> None:
    body = {"key": key, "name": key.title(), "attributes": {"brand": {"type": "string"}}}
    created = api.client.post(
        f"/v1/merchants/{api.merchant}/product-types", json=body, headers=api.headers
    )
    assert created.status_code == 201, created.text


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def every_page(api: Api, **params: Any) -> list[str]:
    """The ids of every page, following next_cursor to the end (a filtered page may be
    short, or even empty, before the end)."""
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        page = api.list(**params, **({"cursor": cursor} if cursor else {})).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("paging does not end")


@pytest.fixture
def catalog(acme: Api, globex: Api) -> dict[str, list[str]]:
    """acme: 3 apparel (one INACTIVE), 1 shoes, 1 untyped; globex: 1 apparel of its own."""
    for api in (acme, globex):
        create_type(api, "apparel")
    create_type(acme, "shoes")
    apparel = [
        acme.create_ok(product_body(f"A-{n}", product_type="apparel"))["id"] for n in range(3)
    ]
    acme.delete(apparel[1])
    shoes = [acme.create_ok(product_body("S-1", product_type="shoes"))["id"]]
    untyped = [acme.create_ok(product_body("U-1"))["id"]]
    theirs = [globex.create_ok(product_body("G-1", product_type="apparel"))["id"]]
    return {"apparel": apparel, "shoes": shoes, "untyped": untyped, "theirs": theirs}


def test_the_list_filters_by_product_type(acme: Api, catalog: dict[str, list[str]]) -> None:
    apparel = acme.list(product_type="apparel")
    assert ids(apparel) == sorted(catalog["apparel"])
    assert all(item["product_type"] == "apparel" for item in apparel.json()["items"])
    assert apparel.json()["next_cursor"] is None
    assert ids(acme.list(product_type="shoes")) == catalog["shoes"]
    # A key the merchant has no type for lists nothing, as an unknown channel does.
    assert acme.list(product_type="bags").json() == {"items": [], "next_cursor": None}
    # Untyped products are in every unfiltered list and no type's.
    everything = ids(acme.list())
    assert catalog["untyped"][0] in everything and len(everything) == 5


def test_the_type_filter_combines_with_the_status(acme: Api, catalog: dict[str, list[str]]) -> None:
    first, inactive, third = catalog["apparel"]
    assert every_page(acme, product_type="apparel", status="DRAFT") == sorted([first, third])
    assert every_page(acme, product_type="apparel", status="INACTIVE", limit=1) == [inactive]
    assert every_page(acme, product_type="shoes", status="INACTIVE") == []


def test_pages_of_a_type_follow_their_cursor(acme: Api, catalog: dict[str, list[str]]) -> None:
    first = acme.list(product_type="apparel", limit=2).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    last = acme.list(product_type="apparel", limit=2, cursor=first["next_cursor"]).json()
    assert [i["id"] for i in first["items"] + last["items"]] == sorted(catalog["apparel"])
    assert last["next_cursor"] is None


def test_a_merchant_lists_only_its_own_products_of_a_type(
    globex: Api, catalog: dict[str, list[str]]
) -> None:
    assert ids(globex.list(product_type="apparel")) == catalog["theirs"]
    assert ids(globex.list(product_type="shoes")) == []


@pytest.mark.parametrize("key", ["Apparel", "1apparel", "a" * 65, "app arel", "ropa#1", ""])
def test_a_bad_type_key_is_a_422_naming_the_parameter(acme: Api, key: str) -> None:
    problem = assert_problem(acme.list(product_type=key), 422)
    assert error_fields(problem) == ["product_type"]


def test_a_repeated_type_filter_is_a_400(client: TestClient, acme: Api) -> None:
    url = f"{acme.products_url()}?product_type=apparel&product_type=shoes"
    problem = assert_problem(client.get(url, headers=acme.headers), 400)
    assert problem["parameters"] == ["product_type"]


def test_a_cursor_works_only_with_the_type_it_was_issued_for(
    acme: Api, catalog: dict[str, list[str]]
) -> None:
    typed_cursor = acme.list(product_type="apparel", limit=1).json()["next_cursor"]
    plain_cursor = acme.list(limit=1).json()["next_cursor"]
    assert typed_cursor and plain_cursor

    for refused in (
        {"cursor": typed_cursor},  # the type dropped
        {"cursor": typed_cursor, "product_type": "shoes"},  # another type
        {"cursor": typed_cursor, "product_type": "apparel", "status": "DRAFT"},  # more filters
        {"cursor": plain_cursor, "product_type": "apparel"},  # the type added
    ):
        problem = assert_problem(acme.list(limit=1, **refused), 400)
        assert problem["type"] == "/problems/invalid-cursor"
    assert acme.list(limit=1, cursor=typed_cursor, product_type="apparel").status_code == 200
    assert acme.list(limit=1, cursor=plain_cursor).status_code == 200


def test_the_filter_is_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/merchants/{merchant_id}/products"]["get"]
    [parameter] = [p for p in operation["parameters"] if p["name"] == "product_type"]
    assert parameter["in"] == "query" and parameter["required"] is False
    assert "type" in parameter["description"]
    assert parameter["schema"]["anyOf"][0]["pattern"] == "^[a-z][a-z0-9_-]{0,63}$"
