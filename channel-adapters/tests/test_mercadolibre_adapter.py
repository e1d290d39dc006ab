"""Mercado Libre adapter against the fake items API: mapping, required fields, publish,
update, close."""

from __future__ import annotations

import pytest

from channel_kit import ChannelUnavailable, ProductView, Result
from conftest import cloud_event, product_document
from mercadolibre_adapter import MercadoLibreAdapter, MercadoLibreSettings, map_item

CHANNEL = "mercadolibre"
DEFAULTS = {"buying_mode": "buy_it_now"}


def view(**changes) -> ProductView:
    return ProductView.from_json(product_document(**changes), CHANNEL)


def with_attributes(**changes) -> ProductView:
    attributes = {**product_document()["attributes"], **changes}
    return view(attributes={k: v for k, v in attributes.items() if v is not None})


def test_the_view_maps_to_an_item():
    mapped = map_item(view(), DEFAULTS)

    assert mapped.missing == []
    assert mapped.item == {
        "title": "Trail shoe",
        "category_id": "MLA109027",
        "price": 129.99,
        "currency_id": "USD",
        "available_quantity": 5,
        "buying_mode": "buy_it_now",
        "listing_type_id": "gold_special",
        "condition": "new",
        "pictures": [{"source": "https://cdn.example.com/acme/ts-1.png"}],
        "attributes": [
            {"id": "BRAND", "value_name": "Acme"},
            {"id": "MODEL", "value_name": "Trail 1"},
        ],
        "description": {"plain_text": "A light trail running shoe."},
        "seller_custom_field": "TS-1",
    }


def test_explicit_category_attributes_win_over_generic_ones():
    mapped = map_item(
        with_attributes(category_attributes={"BRAND": "Acme Pro", "GENDER": "Unisex"}), DEFAULTS
    )

    assert mapped.item["attributes"] == [
        {"id": "BRAND", "value_name": "Acme Pro"},
        {"id": "MODEL", "value_name": "Trail 1"},
        {"id": "GENDER", "value_name": "Unisex"},
    ]


def test_zero_decimal_currencies_are_sent_as_integers():
    mapped = map_item(view(price={"amount": 15000, "currency": "CLP"}), DEFAULTS)

    assert mapped.item["price"] == 15000
    assert isinstance(mapped.item["price"], int)


def test_every_missing_required_field_is_named_with_its_source():
    incomplete = view(
        price=None,
        images=[],
        attributes={"available_quantity": "lots"},
    )

    missing = map_item(incomplete, {}).missing

    assert missing == [
        "price and currency_id (/price)",
        "pictures (/images)",
        "category_id (/attributes/category_id)",
        "buying_mode (/attributes/buying_mode)",
        "listing_type_id (/attributes/listing_type_id)",
        "condition (/attributes/condition)",
        "BRAND attribute (/attributes/brand)",
        # What a pointer cannot say: it is there, but not a number of units.
        "available_quantity (/attributes/available_quantity, an integer)",
    ]


def test_missing_fields_fail_the_listing_without_calling_mercado_libre(
    mercadolibre, make_processor, catalog_api
):
    fake, adapter = mercadolibre
    catalog_api.document["attributes"].pop("category_id")
    catalog_api.document["attributes"].pop("available_quantity")
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert fake.calls == []
    [report] = catalog_api.reports
    assert report["state"] == "FAILED"
    assert "category_id" in report["message"]
    assert "available_quantity" in report["message"]


def test_publication_creates_an_active_item_and_reports_its_id_and_permalink(
    mercadolibre, make_processor, catalog_api
):
    fake, adapter = mercadolibre
    catalog_api.set_listing(CHANNEL, "PENDING")

    handling = make_processor(adapter).handle(
        cloud_event("ProductPublicationRequested", 3, channel=CHANNEL)
    )

    assert handling.result is Result.HANDLED
    [item] = fake.items.values()
    assert item["status"] == "active"
    assert item["title"] == "Trail shoe"
    assert item["price"] == 129.99
    assert item["pictures"][0]["source"] == "https://cdn.example.com/acme/ts-1.png"
    assert fake.descriptions[item["id"]] == "A light trail running shoe."
    [report] = catalog_api.reports
    assert report["state"] == "PUBLISHED"
    assert report["external_id"] == item["id"]
    assert report["external_url"] == item["permalink"]


def test_an_update_changes_the_item_and_its_description(mercadolibre):
    fake, adapter = mercadolibre
    published = adapter.publish(view())

    adapter.update(
        view(
            name="Trail shoe v2", description="Lighter.", price={"amount": 9900, "currency": "USD"}
        ),
        published.external_id,
    )

    item = fake.items[published.external_id]
    assert (item["title"], item["price"]) == ("Trail shoe v2", 99.0)
    assert item["category_id"] == "MLA109027"
    assert fake.descriptions[published.external_id] == "Lighter."


def test_unpublishing_closes_the_item_and_closing_again_is_harmless(mercadolibre):
    fake, adapter = mercadolibre
    published = adapter.publish(view())

    adapter.unpublish(view(), published.external_id)
    adapter.unpublish(view(), published.external_id)
    adapter.unpublish(view(), "MLA404")

    assert fake.items[published.external_id]["status"] == "closed"


def test_the_category_required_attributes_are_checked_by_mercado_libre(
    mercadolibre, make_processor, catalog_api
):
    fake, adapter = mercadolibre
    catalog_api.document["attributes"].pop("model")
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert fake.items == {}
    [report] = catalog_api.reports
    assert report["state"] == "FAILED"
    assert "[MODEL]" in report["message"]


def test_a_title_over_sixty_characters_is_refused_by_mercado_libre(
    mercadolibre, make_processor, catalog_api
):
    _, adapter = mercadolibre
    catalog_api.document["name"] = "x" * 61
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert catalog_api.reports[0]["state"] == "FAILED"
    assert "60 characters" in catalog_api.reports[0]["message"]


def test_a_closed_item_cannot_be_updated(mercadolibre, make_processor, catalog_api):
    _, adapter = mercadolibre
    published = adapter.publish(view())
    adapter.unpublish(view(), published.external_id)
    catalog_api.set_listing(CHANNEL, "PUBLISHED", published.external_id)

    make_processor(adapter).handle(
        cloud_event("ProductUpdated", 4, changed_fields=["/name"], channels=[CHANNEL])
    )

    assert catalog_api.reports[0]["state"] == "FAILED"
    assert "closed" in catalog_api.reports[0]["message"]


def test_an_expired_token_is_transient(mercadolibre):
    fake, adapter = mercadolibre
    expired = MercadoLibreAdapter(
        MercadoLibreSettings(access_token="expired", api_url="https://api.mercadolibre.test"),
        adapter._http,
    )

    with pytest.raises(ChannelUnavailable):
        expired.publish(view())
    assert fake.items == {}
