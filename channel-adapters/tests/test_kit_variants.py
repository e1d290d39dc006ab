"""The kit reads variants from the effective view, checks the price the catalog's way with
variants, names variant gaps briefly, keeps the items adapters publish, and never sends the
catalog an outcome message longer than it takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from channel_kit import (
    ListingKey,
    MemoryPublishedItems,
    Money,
    ProductView,
    SqlitePublishedItems,
    SqliteState,
    Variant,
)
from channel_kit.requirements import missing, named
from channel_kit.runtime import KitSettings, published_items
from conftest import (
    BLUE_42,
    PRODUCT_ID,
    RED_42,
    RED_43,
    RED_IMAGE_ID,
    product_document,
    variants_document,
)

KEY = ListingKey("acme", PRODUCT_ID, "meta")


def test_the_view_gives_the_options_and_each_variant_as_effective_on_the_channel():
    view = ProductView.from_json(variants_document(), "meta")

    assert view.options == ("color", "size")
    assert [v.sku for v in view.variants] == ["TS-1-RED-42", "TS-1-RED-43", "TS-1-BLUE-42"]
    red = view.variants[0]
    assert red == Variant(
        id=RED_42,
        sku="TS-1-RED-42",
        options={"color": "red", "size": "42"},
        price=Money(12999, "USD"),
        attributes=product_document()["attributes"],
        image_ids=(RED_IMAGE_ID,),
        barcode=None,
        stock=3,
    )
    assert view.variants[2].barcode == "4006381333931"


def test_a_variant_image_is_the_product_image_of_that_id_in_the_variant_order():
    document = variants_document()
    document["variants"][0]["image_ids"] = [RED_IMAGE_ID, "gone", document["images"][0]["id"]]
    view = ProductView.from_json(document, "meta")

    urls = [image.url for image in view.images_of(view.variants[0])]

    assert urls == [
        "https://cdn.example.com/acme/ts-1-red.png",
        "https://cdn.example.com/acme/ts-1.png",
    ]
    assert view.images_of(view.variants[2]) == ()


@pytest.mark.parametrize(
    "document",
    [
        product_document(options=[], variants=[]),
        product_document(),  # a catalog from before variants: no such members
    ],
    ids=["no-options", "older-catalog"],
)
def test_a_product_without_variants_reads_as_before(document):
    view = ProductView.from_json(document, "meta")

    assert (view.options, view.variants) == ((), ())


def test_with_variants_the_price_is_each_variants_as_the_catalog_counts_it():
    complete = ProductView.from_json(variants_document(price=None), "meta")
    assert missing(complete, ["/name", "/price"]) == ()

    document = variants_document()
    document["variants"][1]["price"] = None
    document["variants"][2]["price"] = None
    view = ProductView.from_json(document, "meta")

    assert missing(view, ["/price", "/images"]) == (
        f"/variants/{RED_43}/price",
        f"/variants/{BLUE_42}/price",
    )
    # The same for a view built by hand (no raw document).
    by_hand = ProductView(**{**view.__dict__, "raw": {}})
    assert missing(by_hand, ["/price"]) == missing(view, ["/price"])


@pytest.mark.parametrize("options", [[], ["color"]], ids=["no-options", "no-variant-yet"])
def test_without_variants_the_price_is_the_products(options):
    document = product_document(price=None, options=options, variants=[])

    assert missing(ProductView.from_json(document, "meta"), ["/price"]) == ("/price",)


def test_variant_gaps_are_named_once_with_the_skus_concerned():
    document = variants_document()
    for variant in document["variants"]:
        variant["price"] = None
    view = ProductView.from_json(document, "meta")

    assert named(view, missing(view, ["/name", "/price"]), {"/price": "price"}) == [
        "price (/variants/<vid>/price) of variants TS-1-RED-42, TS-1-RED-43, TS-1-BLUE-42"
    ]


@pytest.fixture(params=["memory", "sqlite"])
def items(request, tmp_path: Path):
    if request.param == "memory":
        return MemoryPublishedItems()
    return SqlitePublishedItems(SqliteState(tmp_path / "state.db"))


def test_published_items_are_replaced_per_listing(items):
    other = KEY._replace(channel="mercadolibre")
    assert items.items(KEY) == frozenset()

    items.replace(KEY, ["A", "B"])
    items.replace(other, ["C"])
    items.replace(KEY, ["B", "D", "D"])

    assert items.items(KEY) == {"B", "D"}
    assert items.items(other) == {"C"}
    items.replace(KEY, ())
    assert items.items(KEY) == frozenset()


def test_published_items_in_sqlite_survive_a_restart(tmp_path: Path):
    SqlitePublishedItems(SqliteState(tmp_path / "state.db")).replace(KEY, ["A"])

    assert SqlitePublishedItems(SqliteState(tmp_path / "state.db")).items(KEY) == {"A"}


def test_the_runtime_keeps_published_items_in_the_state_file_when_there_is_one(tmp_path: Path):
    settings = KitSettings.from_env(
        {
            "CATALOG_API_URL": "http://catalog.test",
            "CATALOG_CHANNEL_TOKEN": "t",
            "ADAPTER_MERCHANTS": "acme",
            "ADAPTER_STATE_DB": str(tmp_path / "state.db"),
        }
    )
    published_items(settings).replace(KEY, ["A"])

    assert published_items(settings).items(KEY) == {"A"}
    assert SqlitePublishedItems(SqliteState(tmp_path / "state.db")).items(KEY) == {"A"}
    in_memory = KitSettings("http://catalog.test", "t", settings.merchants)
    assert isinstance(published_items(in_memory), MemoryPublishedItems)


def test_an_outcome_message_longer_than_the_catalog_takes_is_cut(catalog_client, catalog_api):
    catalog_client.report("acme", PRODUCT_ID, "meta", "FAILED", 3, message="x" * 5000)

    [report] = catalog_api.reports
    assert len(report["message"]) == 2000
    assert report["message"].endswith("...")
