"""The channel adapters' kit reads the effective view as the catalog publishes it.

channel_kit imports nothing from the catalog (channel-adapters/tests/test_package_boundaries.py),
and its own tests feed it a hand-written view, so the contract between them is checked here:
a product with a value in every field the kit reads is rendered by the catalog for a channel,
parsed by `channel_kit.ProductView`, and each field the kit reads must be a member
/openapi.json documents, holding the value the catalog answered. A presenter change the kit
does not follow, or a kit field the view does not have, fails here.

The product has variants, one of them overridden on the channel: the view must give each
variant its effective price and attributes there (docs/variants.md), which the adapters map
as given.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import channel_kit.view
from channel_kit import ProductView
from channel_kit.view import Image, Listing, Money, Variant
from fastapi.testclient import TestClient

from tests.api.conftest import Principals
from tests.api.support import Api, ChannelsApi, VariantsApi, complete_body, png

CHANNEL = "mercadolibre"
# Kit fields that are not members of the view: the channel asked for, and the whole document.
NOT_FROM_THE_VIEW = {"channel", "raw"}
# The kit's listing is this channel's entry of the view's `listings`.
MEMBER_OF = {"listing": "listings"}


def kit_fields(kit_type: type[Any]) -> set[str]:
    return {f.name for f in dataclasses.fields(kit_type)} - NOT_FROM_THE_VIEW


def rendered_for_the_channel(acme: Api, adapter: Api) -> dict[str, Any]:
    """A published product with a value (never null) in every field the kit reads, and two
    variants: one with every member set and overridden on the channel, one inheriting."""
    created = acme.create_ok(
        complete_body(
            attributes={"brand": "Acme", "size": 42},
            options=["size"],
            channel_overrides={CHANNEL: {"name": "Zapatilla de trail"}},
        )
    )
    product_id = created["id"]
    uploaded = acme.upload(product_id, png(), alt="Side view")
    assert uploaded.status_code == 201
    image_id = uploaded.json()["images"][0]["id"]
    variants = VariantsApi(acme)
    own = {
        "sku": "TS-1-42",
        "options": {"size": "42"},
        "price": {"amount": 12499, "currency": "USD"},
        "attributes": {"width": "wide", "brand": None},
        "image_ids": [image_id],
        "barcode": "4006381333931",
        "stock": 7,
    }
    overridden = variants.add_ok(product_id, own)["id"]
    variants.add_ok(
        product_id, {"sku": "TS-1-43", "options": {"size": "43"}, "attributes": {"size": 43}}
    )
    variant_override = {
        "price": {"amount": 11999, "currency": "USD"},
        "attributes": {"width": "slim"},
    }
    patch = {"channel_overrides": {CHANNEL: {"variants": {overridden: variant_override}}}}
    assert acme.patch(product_id, patch).status_code == 200
    assert acme.set_status(product_id, "READY").status_code == 200
    assert ChannelsApi(acme).publish(product_id, CHANNEL).status_code == 202
    channel = ChannelsApi(adapter)
    version = acme.get(product_id).json()["version"]
    outcomes: list[dict[str, Any]] = [
        {"state": "PUBLISHED", "external_id": "MLA1", "external_url": "https://ml.test/MLA1"},
        # A failed resync keeps the listing PUBLISHED and adds its message.
        {"state": "FAILED", "message": "price rejected"},
    ]
    for outcome in outcomes:
        reported = channel.report(product_id, CHANNEL, product_version=version, **outcome)
        assert reported.status_code == 200, reported.text
        version = reported.json()["version"]
    response = adapter.get(product_id, channel=CHANNEL)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_field_the_kit_reads_is_documented_and_read_as_answered(
    client: TestClient, acme: Api, principals: Principals
) -> None:
    adapter = Api(client, principals.channel(CHANNEL), "acme")
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = rendered_for_the_channel(acme, adapter)

    view = ProductView.from_json(body, CHANNEL)

    documented = {
        ProductView: "ProductView",
        Money: "MoneyView",
        Image: "ImageView",
        Listing: "ListingView",
        Variant: "VariantView",
    }
    for kit_type, schema in documented.items():
        members = set(schemas[schema]["properties"])
        read = {MEMBER_OF.get(name, name) for name in kit_fields(kit_type)}
        assert read <= members, f"{kit_type.__name__} reads what {schema} does not have"

    nested = {"price", "images", "listing", "options", "variants"}
    for name in kit_fields(ProductView) - nested:
        assert body[name] is not None, name
        assert getattr(view, name) == body[name], name
    assert view.price is not None
    assert dataclasses.asdict(view.price) == body["price"]
    listing = body["listings"][CHANNEL]
    assert view.listing is not None
    for name in kit_fields(Listing):
        assert listing[name] is not None, name
        assert getattr(view.listing, name) == listing[name], name
    assert len(view.images) == len(body["images"]) == 1
    for name in kit_fields(Image):
        assert body["images"][0][name] is not None, name
        assert getattr(view.images[0], name) == body["images"][0][name], name
    assert view.options == tuple(body["options"]) == ("size",)
    assert len(view.variants) == len(body["variants"]) == 2
    answered, kit_variant = body["variants"][0], view.variants[0]
    for name in kit_fields(Variant) - {"price", "image_ids"}:
        assert answered[name] is not None, name
        assert getattr(kit_variant, name) == answered[name], name
    assert kit_variant.price is not None
    assert dataclasses.asdict(kit_variant.price) == answered["price"]
    assert list(kit_variant.image_ids) == answered["image_ids"]
    assert view.images_of(kit_variant) == view.images
    # The channel's overrides are applied by the catalog, not by the kit.
    assert view.name == "Zapatilla de trail"


def test_each_variant_is_answered_with_its_effective_values_on_the_channel(
    client: TestClient, acme: Api, principals: Principals
) -> None:
    adapter = Api(client, principals.channel(CHANNEL), "acme")
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = rendered_for_the_channel(acme, adapter)

    assert body["options"] == ["size"]
    image_id = body["images"][0]["id"]
    overridden, inheriting = body["variants"]
    assert overridden == {
        "id": overridden["id"],
        "sku": "TS-1-42",
        "options": {"size": "42"},
        "price": {"amount": 11999, "currency": "USD"},  # its override on the channel
        # The product's, less the brand the variant removes, with its width as overridden.
        "attributes": {"size": 42, "width": "slim"},
        "image_ids": [image_id],
        "barcode": "4006381333931",
        "stock": 7,
    }
    assert inheriting["price"] == body["price"] == {"amount": 12999, "currency": "USD"}
    assert inheriting["attributes"] == {"brand": "Acme", "size": 43}
    assert set(overridden) == set(schemas["VariantView"]["properties"])
    assert {"options", "variants"} <= set(schemas["ProductView"]["properties"])

    # The kit's Variant (the adapters' variant slice) reads documented members as answered.
    kit_variant = getattr(channel_kit.view, "Variant", None)
    if kit_variant is None:
        return
    assert kit_fields(kit_variant) <= set(schemas["VariantView"]["properties"])
    read = kit_variant.from_json(overridden)
    assert read.price == Money(11999, "USD")
    assert dict(read.attributes) == overridden["attributes"]
    assert tuple(read.image_ids) == (image_id,)
    assert (read.sku, read.barcode, read.stock) == ("TS-1-42", "4006381333931", 7)
