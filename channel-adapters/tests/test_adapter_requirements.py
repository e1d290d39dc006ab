"""The reference adapters' declared requirements: `missing_fields` is derived from the same
pointers the catalog is told (so the two never disagree), plus only the rules pointers cannot
express; and the fakes still enforce what the channels do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from channel_fakes import FakeMetaCatalog
from channel_kit import ChannelAdapter, ProductView
from channel_kit.requirements import missing, required
from conftest import product_document
from mercadolibre_adapter import MercadoLibreAdapter, MercadoLibreSettings
from meta_adapter import MetaCatalogAdapter, MetaSettings
from meta_adapter import map_item as map_meta_item

UNUSED = httpx.Client(base_url="http://unused.test")

MERCADOLIBRE = MercadoLibreAdapter(MercadoLibreSettings(access_token="t"), UNUSED)
META = MetaCatalogAdapter(MetaSettings(access_token="t", catalog_id="1"), UNUSED)
ADAPTERS = pytest.mark.parametrize("adapter", [MERCADOLIBRE, META], ids=["mercadolibre", "meta"])


def view_without(pointer: str, adapter: ChannelAdapter) -> ProductView:
    """The complete test product, with what `pointer` names taken out."""
    document: dict[str, Any] = product_document()
    member = pointer.split("/")[1]
    if member == "attributes":
        document["attributes"].pop(pointer.split("/")[2])
    else:
        document[member] = [] if member == "images" else None
    return ProductView.from_json(document, adapter.channel)


def test_what_each_adapter_declares():
    assert MERCADOLIBRE.requirements == (
        "/name",
        "/price",
        "/images",
        "/attributes/category_id",
        "/attributes/available_quantity",
        # buying_mode has the adapter's default (buy_it_now): not required of the product.
        "/attributes/listing_type_id",
        "/attributes/condition",
        "/attributes/brand",
    )
    assert META.requirements == (
        "/name",
        "/description",
        "/price",
        "/images",
        "/attributes/condition",
        "/attributes/link",
    )


@ADAPTERS
def test_the_declaration_is_made_of_pointers_the_catalog_accepts(adapter):
    assert required(*adapter.requirements) == adapter.requirements


@ADAPTERS
def test_a_complete_product_misses_nothing_for_either(adapter):
    view = ProductView.from_json(product_document(), adapter.channel)

    assert missing(view, adapter.requirements) == ()
    assert adapter.missing_fields(view) == []


@ADAPTERS
def test_each_declared_pointer_the_product_misses_is_the_adapters_missing_field(adapter):
    for pointer in adapter.requirements:
        view = view_without(pointer, adapter)

        # What the catalog finds missing in this view, with the same declaration...
        assert missing(view, adapter.requirements) == (pointer,)
        # ...is exactly what the adapter refuses to publish without.
        [field] = adapter.missing_fields(view)
        assert field.endswith(f"({pointer})"), field


def test_mercado_libre_requires_of_the_product_only_what_has_no_default():
    settings = MercadoLibreSettings(
        access_token="t",
        defaults={"buying_mode": "buy_it_now", "listing_type_id": "gold_special"},
    )
    adapter = MercadoLibreAdapter(settings, UNUSED)
    document = product_document()
    document["attributes"].pop("listing_type_id")
    view = ProductView.from_json(document, adapter.channel)

    assert "/attributes/listing_type_id" not in adapter.requirements
    assert "/attributes/condition" in adapter.requirements
    assert adapter.missing_fields(view) == []


@pytest.mark.parametrize("identifier", ["brand", "gtin", "mpn"])
def test_meta_takes_a_brand_or_a_gtin_or_an_mpn_checked_by_the_adapter_only(identifier):
    document = product_document()
    document["attributes"].pop("brand")
    document["attributes"][identifier] = "0012345678905"
    view = ProductView.from_json(document, "meta")

    assert not any("/attributes/" + name in META.requirements for name in ("brand", "gtin"))
    assert META.missing_fields(view) == []


def test_meta_without_any_identifier_is_refused_by_the_adapter_though_not_by_the_declaration():
    document = product_document()
    document["attributes"].pop("brand")
    view = ProductView.from_json(document, "meta")

    assert missing(view, META.requirements) == ()
    assert META.missing_fields(view) == [
        "brand (/attributes/brand, or /attributes/gtin or /attributes/mpn)"
    ]


def test_meta_availability_comes_from_either_attribute_checked_by_the_adapter_only():
    document = product_document()
    document["attributes"].pop("available_quantity")
    view = ProductView.from_json(document, "meta")

    assert META.missing_fields(view) == [
        "availability (/attributes/availability or /attributes/available_quantity)"
    ]
    document["attributes"]["availability"] = "preorder"
    assert META.missing_fields(ProductView.from_json(document, "meta")) == []


def test_the_meta_fake_takes_a_gtin_instead_of_a_brand_and_refuses_neither():
    fake = FakeMetaCatalog(checks_until_finished=0)
    item = {
        "title": "Trail shoe",
        "description": "A light trail running shoe.",
        "availability": "in stock",
        "condition": "new",
        "price": "129.99 USD",
        "link": "https://shop.example.com/ts-1",
        "image_link": "https://cdn.example.com/ts-1.png",
    }
    with TestClient(fake.app) as http:

        def create(retailer_id: str, **fields: str) -> list[str]:
            url = f"/v21.0/{fake.catalog_id}/items_batch"
            data = {"id": retailer_id, **item, **fields}
            answer = http.post(
                url,
                json={
                    "item_type": "PRODUCT_ITEM",
                    "requests": [{"method": "CREATE", "data": data}],
                },
                headers={"Authorization": f"Bearer {fake.access_token}"},
            ).json()
            status = http.get(
                f"/v21.0/{fake.catalog_id}/check_batch_request_status",
                params={"handle": answer["handles"][0]},
                headers={"Authorization": f"Bearer {fake.access_token}"},
            ).json()["data"][0]
            return [error["message"] for error in status["errors"]]

        assert create("TS-1", gtin="0012345678905") == []
        assert create("TS-2") == ["Missing required field: brand (or gtin or mpn)"]
    assert set(fake.items) == {"TS-1"}
    assert fake.items["TS-1"]["gtin"] == "0012345678905"


def test_meta_sends_the_identifiers_it_has():
    document = product_document()
    document["attributes"].update(gtin="0012345678905", mpn="TR-1")
    data = map_meta_item(ProductView.from_json(document, "meta")).data

    assert (data["brand"], data["gtin"], data["mpn"]) == ("Acme", "0012345678905", "TR-1")
