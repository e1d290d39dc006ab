"""Variants in the product view and in the OpenAPI document (issue 12).

What the document says of variants holds: its product view example is a valid view, the
register and patch bodies it describes take `options` and a patch takes overrides of single
variants, and what it accepts the API accepts. A product without variants is rendered without
resolving any (GET is the hot path).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from catalog.bootstrap import Container
from catalog.domain.product import Product
from catalog.domain.variants import VariantBody
from tests.api.support import Api, assert_problem, complete_body, error_fields
from tests.api.variant_support import with_variants


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/openapi.json").json()
    return body


def validator(document: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_the_view_example_shows_a_valid_variant(document: dict[str, Any]) -> None:
    # The variants, not the whole example: the document drops the example's nulls (a
    # listing's `message`), which the view requires.
    [example] = document["components"]["schemas"]["ProductView"]["examples"]
    assert example["options"] and example["variants"]
    for variant in example["variants"]:
        validator(document, "VariantView").validate(variant)
        assert set(variant) == set(document["components"]["schemas"]["VariantView"]["properties"])


def test_register_and_patch_bodies_document_options_and_variant_overrides(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    assert "options" in schemas["ProductCreate"]["properties"]
    assert "options" in schemas["ProductUpdate"]["properties"]
    patch_override = schemas["ChannelOverridePatch"]["properties"]["variants"]
    assert patch_override["anyOf"][0]["additionalProperties"]["anyOf"][0] == {
        "$ref": "#/components/schemas/VariantOverridePatch"
    }
    register = validator(document, "ProductCreate")
    register.validate({"sku": "SH-1", "name": "Shirt", "options": ["color", "size"]})
    too_many = {"sku": "SH-1", "name": "Shirt", "options": ["a", "b", "c", "d"]}
    assert not register.is_valid(too_many)
    assert not register.is_valid({"sku": "SH-1", "name": "Shirt", "options": ["Color"]})
    # A registration's variants have no id yet: no override of one is described there.
    assert "variants" not in schemas["ChannelOverride"]["properties"]


def test_what_the_patch_schema_takes_of_variant_overrides_the_api_takes(
    acme: Api, container: Container, document: dict[str, Any]
) -> None:
    created = acme.create_ok(complete_body("SH-1", options=["size"]))
    product = with_variants(
        container.ctx, "acme", created["id"], [VariantBody(sku="SH-1-M", options={"size": "M"})]
    )
    vid = product.variants[0].id
    patch = {
        "options": ["size"],
        "channel_overrides": {
            "meta": {"variants": {vid: {"price": {"amount": 900, "currency": "USD"}}}}
        },
    }
    validator(document, "ProductUpdate").validate(patch)
    answered = acme.patch(created["id"], patch)
    assert answered.status_code == 200, answered.text
    assert answered.json()["channel_overrides"]["meta"]["variants"] == {
        vid: {"price": {"amount": 900, "currency": "USD"}, "attributes": None}
    }
    on_meta = acme.get(created["id"], channel="meta").json()
    assert on_meta["variants"][0]["price"] == {"amount": 900, "currency": "USD"}
    dropped = acme.patch(created["id"], {"channel_overrides": {"meta": {"variants": {vid: None}}}})
    assert dropped.status_code == 200, dropped.text
    assert "meta" not in dropped.json()["channel_overrides"]

    unknown = {"channel_overrides": {"meta": {"variants": {"01NOSUCHVARIANT": {"stock": 1}}}}}
    assert not validator(document, "ProductUpdate").is_valid(unknown)
    problem = assert_problem(acme.patch(created["id"], unknown), 422)
    assert error_fields(problem) == ["/channel_overrides/meta/variants/01NOSUCHVARIANT/stock"]


def test_a_product_without_variants_is_rendered_without_resolving_any(
    acme: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = acme.create_ok(
        complete_body(channel_overrides={"meta": {"price": {"amount": 1, "currency": "USD"}}})
    )

    def resolved(self: Product, channel: str | None = None) -> Any:
        raise AssertionError("variants resolved for a product without variants")

    monkeypatch.setattr(Product, "variants_for", resolved)
    for channel in (None, "meta"):
        params = {"channel": channel} if channel else {}
        response = acme.get(created["id"], **params)
        assert response.status_code == 200, response.text
        assert (response.json()["options"], response.json()["variants"]) == ([], [])


def test_the_view_of_variants_is_a_copy_of_no_stored_state(acme: Api, container: Container) -> None:
    """Rendering twice, on a channel and off it, answers the same: the effective values of
    one view never leak into the stored variants another reads."""
    created = acme.create_ok(
        complete_body(
            "SH-2",
            options=["size"],
            channel_overrides={"meta": {"attributes": {"fit": "slim"}}},
        )
    )
    with_variants(
        container.ctx, "acme", created["id"], [VariantBody(sku="SH-2-M", options={"size": "M"})]
    )
    own = acme.get(created["id"]).json()
    on_meta = acme.get(created["id"], channel="meta").json()
    assert on_meta["variants"][0]["attributes"] == {"fit": "slim"}
    assert on_meta["variants"][0]["price"] == on_meta["price"]
    assert acme.get(created["id"]).json() == own
    assert own["variants"][0]["attributes"] == {}
    assert own["variants"][0]["price"] is None
