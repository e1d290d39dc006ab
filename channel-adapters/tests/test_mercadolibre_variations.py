"""Mercado Libre publishes a product's variants as the item's `variations`: attribute
combinations, stock, SELLER_SKU and pictures, at one price; the fake enforces ML's rules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from channel_fakes import FakeMercadoLibre
from channel_kit import ChannelRejected, ProductView
from conftest import BLUE_42, RED_42, RED_43, cloud_event, product_document, variant
from conftest import variants_document as document_with_variants
from mercadolibre_adapter import map_item

CHANNEL = "mercadolibre"
DEFAULTS = {"buying_mode": "buy_it_now"}
FRONT = "https://cdn.example.com/acme/ts-1.png"
RED = "https://cdn.example.com/acme/ts-1-red.png"


def view(document: dict[str, Any] | None = None) -> ProductView:
    return ProductView.from_json(document or document_with_variants(), CHANNEL)


def skus(item: dict[str, Any]) -> list[str]:
    return [
        next(a["value_name"] for a in v["attributes"] if a["id"] == "SELLER_SKU")
        for v in item["variations"]
    ]


def test_each_variant_is_a_variation_of_one_item():
    mapped = map_item(view(), DEFAULTS)

    assert mapped.missing == []
    item = mapped.item
    assert item["price"] == 129.99
    assert item["available_quantity"] == 3 + 0 + 7  # the variations' sum
    assert item["pictures"] == [{"source": FRONT}, {"source": RED}]
    assert item["variations"] == [
        {
            "attribute_combinations": [
                {"id": "COLOR", "value_name": "red"},
                {"id": "SIZE", "value_name": "42"},
            ],
            "picture_ids": [RED],
            "attributes": [{"id": "SELLER_SKU", "value_name": "TS-1-RED-42"}],
            "price": 129.99,
            "available_quantity": 3,
        },
        {
            "attribute_combinations": [
                {"id": "COLOR", "value_name": "red"},
                {"id": "SIZE", "value_name": "43"},
            ],
            "picture_ids": [RED],
            "attributes": [{"id": "SELLER_SKU", "value_name": "TS-1-RED-43"}],
            "price": 129.99,
            "available_quantity": 0,
        },
        {
            "attribute_combinations": [
                {"id": "COLOR", "value_name": "blue"},
                {"id": "SIZE", "value_name": "42"},
            ],
            # No image of its own: the product's.
            "picture_ids": [FRONT, RED],
            "attributes": [
                {"id": "SELLER_SKU", "value_name": "TS-1-BLUE-42"},
                {"id": "GTIN", "value_name": "4006381333931"},
            ],
            "price": 129.99,
            "available_quantity": 7,
        },
    ]
    assert item["seller_custom_field"] == "TS-1"


def test_what_varies_is_said_per_variation_not_for_the_item():
    document = document_with_variants()
    document["attributes"] = {**document["attributes"], "color": "red", "gtin": "4006381333931"}

    attributes = map_item(view(document), DEFAULTS).item["attributes"]

    assert attributes == [
        {"id": "BRAND", "value_name": "Acme"},
        {"id": "MODEL", "value_name": "Trail 1"},
    ]


def test_an_axis_without_a_standard_attribute_is_combined_under_its_name_in_capitals():
    document = document_with_variants(options=["voltage"])
    for entry, volts in zip(document["variants"], ("110V", "220V", "12V"), strict=True):
        entry["options"] = {"voltage": volts}

    [first, *_] = map_item(view(document), DEFAULTS).item["variations"]

    assert first["attribute_combinations"] == [{"id": "VOLTAGE", "value_name": "110V"}]


def test_a_variant_without_stock_offers_its_effective_available_quantity():
    document = document_with_variants()
    document["variants"][0]["stock"] = None  # attributes: the product's, 5 units
    document["variants"][1]["stock"] = None
    document["variants"][1]["attributes"] = {**document["attributes"], "available_quantity": 2}

    item = map_item(view(document), DEFAULTS).item

    assert [v["available_quantity"] for v in item["variations"]] == [5, 2, 7]
    assert item["available_quantity"] == 14


def test_a_variant_with_no_quantity_at_all_is_missing_before_any_call():
    document = document_with_variants()
    for entry in document["variants"][:2]:
        entry["stock"] = None
        entry["attributes"] = {**document["attributes"], "available_quantity": "lots"}

    assert map_item(view(document), DEFAULTS).missing == [
        "available_quantity (/variants/<vid>/stock, or an integer /attributes/available_quantity)"
        " of variants TS-1-RED-42, TS-1-RED-43"
    ]


def test_variants_without_a_price_name_themselves():
    document = document_with_variants(price=None)
    document["variants"][1]["price"] = None

    assert map_item(view(document), DEFAULTS).missing == [
        "price and currency_id (/variants/<vid>/price) of variant TS-1-RED-43"
    ]


def test_options_without_any_variant_are_missing():
    document = document_with_variants(variants=[])

    assert map_item(view(document), DEFAULTS).missing == [
        "variations (/variants): the product has options but no variant"
    ]


def test_variants_at_different_prices_on_the_channel_are_refused_naming_the_prices():
    document = document_with_variants()
    document["variants"][2]["price"] = {"amount": 11999, "currency": "USD"}

    with pytest.raises(ChannelRejected) as refused:
        map_item(view(document), DEFAULTS)

    assert refused.value.message == (
        "Mercado Libre lists every variation of an item at one price, and the variants differ"
        " on mercadolibre: 129.99 USD (TS-1-RED-42, TS-1-RED-43); 119.99 USD (TS-1-BLUE-42)."
        " Give them one price on mercadolibre"
        " (channel_overrides.mercadolibre.variants.<vid>.price)"
    )


def test_differing_prices_fail_the_listing_without_calling_mercado_libre(
    mercadolibre, make_processor, catalog_api
):
    fake, adapter = mercadolibre
    catalog_api.document = document_with_variants()
    catalog_api.document["variants"][0]["price"] = {"amount": 9900, "currency": "USD"}
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert fake.calls == []
    [report] = catalog_api.reports
    assert report["state"] == "FAILED"
    assert "99.00 USD (TS-1-RED-42); 129.99 USD (TS-1-RED-43, TS-1-BLUE-42)" in report["message"]


def test_prices_the_channel_override_made_one_are_published(mercadolibre):
    """The catalog's `?channel=` view resolves the override: every variant costs the same."""
    fake, adapter = mercadolibre
    document = document_with_variants(price={"amount": 9900, "currency": "USD"})
    for entry in document["variants"]:
        entry["price"] = {"amount": 10900, "currency": "USD"}

    published = adapter.publish(view(document))

    item = fake.items[published.external_id]
    assert item["price"] == 109.0
    assert {v["price"] for v in item["variations"]} == {109.0}


def test_publication_lists_the_variations_with_ids_from_mercado_libre(
    mercadolibre, make_processor, catalog_api
):
    fake, adapter = mercadolibre
    catalog_api.document = document_with_variants()
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    [item] = fake.items.values()
    assert catalog_api.reports[0]["state"] == "PUBLISHED"
    assert catalog_api.reports[0]["external_id"] == item["id"]
    assert skus(item) == ["TS-1-RED-42", "TS-1-RED-43", "TS-1-BLUE-42"]
    assert all(isinstance(v["id"], int) for v in item["variations"])
    assert item["available_quantity"] == 10
    red_picture = item["pictures"][1]["id"]
    assert item["variations"][0]["picture_ids"] == [red_picture]


def test_an_update_keeps_the_variations_it_still_has_and_removes_the_others(
    mercadolibre, make_processor, catalog_api
):
    fake, adapter = mercadolibre
    published = adapter.publish(view())
    listed = fake.items[published.external_id]
    ids_before = dict(zip(skus(listed), [v["id"] for v in listed["variations"]], strict=True))
    document = document_with_variants()
    red_43 = document["variants"].pop(1)
    assert red_43["id"] == RED_43
    document["variants"][1]["stock"] = 2
    document["variants"].append(
        variant("01JDX5Q0A1B2C3D4E5F6G7H8V4", "TS-1-BLUE-43", "blue", "43", stock=4)
    )
    catalog_api.document = document
    catalog_api.set_listing(CHANNEL, "PUBLISHED", published.external_id)

    make_processor(adapter).handle(
        cloud_event("ProductUpdated", 4, changed_fields=[f"/variants/{RED_43}"], channels=[CHANNEL])
    )

    assert catalog_api.reports[-1]["state"] == "PUBLISHED"
    item = fake.items[published.external_id]
    assert skus(item) == ["TS-1-RED-42", "TS-1-BLUE-42", "TS-1-BLUE-43"]
    ids = [v["id"] for v in item["variations"]]
    assert ids[:2] == [ids_before["TS-1-RED-42"], ids_before["TS-1-BLUE-42"]]
    assert ids[2] not in ids_before.values()
    assert [v["available_quantity"] for v in item["variations"]] == [3, 2, 4]
    assert item["available_quantity"] == 9


def test_a_variant_whose_sku_changed_keeps_its_variation(mercadolibre):
    fake, adapter = mercadolibre
    published = adapter.publish(view())
    item = fake.items[published.external_id]
    blue_id = item["variations"][2]["id"]
    document = document_with_variants()
    document["variants"][2]["sku"] = "TS-1-AZUL-42"

    adapter.update(view(document), published.external_id)

    assert item["variations"][2]["id"] == blue_id
    assert skus(item)[2] == "TS-1-AZUL-42"


def test_variants_added_to_a_product_listed_without_become_its_variations(mercadolibre):
    fake, adapter = mercadolibre
    published = adapter.publish(ProductView.from_json(product_document(), CHANNEL))

    adapter.update(view(), published.external_id)

    assert skus(fake.items[published.external_id]) == [
        "TS-1-RED-42",
        "TS-1-RED-43",
        "TS-1-BLUE-42",
    ]


def test_removing_every_variant_is_refused_by_mercado_libre(mercadolibre):
    """ML keeps an item's variations: unpublish, then publish the product again."""
    fake, adapter = mercadolibre
    published = adapter.publish(view())

    with pytest.raises(ChannelRejected, match="set available_quantity on each variation"):
        adapter.update(ProductView.from_json(product_document(), CHANNEL), published.external_id)
    assert len(fake.items[published.external_id]["variations"]) == 3


def test_unpublishing_closes_the_item_with_its_variations(
    mercadolibre, make_processor, catalog_api
):
    fake, adapter = mercadolibre
    published = adapter.publish(view())
    catalog_api.document = document_with_variants()
    catalog_api.set_listing(CHANNEL, "UNPUBLISHING", published.external_id)

    make_processor(adapter).handle(cloud_event("ProductUnpublicationRequested", 4, channel=CHANNEL))

    assert catalog_api.reports[-1]["state"] == "UNPUBLISHED"
    assert fake.items[published.external_id]["status"] == "closed"


# The fake, as Mercado Libre: what it refuses of variations.


@pytest.fixture
def api():
    fake = FakeMercadoLibre()
    with TestClient(fake.app, headers={"Authorization": f"Bearer {fake.access_token}"}) as client:
        yield client


def item_body(**changes: Any) -> dict[str, Any]:
    body = map_item(view(), DEFAULTS).item
    body.update(changes)
    return body


def refusal(response: Any) -> list[str]:
    assert response.status_code == 400, response.text
    return [cause["code"] for cause in response.json()["cause"]]


def test_the_fake_refuses_two_variations_with_one_combination(api):
    body = item_body()
    body["variations"][1]["attribute_combinations"][1]["value_name"] = "42"

    assert refusal(api.post("/items", json=body)) == ["item.variations.duplicated"]


def test_the_fake_refuses_variations_at_different_prices(api):
    body = item_body()
    body["variations"][0]["price"] = 99.0

    assert refusal(api.post("/items", json=body)) == ["item.variations.price.invalid"]


def test_the_fake_refuses_combinations_the_category_does_not_allow(api):
    body = item_body()
    for variation in body["variations"]:
        variation["attribute_combinations"][1]["id"] = "VOLTAGE"

    not_allowed = "item.variations.attribute_combinations.not_allowed"
    assert refusal(api.post("/items", json=body)) == [not_allowed] * 3


def test_the_fake_refuses_variations_combining_different_attributes(api):
    body = item_body()
    body["variations"][0]["attribute_combinations"].pop()

    assert refusal(api.post("/items", json=body)) == [
        "item.variations.attribute_combinations.inconsistent"
    ]


def test_the_fake_refuses_a_variation_without_a_picture_of_the_item(api):
    body = item_body()
    body["variations"][0]["picture_ids"] = []
    body["variations"][1]["picture_ids"] = ["https://elsewhere.example.com/x.png"]

    assert refusal(api.post("/items", json=body)) == [
        "item.variations.pictures.missing",
        "item.variations.picture_ids.invalid",
    ]


def test_the_fake_refuses_more_variations_than_the_category_takes():
    fake = FakeMercadoLibre(max_variations=2)
    with TestClient(fake.app, headers={"Authorization": f"Bearer {fake.access_token}"}) as api:
        assert refusal(api.post("/items", json=item_body())) == ["item.variations.max"]


def test_the_fake_refuses_an_unknown_variation_id_and_a_quantity_of_the_item(api):
    created = api.post("/items", json=item_body())
    assert created.status_code == 201, created.text
    item = created.json()
    url = f"/items/{item['id']}"

    unknown = [{**item["variations"][0], "id": 1}]
    assert refusal(api.put(url, json={"variations": unknown})) == ["item.variations.id.invalid"]
    assert refusal(api.put(url, json={"available_quantity": 3})) == [
        "item.available_quantity.invalid"
    ]
    assert refusal(api.put(url, json={"variations": []})) == ["item.variations.empty"]
    kept = api.put(url, json={"variations": [{"id": item["variations"][2]["id"]}]})
    assert kept.status_code == 200, kept.text
    assert kept.json()["available_quantity"] == 7


@pytest.mark.parametrize("vid", [RED_42, BLUE_42])
def test_an_existing_variation_changes_by_its_id(api, vid):
    created = api.post("/items", json=item_body()).json()
    index = {RED_42: 0, BLUE_42: 2}[vid]
    variations = [{"id": v["id"]} for v in created["variations"]]
    variations[index]["available_quantity"] = 11

    changed = api.put(f"/items/{created['id']}", json={"variations": variations}).json()

    assert changed["variations"][index]["available_quantity"] == 11
    assert [v["id"] for v in changed["variations"]] == [v["id"] for v in created["variations"]]
