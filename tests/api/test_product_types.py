"""Product types over HTTP, on every backend: create, read, list, merge patch, delete, and the
problems each answers (DESIGN.md section 9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.domain.events import EventName
from tests.api.support import Api, assert_problem, error_fields

APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "max_length": 60, "required": True},
        "size": {"type": "enum", "values": ["S", "M", "L"], "variant_axis": True},
    },
}


def types_url(api: Api, key: str = "") -> str:
    url = f"/v1/merchants/{api.merchant}/product-types"
    return f"{url}/{key}" if key else url


def create(api: Api, body: dict[str, Any] = APPAREL) -> Any:
    return api.client.post(types_url(api), json=body, headers=api.headers)


def test_a_created_type_is_served_with_its_etag_and_location(acme: Api) -> None:
    created = create(acme)
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == "/v1/merchants/acme/product-types/apparel"
    view = created.json()
    assert view["attributes"] == APPAREL["attributes"]
    assert (view["key"], view["merchant_id"], view["version"]) == ("apparel", "acme", 1)
    assert view["additional_attributes"] is True
    read = acme.client.get(types_url(acme, "apparel"), headers=acme.headers)
    assert (read.status_code, read.json(), read.headers["ETag"]) == (200, view, '"1"')


def test_a_malformed_type_is_422_naming_every_member_and_nothing_is_written(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    body = {
        "key": "Apparel",
        "name": "Apparel",
        "attributes": {
            "size": {"type": "enum"},
            "weight": {"type": "integer", "minimum": 10, "maximum": 1},
            "colour": {"type": "text"},
        },
    }
    problem = assert_problem(create(acme, body), 422)
    assert set(error_fields(problem)) == {
        "/key",
        "/attributes/size/values",
        "/attributes/weight/maximum",
        "/attributes/colour/type",
    }
    assert acme.client.get(types_url(acme), headers=acme.headers).json()["items"] == []
    assert events() == []


def test_a_key_exists_once_per_merchant(acme: Api, globex: Api) -> None:
    assert create(acme).status_code == 201
    problem = assert_problem(create(acme), 409)
    assert problem["type"].endswith("/duplicate-product-type")
    assert problem["key"] == "apparel"
    assert create(globex).status_code == 201


def test_a_merge_patch_with_if_match_revises_the_type(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    create(acme)
    patch = {"attributes": {"size": {"values": ["S", "M", "L", "XL"]}, "brand": None}}
    headers = {**acme.headers, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"}
    response = acme.client.patch(types_url(acme, "apparel"), json=patch, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    assert response.json()["attributes"] == {
        "size": {"type": "enum", "values": ["S", "M", "L", "XL"], "variant_axis": True}
    }
    stale = acme.client.patch(types_url(acme, "apparel"), json=patch, headers=headers)
    assert assert_problem(stale, 412)["current_version"] == 2
    updated = [e for e in events() if e.name is EventName.PRODUCT_TYPE_UPDATED]
    assert [(e.product_type, e.version, e.data["changed_fields"]) for e in updated] == [
        ("apparel", 2, ["/attributes/brand", "/attributes/size"])
    ]


def test_a_patch_that_breaks_the_type_is_422_and_changes_nothing(acme: Api) -> None:
    create(acme)
    bad = {"attributes": {"size": {"type": "integer"}}}
    problem = assert_problem(
        acme.client.patch(types_url(acme, "apparel"), json=bad, headers=acme.headers), 422
    )
    assert set(error_fields(problem)) == {
        "/attributes/size/values",
        "/attributes/size/variant_axis",
    }
    assert acme.client.get(types_url(acme, "apparel"), headers=acme.headers).json()["version"] == 1


def test_a_deleted_type_is_gone_and_a_retried_delete_is_404(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    create(acme)
    assert acme.client.delete(types_url(acme, "apparel"), headers=acme.headers).status_code == 204
    assert_problem(acme.client.get(types_url(acme, "apparel"), headers=acme.headers), 404)
    assert_problem(acme.client.delete(types_url(acme, "apparel"), headers=acme.headers), 404)
    assert [e.name for e in events()] == [
        EventName.PRODUCT_TYPE_CREATED,
        EventName.PRODUCT_TYPE_DELETED,
    ]


def test_types_are_listed_by_key_in_pages(acme: Api) -> None:
    for key in ["shoes", "apparel", "electronics"]:
        assert create(acme, {**APPAREL, "key": key}).status_code == 201
    first = acme.client.get(types_url(acme), params={"limit": 2}, headers=acme.headers).json()
    assert [t["key"] for t in first["items"]] == ["apparel", "electronics"]
    rest = acme.client.get(
        types_url(acme), params={"limit": 2, "cursor": first["next_cursor"]}, headers=acme.headers
    ).json()
    assert ([t["key"] for t in rest["items"]], rest["next_cursor"]) == (["shoes"], None)


def test_another_merchant_sees_nothing_and_a_channel_changes_nothing(
    acme: Api, globex: Api, channel_x: Api
) -> None:
    create(acme)
    spy = globex.as_merchant("acme")
    assert_problem(spy.client.get(types_url(spy, "apparel"), headers=spy.headers), 404)
    assert_problem(spy.client.get(types_url(spy), headers=spy.headers), 404)
    assert_problem(spy.client.delete(types_url(spy, "apparel"), headers=spy.headers), 404)
    refused = channel_x.client.delete(types_url(channel_x, "apparel"), headers=channel_x.headers)
    assert refused.status_code in (403, 404)
    assert acme.client.get(types_url(acme, "apparel"), headers=acme.headers).status_code == 200


def test_a_key_that_cannot_exist_is_404(acme: Api) -> None:
    assert_problem(acme.client.get(types_url(acme, "Not-A-Key"), headers=acme.headers), 404)
