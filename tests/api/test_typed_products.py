"""Products with a type, over HTTP on every backend: attributes checked on every write,
completeness in the view, READY and publication judged by it (DESIGN.md section 9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.support import Api, assert_problem, complete_body, error_fields, png

APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "max_length": 20, "required": True},
        "size": {"type": "enum", "values": ["S", "M", "L"]},
        "condition": {"type": "enum", "values": ["new", "used"], "required_on": ["ml"]},
        "weight_grams": {"type": "integer", "minimum": 1},
    },
    "additional_attributes": False,
}


@pytest.fixture
def apparel(acme: Api) -> None:
    created = acme.client.post(
        "/v1/merchants/acme/product-types", json=APPAREL, headers=acme.headers
    )
    assert created.status_code == 201, created.text


def with_image(acme: Api, body: dict[str, Any]) -> dict[str, Any]:
    product = acme.create_ok(body)
    upload = acme.client.post(
        acme.product_url(product["id"]) + "/images",
        files={"file": ("a.png", png(), "image/png")},
        headers=acme.headers,
    )
    assert upload.status_code == 201, upload.text
    view: dict[str, Any] = upload.json()
    return view


def test_a_typed_product_carries_its_type_and_completeness(acme: Api, apparel: None) -> None:
    view = acme.create_ok(complete_body(product_type="apparel", attributes={"size": "M"}))
    assert view["product_type"] == "apparel"
    assert view["completeness"] == {
        "ready": {"complete": False, "missing": ["/images", "/attributes/brand"]},
        "channels": {},
    }


def test_every_write_checks_the_attributes_against_the_type(
    acme: Api, apparel: None, events: Callable[[], list[Any]]
) -> None:
    body = complete_body(
        product_type="apparel",
        attributes={"brand": "x" * 21, "size": "XL", "weight_grams": 0, "colour": "red"},
        channel_overrides={"ml": {"attributes": {"condition": "broken"}}},
    )
    problem = assert_problem(acme.create(body), 422)
    assert set(error_fields(problem)) == {
        "/attributes/brand",
        "/attributes/size",
        "/attributes/weight_grams",
        "/attributes/colour",
        "/channel_overrides/ml/attributes/condition",
    }
    assert events() == [e for e in events() if e.product_id is None]  # no product was written

    product = acme.create_ok(complete_body(product_type="apparel", attributes={"brand": "Acme"}))
    refused = acme.patch(product["id"], {"attributes": {"size": "XXL"}})
    assert error_fields(assert_problem(refused, 422)) == ["/attributes/size"]
    assert acme.get(product["id"]).json()["version"] == 1


def test_an_unknown_type_is_422_at_product_type(acme: Api) -> None:
    problem = assert_problem(acme.create(complete_body(product_type="nothing")), 422)
    assert error_fields(problem) == ["/product_type"]
    assert error_fields(assert_problem(acme.create(complete_body(product_type="Bad!")), 422)) == [
        "/product_type"
    ]


def test_changing_the_type_validates_against_the_new_one(acme: Api, apparel: None) -> None:
    product = acme.create_ok(complete_body(attributes={"colour": "red"}))
    refused = acme.patch(product["id"], {"product_type": "apparel"})
    assert error_fields(assert_problem(refused, 422)) == ["/attributes/colour"]
    moved = acme.patch(
        product["id"], {"product_type": "apparel", "attributes": {"colour": None, "brand": "Acme"}}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["product_type"], moved.json()["attributes"]) == (
        "apparel",
        {"brand": "Acme"},
    )
    untyped = acme.patch(product["id"], {"product_type": None, "attributes": {"anything": 1}})
    assert untyped.json()["product_type"] is None


def test_ready_needs_the_types_required_attributes_as_pointers(acme: Api, apparel: None) -> None:
    product = with_image(acme, complete_body(product_type="apparel"))
    refused = acme.client.post(
        acme.product_url(product["id"]) + "/status", json={"status": "READY"}, headers=acme.headers
    )
    assert assert_problem(refused, 422)["missing"] == ["/attributes/brand"]
    acme.patch(product["id"], {"attributes": {"brand": "Acme"}})
    ready = acme.client.post(
        acme.product_url(product["id"]) + "/status", json={"status": "READY"}, headers=acme.headers
    )
    assert ready.json()["status"] == "READY"
    assert ready.json()["completeness"]["ready"] == {"complete": True, "missing": []}


def test_a_publication_needs_what_the_type_requires_on_that_channel(
    acme: Api, apparel: None, events: Callable[[], list[Any]]
) -> None:
    body = complete_body(product_type="apparel", attributes={"brand": "Acme"})
    product = with_image(acme, body)
    status = acme.product_url(product["id"]) + "/status"
    assert acme.client.post(status, json={"status": "READY"}, headers=acme.headers).is_success
    before = len(events())
    publish = acme.product_url(product["id"]) + "/channels/ml/publish"
    problem = assert_problem(acme.client.post(publish, headers=acme.headers), 422)
    assert (problem["channel"], problem["missing"]) == ("ml", ["/attributes/condition"])
    assert len(events()) == before
    assert acme.get(product["id"]).json()["listings"] == {}

    # On another channel the product is complete; on ml an override can supply it.
    assert acme.client.post(
        acme.product_url(product["id"]) + "/channels/meta/publish", headers=acme.headers
    ).is_success
    acme.patch(product["id"], {"channel_overrides": {"ml": {"attributes": {"condition": "new"}}}})
    listed = acme.client.post(publish, headers=acme.headers)
    assert listed.status_code == 202, listed.text
    assert listed.json()["completeness"]["channels"] == {
        "meta": {"complete": True, "missing": []},
        "ml": {"complete": True, "missing": []},
    }


def test_an_edit_breaking_a_listed_channel_is_refused(acme: Api, apparel: None) -> None:
    body = complete_body(
        product_type="apparel",
        attributes={"brand": "Acme"},
        channel_overrides={"ml": {"attributes": {"condition": "new"}}},
    )
    product = with_image(acme, body)
    acme.client.post(
        acme.product_url(product["id"]) + "/status", json={"status": "READY"}, headers=acme.headers
    )
    acme.client.post(acme.product_url(product["id"]) + "/channels/ml/publish", headers=acme.headers)
    refused = acme.patch(product["id"], {"channel_overrides": {"ml": None}})
    problem = assert_problem(refused, 422)
    assert (problem["channel"], problem["missing"]) == ("ml", ["/attributes/condition"])
    assert acme.get(product["id"]).json()["channel_overrides"]["ml"]["attributes"] == {
        "condition": "new"
    }


def test_a_type_in_use_cannot_be_deleted(acme: Api, apparel: None) -> None:
    product = acme.create_ok(complete_body(product_type="apparel"))
    types = "/v1/merchants/acme/product-types/apparel"
    problem = assert_problem(acme.client.delete(types, headers=acme.headers), 409)
    assert problem["type"].endswith("/product-type-in-use")
    acme.patch(product["id"], {"product_type": None})
    assert acme.client.delete(types, headers=acme.headers).status_code == 204
