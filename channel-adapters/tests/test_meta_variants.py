"""Meta publishes a product's variants as one item per variant sharing `item_group_id`,
deletes the items of variants the product no longer has, and every item of the group on
unpublication; the fake enforces Meta's variant rules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from channel_fakes import FakeMetaCatalog
from channel_kit import ChannelRejected, ListingKey, MemoryPublishedItems, ProductView
from conftest import PRODUCT_ID, RED_43, cloud_event, product_document, variant
from conftest import variants_document as document_with_variants
from meta_adapter import MetaCatalogAdapter, MetaSettings
from meta_adapter.mapping import map_listing

CHANNEL = "meta"
KEY = ListingKey("acme", PRODUCT_ID, CHANNEL)
FRONT = "https://cdn.example.com/acme/ts-1.png"
RED = "https://cdn.example.com/acme/ts-1-red.png"
VARIANT_SKUS = {"TS-1-RED-42", "TS-1-RED-43", "TS-1-BLUE-42"}


def view(document: dict[str, Any] | None = None) -> ProductView:
    return ProductView.from_json(document or document_with_variants(), CHANNEL)


def adapter_with(fake: FakeMetaCatalog, http: Any, published: Any = None) -> MetaCatalogAdapter:
    settings = MetaSettings(
        access_token=fake.access_token,
        catalog_id=fake.catalog_id,
        graph_url="https://graph.facebook.test",
        status_interval=0,
    )
    return MetaCatalogAdapter(settings, http, published)


def test_each_variant_is_an_item_of_the_products_group():
    mapped = map_listing(view())

    assert mapped.missing == []
    assert mapped.external_id == "TS-1"
    common = {
        "item_group_id": "TS-1",
        "title": "Trail shoe",
        "description": "A light trail running shoe.",
        "condition": "new",
        "link": "https://shop.example.com/ts-1",
        "price": "129.99 USD",
        "brand": "Acme",
    }
    assert mapped.items == [
        {
            **common,
            "id": "TS-1-RED-42",
            "availability": "in stock",
            "image_link": RED,
            "color": "red",
            "size": "42",
        },
        {
            **common,
            "id": "TS-1-RED-43",
            "availability": "out of stock",
            "image_link": RED,
            "color": "red",
            "size": "43",
        },
        {
            **common,
            "id": "TS-1-BLUE-42",
            "availability": "in stock",
            # No image of its own: the product's.
            "image_link": FRONT,
            "additional_image_link": [RED],
            "gtin": "4006381333931",
            "color": "blue",
            "size": "42",
        },
    ]


def test_each_item_has_its_variants_effective_price_and_attributes():
    document = document_with_variants()
    document["variants"][0]["price"] = {"amount": 9900, "currency": "USD"}
    document["variants"][0]["attributes"] = {**document["attributes"], "condition": "used"}

    first = map_listing(view(document)).items[0]

    assert (first["price"], first["condition"]) == ("99.00 USD", "used")


def test_an_axis_meta_does_not_name_is_an_additional_variant_attribute():
    document = document_with_variants(options=["color", "width"])
    for entry, width in zip(document["variants"], ("wide", "narrow", "wide"), strict=True):
        entry["options"] = {"color": entry["options"]["color"], "width": width}

    first = map_listing(view(document)).items[0]

    assert first["color"] == "red"
    assert first["additional_variant_attribute"] == "width:wide"
    assert "size" not in first


def test_a_variant_without_stock_takes_its_availability_from_its_attributes():
    document = document_with_variants()
    document["variants"][0]["stock"] = None  # the product's available_quantity: 5
    document["variants"][1]["stock"] = None
    document["variants"][1]["attributes"] = {**document["attributes"], "availability": "preorder"}

    items = map_listing(view(document)).items

    assert [item["availability"] for item in items] == ["in stock", "preorder", "in stock"]


def test_variants_missing_availability_or_an_identifier_are_named():
    document = document_with_variants()
    unknown = ("available_quantity", "brand")
    bare = {k: v for k, v in document["attributes"].items() if k not in unknown}
    for entry in document["variants"]:
        entry["attributes"] = bare
    document["variants"][0]["stock"] = None

    assert map_listing(view(document)).missing == [
        "availability (/variants/<vid>/stock, or /attributes/availability or"
        " /attributes/available_quantity) of variant TS-1-RED-42",
        # TS-1-BLUE-42 has a barcode: its GTIN.
        "brand (/attributes/brand, or /attributes/gtin or /attributes/mpn, or"
        " /variants/<vid>/barcode) of variants TS-1-RED-42, TS-1-RED-43",
    ]


def test_options_without_any_variant_are_missing():
    assert map_listing(view(document_with_variants(variants=[]))).missing == [
        "variants (/variants): the product has options but no variant"
    ]


def test_publication_creates_the_groups_items(meta, make_processor, catalog_api):
    fake, adapter = meta
    catalog_api.document = document_with_variants()
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert set(fake.items) == VARIANT_SKUS
    assert {item["item_group_id"] for item in fake.items.values()} == {"TS-1"}
    [report] = catalog_api.reports
    assert (report["state"], report["external_id"]) == ("PUBLISHED", "TS-1")


def test_an_update_deletes_the_item_of_a_removed_variant_and_creates_new_ones(
    meta, make_processor, catalog_api
):
    fake, adapter = meta
    adapter.publish(view())
    document = document_with_variants()
    document["variants"].pop(1)
    document["variants"][1]["stock"] = 0
    document["variants"].append(
        variant("01JDX5Q0A1B2C3D4E5F6G7H8V4", "TS-1-BLUE-43", "blue", "43", stock=4)
    )
    catalog_api.document = document
    catalog_api.set_listing(CHANNEL, "PUBLISHED", "TS-1")

    make_processor(adapter).handle(
        cloud_event("ProductUpdated", 4, changed_fields=[f"/variants/{RED_43}"], channels=[CHANNEL])
    )

    assert catalog_api.reports[-1]["state"] == "PUBLISHED"
    assert set(fake.items) == {"TS-1-RED-42", "TS-1-BLUE-42", "TS-1-BLUE-43"}
    assert fake.items["TS-1-BLUE-42"]["availability"] == "out of stock"


def test_unpublication_deletes_every_item_of_the_group(meta, make_processor, catalog_api):
    fake, adapter = meta
    adapter.publish(view())
    fake.items["OTHER-1"] = {"title": "Another product"}
    catalog_api.document = document_with_variants()
    catalog_api.set_listing(CHANNEL, "UNPUBLISHING", "TS-1")

    make_processor(adapter).handle(cloud_event("ProductUnpublicationRequested", 4, channel=CHANNEL))

    assert catalog_api.reports[-1]["state"] == "UNPUBLISHED"
    assert set(fake.items) == {"OTHER-1"}


def test_a_product_listed_as_one_item_that_gains_variants_becomes_a_group(meta):
    fake, adapter = meta
    single = adapter.publish(ProductView.from_json(product_document(), CHANNEL))
    assert set(fake.items) == {"TS-1"}

    published = adapter.update(view(), single.external_id)

    assert published.external_id == "TS-1"
    assert set(fake.items) == VARIANT_SKUS

    again = adapter.update(ProductView.from_json(product_document(), CHANNEL), "TS-1")

    assert again.external_id == "TS-1"
    assert set(fake.items) == {"TS-1"}
    assert "item_group_id" not in fake.items["TS-1"]


def test_an_adapter_that_forgot_its_items_still_deletes_the_views_variants(meta):
    fake, adapter = meta
    adapter.publish(view())
    restarted = adapter_with(fake, adapter._http)  # a new, empty memory store

    restarted.unpublish(view(), "TS-1")

    assert fake.items == {}


def test_items_a_refused_batch_may_have_left_are_remembered_and_deleted_later(meta):
    fake, adapter = meta
    published = MemoryPublishedItems()
    adapter = adapter_with(fake, adapter._http, published)
    adapter.publish(view())
    document = document_with_variants()
    document["variants"].pop(0)
    document["variants"][0]["attributes"] = {**document["attributes"], "condition": "like new"}

    with pytest.raises(ChannelRejected, match=r"Invalid condition: like new \(TS-1-RED-43\)"):
        adapter.update(view(document), "TS-1")
    # The deletion of TS-1-RED-42 went through; nothing is forgotten meanwhile.
    assert published.items(KEY) == VARIANT_SKUS
    assert set(fake.items) == {"TS-1-RED-43", "TS-1-BLUE-42"}

    document["variants"][0]["attributes"] = document["attributes"]
    adapter.update(view(document), "TS-1")

    assert published.items(KEY) == {"TS-1-RED-43", "TS-1-BLUE-42"}


def test_a_republication_after_a_lost_outcome_updates_the_items(meta):
    fake, adapter = meta
    adapter.publish(view())
    document = document_with_variants(name="Trail shoe v2")

    assert adapter.publish(view(document)).external_id == "TS-1"
    assert {item["title"] for item in fake.items.values()} == {"Trail shoe v2"}


# The fake, as Meta: the variant rules of a group.


@pytest.fixture
def batch():
    fake = FakeMetaCatalog()
    with TestClient(fake.app, headers={"Authorization": f"Bearer {fake.access_token}"}) as client:

        def send(*requests: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
            answer = client.post(
                f"/v21.0/{fake.catalog_id}/items_batch",
                json={
                    "item_type": "PRODUCT_ITEM",
                    "requests": [{"method": m, "data": d} for m, d in requests],
                },
            ).json()
            status = client.get(
                f"/v21.0/{fake.catalog_id}/check_batch_request_status",
                params={"handle": answer["handles"][0]},
            )
            status = client.get(
                f"/v21.0/{fake.catalog_id}/check_batch_request_status",
                params={"handle": answer["handles"][0]},
            )
            errors: list[dict[str, Any]] = status.json()["data"][0]["errors"]
            return errors

        send.fake = fake  # type: ignore[attr-defined]
        yield send


def items() -> list[dict[str, Any]]:
    return map_listing(view()).items


def test_the_fake_refuses_a_variant_lacking_a_variant_field_its_group_uses(batch):
    red, red_43, blue = items()
    del blue["size"]

    errors = batch(("CREATE", red), ("CREATE", red_43), ("CREATE", blue))

    assert {e["id"] for e in errors} == VARIANT_SKUS
    assert "every variant must populate color, size; TS-1-BLUE-42 do not" in errors[0]["message"]
    assert batch.fake.items == {}


def test_the_fake_refuses_two_variants_with_the_same_values(batch):
    red, red_43, _ = items()
    batch(("CREATE", red))

    errors = batch(("CREATE", {**red_43, "size": "42"}))

    assert [e["message"] for e in errors] == [
        "Item group TS-1: TS-1-RED-42 and TS-1-RED-43 have the same variant values"
    ]
    assert set(batch.fake.items) == {"TS-1-RED-42"}


def test_the_fake_checks_an_update_that_creates_an_item_as_a_creation(batch):
    errors = batch(("UPDATE", {"id": "NEW-1", "title": "Only a title"}))

    assert "Missing required field: description" in [e["message"] for e in errors]
    assert batch.fake.items == {}
