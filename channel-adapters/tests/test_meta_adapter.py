"""Meta catalog adapter against the fake Catalog Batch API: mapping, required fields,
publish (CREATE), update (UPDATE), unpublish (DELETE), batch status polling."""

from __future__ import annotations

import pytest

from channel_kit import ChannelRejected, ChannelUnavailable, ProductView
from conftest import cloud_event, product_document
from meta_adapter import MetaCatalogAdapter, MetaSettings, map_item

CHANNEL = "meta"


def view(**changes) -> ProductView:
    return ProductView.from_json(product_document(**changes), CHANNEL)


def with_attributes(**changes) -> ProductView:
    attributes = {**product_document()["attributes"], **changes}
    return view(attributes={k: v for k, v in attributes.items() if v is not None})


def test_the_view_maps_to_a_catalog_item():
    mapped = map_item(view())

    assert mapped.missing == []
    assert mapped.retailer_id == "TS-1"
    assert mapped.data == {
        "id": "TS-1",
        "title": "Trail shoe",
        "description": "A light trail running shoe.",
        "availability": "in stock",
        "condition": "new",
        "price": "129.99 USD",
        "link": "https://shop.example.com/ts-1",
        "image_link": "https://cdn.example.com/acme/ts-1.png",
        "brand": "Acme",
    }


def test_availability_comes_from_the_attribute_or_the_stock():
    assert map_item(with_attributes(available_quantity=0)).data["availability"] == "out of stock"
    explicit = with_attributes(availability="preorder", available_quantity=0)
    assert map_item(explicit).data["availability"] == "preorder"


def test_prices_keep_the_currency_minor_digits():
    assert map_item(view(price={"amount": 5, "currency": "EUR"})).data["price"] == "0.05 EUR"
    assert map_item(view(price={"amount": 1500, "currency": "JPY"})).data["price"] == "1500 JPY"
    assert map_item(view(price={"amount": 1234, "currency": "KWD"})).data["price"] == "1.234 KWD"


def test_every_missing_required_field_is_named_with_its_source():
    incomplete = view(description=None, price=None, images=[], attributes={})

    assert map_item(incomplete).missing == [
        "description (/description)",
        "price (/price)",
        "image_link (/images)",
        "condition (/attributes/condition)",
        "link (/attributes/link)",
        # The either-or rules the declared pointers cannot express.
        "availability (/attributes/availability or /attributes/available_quantity)",
        "brand (/attributes/brand, or /attributes/gtin or /attributes/mpn)",
    ]


def test_missing_fields_fail_the_listing_without_calling_meta(meta, make_processor, catalog_api):
    fake, adapter = meta
    catalog_api.document["attributes"].pop("brand")
    catalog_api.document["attributes"].pop("link")
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert fake.calls == []
    [report] = catalog_api.reports
    assert report["state"] == "FAILED"
    assert "brand (/attributes/brand, or /attributes/gtin or /attributes/mpn)" in report["message"]
    assert "link (/attributes/link)" in report["message"]


def test_publication_creates_the_item_once_the_batch_is_finished(meta, make_processor, catalog_api):
    fake, adapter = meta
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert fake.items["TS-1"]["price"] == "129.99 USD"
    assert fake.items["TS-1"]["title"] == "Trail shoe"
    paths = [path for _, path in fake.calls]
    assert paths.count(f"/v21.0/{fake.catalog_id}/check_batch_request_status") == 2
    [report] = catalog_api.reports
    assert (report["state"], report["external_id"]) == ("PUBLISHED", "TS-1")


def test_publishing_an_item_that_already_exists_updates_it(meta):
    fake, adapter = meta
    adapter.publish(view())

    published = adapter.publish(view(name="Trail shoe v2"))

    assert published.external_id == "TS-1"
    assert fake.items["TS-1"]["title"] == "Trail shoe v2"


def test_update_and_unpublish(meta):
    fake, adapter = meta
    adapter.publish(view())

    adapter.update(view(price={"amount": 9900, "currency": "USD"}), "TS-1")
    assert fake.items["TS-1"]["price"] == "99.00 USD"

    adapter.unpublish(view(), "TS-1")
    adapter.unpublish(view(), "TS-1")
    assert fake.items == {}


def test_values_meta_refuses_fail_with_its_message(meta, make_processor, catalog_api):
    fake, adapter = meta
    catalog_api.document["attributes"]["condition"] = "like new"
    catalog_api.set_listing(CHANNEL, "PENDING")

    make_processor(adapter).handle(cloud_event("ProductPublicationRequested", 3, channel=CHANNEL))

    assert fake.items == {}
    assert catalog_api.reports[0]["state"] == "FAILED"
    assert "Invalid condition: like new" in catalog_api.reports[0]["message"]


def test_a_batch_that_does_not_finish_in_time_is_transient(meta):
    fake, adapter = meta
    fake.checks_until_finished = 100

    with pytest.raises(ChannelUnavailable):
        adapter.publish(view())


def test_an_unknown_catalog_is_refused(meta):
    fake, adapter = meta
    other = MetaCatalogAdapter(
        MetaSettings(
            access_token=fake.access_token,
            catalog_id="999",
            graph_url="https://graph.facebook.test",
            status_interval=0,
        ),
        adapter._http,
    )

    with pytest.raises(ChannelRejected, match="code 100"):
        other.publish(view())
