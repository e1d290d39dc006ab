"""End to end: `make demo`'s script against the real embedded catalog (`catalog serve`), both
adapters and both channel fakes, asserting what the catalog and the channels ended up with,
and that the channels' declared requirements refused a publication request until the
merchant added what they need; then the same for a product with variants."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from mercadolibre_adapter import MercadoLibreAdapter, MercadoLibreSettings
from meta_adapter import MetaCatalogAdapter, MetaSettings

UNUSED = httpx.Client(base_url="http://unused.test")
DEMO = Path(__file__).resolve().parents[2] / "demo" / "demo.py"


def test_one_product_goes_through_its_whole_life_on_two_channels(tmp_path: Path):
    report_path = tmp_path / "report.json"

    run = subprocess.run(
        [sys.executable, str(DEMO), "--report", str(report_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(report_path.read_text())

    # Each adapter declared its channel's requirements on start, as its own code states them.
    assert report["requirements"] == {
        "mercadolibre": list(MercadoLibreAdapter(MercadoLibreSettings("t"), UNUSED).requirements),
        "meta": list(MetaCatalogAdapter(MetaSettings("t", "1"), UNUSED).requirements),
    }
    # A publication request missing what they declared is refused at once, naming it.
    refused = report["refused"]
    for channel, missing in {
        "mercadolibre": ["/attributes/condition"],
        "meta": ["/attributes/condition", "/attributes/link"],
    }.items():
        problem = refused[channel]
        assert (problem["status"], problem["type"]) == (422, "/problems/product-incomplete")
        assert (problem["channel"], problem["missing"]) == (channel, missing)

    published = report["published"]
    listings = published["product"]["listings"]
    assert published["product"]["status"] == "ACTIVE"
    assert listings["mercadolibre"]["external_id"] == published["mercadolibre_item"]["id"]
    assert listings["mercadolibre"]["external_url"] == published["mercadolibre_item"]["permalink"]
    assert listings["meta"]["external_id"] == "TS-1"
    # Mercado Libre got its channel override (price, category), Meta the product's own price.
    assert published["mercadolibre_item"]["price"] == 119.99
    assert published["mercadolibre_item"]["category_id"] == "MLA109027"
    assert published["mercadolibre_item"]["pictures"][0]["source"].startswith("http://127.0.0.1:")
    assert published["meta_item"]["price"] == "129.99 USD"
    assert published["meta_item"]["brand"] == "Acme"

    updated = report["updated"]
    assert updated["mercadolibre_item"]["price"] == 99.99
    assert updated["meta_item"]["price"] == "109.99 USD"
    assert {c: listing["state"] for c, listing in updated["product"]["listings"].items()} == {
        "mercadolibre": "PUBLISHED",
        "meta": "PUBLISHED",
    }

    deactivated = report["deactivated"]
    assert deactivated["product"]["status"] == "INACTIVE"
    assert {c: listing["state"] for c, listing in deactivated["product"]["listings"].items()} == {
        "mercadolibre": "UNPUBLISHED",
        "meta": "UNPUBLISHED",
    }
    assert deactivated["mercadolibre_item"]["status"] == "closed"
    assert deactivated["meta_item_present"] is False

    events = report["events"]
    shoe_events = [e for e in events if e["data"].get("product_id") == deactivated["product"]["id"]]
    declarations = [e for e in events if "product_id" not in e["data"]]
    # Each adapter's declaration, once.
    assert [e["type"] for e in declarations] == ["ChannelRequirementsChanged"] * 2
    assert Counter(event["type"] for event in shoe_events) == {
        "ProductCreated": 1,
        # The image, the condition and link, the price, the Mercado Libre price override.
        "ProductUpdated": 4,
        "ProductStatusChanged": 2,  # DRAFT -> READY, READY -> ACTIVE
        "ProductPublicationRequested": 2,
        "ProductPublished": 2,
        "ProductDeactivated": 1,
        "ProductUnpublicationRequested": 2,
        "ProductUnpublished": 2,
    }
    assert transitions(shoe_events) == [
        ("DRAFT", "READY"),
        ("READY", "ACTIVE"),
        ("ACTIVE", "INACTIVE"),
    ]
    versions = [event["data"]["version"] for event in shoe_events]
    assert versions == sorted(versions)

    shirt_id = assert_variants_on_both_channels(report["variants"])
    shirt_events = [e for e in events if e["data"].get("product_id") == shirt_id]
    assert len(declarations) + len(shoe_events) + len(shirt_events) == len(events)
    assert Counter(event["type"] for event in shirt_events) == {
        "ProductCreated": 1,
        # The image, the variant's own price, its Mercado Libre override, the variant removed.
        "ProductUpdated": 4,
        "ProductStatusChanged": 2,
        "ProductPublicationRequested": 2,
        # Both channels, then Mercado Libre again once the override made the prices one.
        "ProductPublished": 3,
        "ProductPublicationFailed": 1,
    }
    assert transitions(shirt_events) == [("DRAFT", "READY"), ("READY", "ACTIVE")]
    (failed,) = [e for e in shirt_events if e["type"] == "ProductPublicationFailed"]
    assert failed["data"]["channel"] == "mercadolibre"
    versions = [event["data"]["version"] for event in shirt_events]
    assert versions == sorted(versions)
    # Every event printed once, under the step that caused it, in the same order every run.
    transcript = run.stdout.splitlines()
    assert transcript[0].startswith("catalog: http://127.0.0.1:")  # its port and folder vary
    assert transcript[1:] == EXPECTED_TRANSCRIPT.splitlines()
    assert not re.search(r"\b(True|False|None)\b|\[\]|\['", run.stdout)


SHIRT_VARIANTS = [
    # sku, options, stock, barcode
    ("TEE-1-RED-M", {"color": "red", "size": "M"}, 4, "4006381333931"),
    ("TEE-1-RED-L", {"color": "red", "size": "L"}, 3, None),
    ("TEE-1-BLUE-M", {"color": "blue", "size": "M"}, 5, None),
]
USD_25 = {"amount": 2500, "currency": "USD"}


def assert_variants_on_both_channels(variants: dict[str, Any]) -> str:
    """The shirt's steps: what the catalog and both fakes held after each; its product id."""
    shirt = variants["registered"]
    assert (shirt["sku"], shirt["status"], shirt["options"]) == (
        "TEE-1",
        "READY",
        ["color", "size"],
    )
    assert [(v["sku"], v["options"], v["stock"], v["barcode"]) for v in shirt["variants"]] == (
        SHIRT_VARIANTS
    )
    vid = {variant["sku"]: variant["id"] for variant in shirt["variants"]}

    # Published: one Mercado Libre item with a variation per variant, at the shirt's price.
    published = variants["published"]
    assert published["product"]["status"] == "ACTIVE"
    assert listing_states(published["product"]) == {
        "mercadolibre": "PUBLISHED",
        "meta": "PUBLISHED",
    }
    ml_item = published["mercadolibre_item"]
    assert published["product"]["listings"]["mercadolibre"]["external_id"] == ml_item["id"]
    assert ml_item["seller_custom_field"] == "TEE-1"
    assert variations(ml_item) == [
        (
            {"COLOR": options["color"], "SIZE": options["size"]},
            stock,
            25.0,
            {"SELLER_SKU": sku, **({"GTIN": barcode} if barcode else {})},
        )
        for sku, options, stock, barcode in SHIRT_VARIANTS
    ]
    assert ml_item["available_quantity"] == 4 + 3 + 5
    # What varies is said per variation, not on the item.
    assert {a["id"] for a in ml_item["attributes"]} == {"BRAND"}
    # Meta: one item per variant sharing the group the listing names; no item of the product.
    group = published["product"]["listings"]["meta"]["external_id"]
    assert group == "TEE-1"
    assert published["meta_retailer_ids"] == ["TEE-1-BLUE-M", "TEE-1-RED-L", "TEE-1-RED-M"]
    assert meta_variants(published["meta_items"]) == {
        sku: (group, options["color"], options["size"], "25.00 USD", "in stock", barcode)
        for sku, options, _, barcode in SHIRT_VARIANTS
    }

    # One variant's own price: Meta lists it; Mercado Libre refuses (one price per item),
    # naming the prices and their SKUs, and leaves the live item as it was.
    differs = variants["price_differs"]
    listing = differs["product"]["listings"]["mercadolibre"]
    assert listing["state"] == "PUBLISHED"  # still live on Mercado Libre
    assert "25.00 USD (TEE-1-RED-M, TEE-1-RED-L); 27.00 USD (TEE-1-BLUE-M)" in listing["message"]
    assert "channel_overrides.mercadolibre.variants.<vid>.price" in listing["message"]
    assert differs["product"]["listings"]["meta"]["message"] is None
    assert differs["mercadolibre_item"] == ml_item
    assert {sku: item["price"] for sku, item in differs["meta_items"].items()} == {
        "TEE-1-BLUE-M": "27.00 USD",
        "TEE-1-RED-L": "25.00 USD",
        "TEE-1-RED-M": "25.00 USD",
    }

    # The shirt's price for that variant on Mercado Libre only: confirmed there again.
    overridden = variants["overridden"]
    overrides = overridden["product"]["channel_overrides"]["mercadolibre"]["variants"]
    assert overrides == {vid["TEE-1-BLUE-M"]: {"price": USD_25, "attributes": None}}
    listing = overridden["product"]["listings"]["mercadolibre"]
    assert (listing["state"], listing["external_id"], listing["message"]) == (
        "PUBLISHED",
        ml_item["id"],
        None,
    )
    assert [v["price"] for v in overridden["mercadolibre_item"]["variations"]] == [25.0] * 3
    assert overridden["meta_items"]["TEE-1-BLUE-M"]["price"] == "27.00 USD"

    # A variant removed: its Meta item deleted, its variation dropped (the others kept, with
    # the ids Mercado Libre gave them).
    removed = variants["removed"]
    assert [v["sku"] for v in removed["product"]["variants"]] == ["TEE-1-RED-M", "TEE-1-BLUE-M"]
    assert listing_states(removed["product"]) == {"mercadolibre": "PUBLISHED", "meta": "PUBLISHED"}
    kept = [v for v in ml_item["variations"] if seller_sku(v) != "TEE-1-RED-L"]
    assert [(v["id"], seller_sku(v)) for v in removed["mercadolibre_item"]["variations"]] == [
        (v["id"], seller_sku(v)) for v in kept
    ]
    assert removed["mercadolibre_item"]["available_quantity"] == 4 + 5
    assert removed["meta_retailer_ids"] == ["TEE-1-BLUE-M", "TEE-1-RED-M"]
    assert set(removed["meta_items"]) == {"TEE-1-BLUE-M", "TEE-1-RED-M"}

    # A remaining variant's SKU finds it; the removed one's finds nothing.
    skus = variants["skus"]
    assert skus["TEE-1-BLUE-M"] == {
        "sku": "TEE-1-BLUE-M",
        "product_id": shirt["id"],
        "variant_id": vid["TEE-1-BLUE-M"],
    }
    assert (skus["TEE-1-RED-L"]["status"], skus["TEE-1-RED-L"]["type"]) == (
        404,
        "/problems/not-found",
    )
    product_id: str = shirt["id"]
    return product_id


def listing_states(product: dict[str, Any]) -> dict[str, str]:
    return {channel: listing["state"] for channel, listing in product["listings"].items()}


def transitions(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (e["data"]["from_status"], e["data"]["to_status"])
        for e in events
        if e["type"] in ("ProductStatusChanged", "ProductDeactivated")
    ]


def variations(item: dict[str, Any]) -> list[tuple[dict[str, str], int, float, dict[str, str]]]:
    """Each variation's attribute combination, quantity, price and attributes."""
    return [
        (
            {part["id"]: part["value_name"] for part in variation["attribute_combinations"]},
            variation["available_quantity"],
            variation["price"],
            {attribute["id"]: attribute["value_name"] for attribute in variation["attributes"]},
        )
        for variation in item["variations"]
    ]


def seller_sku(variation: dict[str, Any]) -> str:
    (sku,) = [a["value_name"] for a in variation["attributes"] if a["id"] == "SELLER_SKU"]
    return str(sku)


def meta_variants(items: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        retailer_id: (
            item["item_group_id"],
            item["color"],
            item["size"],
            item["price"],
            item["availability"],
            item.get("gtin"),
        )
        for retailer_id, item in items.items()
    }


# What a user sees; the adapters' own log goes to a file, so nothing racing shows here.
EXPECTED_TRANSCRIPT = """
== 1. The adapters declared on start what their channels require
    event ChannelRequirementsChanged     Mercado Libre (version 1)
    event ChannelRequirementsChanged     Meta (version 1)
    Mercado Libre requires /name, /price, /images, /attributes/category_id, /attributes/available_quantity, /attributes/listing_type_id, /attributes/condition, /attributes/brand
    Meta requires /name, /description, /price, /images, /attributes/condition, /attributes/link

== 2. Register a product (DRAFT), without a condition or a product page
    event ProductCreated                 SKU TS-1
    product v1 DRAFT

== 3. Add an image, then mark it READY
    event ProductUpdated                 changed /images
    event ProductStatusChanged           DRAFT -> READY
    product v3 READY

== 4. Ask to publish: both channels' requirements refuse it at once
    Mercado Libre: 422 product-incomplete, missing /attributes/condition
    Meta: 422 product-incomplete, missing /attributes/condition, /attributes/link
    product v3 READY (unchanged: no listing, no event)

== 5. Add the condition and the product page, then publish (ACTIVE once one is confirmed)
    event ProductUpdated                 changed /attributes/condition, /attributes/link
    event ProductPublicationRequested    on Mercado Libre
    event ProductPublicationRequested    on Meta
    event ProductPublished               on Mercado Libre as MLA1000000001
    event ProductPublished               on Meta as TS-1
    event ProductStatusChanged           READY -> ACTIVE
    product v8 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre item MLA1000000001: active, https://articulo.mercadolibre.com.ar/MLA-1000000001-trail-shoe-_JM
    Meta catalog item TS-1: listed at 129.99 USD

== 6. Update the price: both channels follow
    event ProductUpdated                 changed /price/amount; Mercado Libre and Meta follow
    event ProductUpdated                 changed /channel_overrides/mercadolibre/price/amount; Mercado Libre and Meta follow
    product v10 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre item MLA1000000001: 99.99 USD
    Meta catalog item TS-1: 109.99 USD

== 7. Deactivate (INACTIVE): both listings are withdrawn
    event ProductDeactivated             ACTIVE -> INACTIVE
    event ProductUnpublicationRequested  on Mercado Libre
    event ProductUnpublicationRequested  on Meta
    event ProductUnpublished             from Mercado Libre
    event ProductUnpublished             from Meta
    product v13 INACTIVE; listings: mercadolibre=UNPUBLISHED, meta=UNPUBLISHED
    Mercado Libre item MLA1000000001: closed
    Meta catalog item TS-1: removed

== 8. Register a shirt with options color and size and three variants, add an image, READY
    event ProductCreated                 SKU TEE-1
    event ProductUpdated                 changed /images
    event ProductStatusChanged           DRAFT -> READY
    product v3 READY
    variant TEE-1-RED-M: color=red, size=M; stock 4; barcode 4006381333931
    variant TEE-1-RED-L: color=red, size=L; stock 3
    variant TEE-1-BLUE-M: color=blue, size=M; stock 5

== 9. Publish the shirt: one Mercado Libre item with variations, one Meta item per variant
    event ProductPublicationRequested    on Mercado Libre
    event ProductPublicationRequested    on Meta
    event ProductPublished               on Mercado Libre as MLA1000000002
    event ProductPublished               on Meta as TEE-1
    event ProductStatusChanged           READY -> ACTIVE
    product v7 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre item MLA1000000002: active, 25.00 USD, 12 available in 3 variations
      variation COLOR=red, SIZE=M: 4 available, SELLER_SKU TEE-1-RED-M, GTIN 4006381333931
      variation COLOR=red, SIZE=L: 3 available, SELLER_SKU TEE-1-RED-L
      variation COLOR=blue, SIZE=M: 5 available, SELLER_SKU TEE-1-BLUE-M
    Meta catalog items of group TEE-1:
      TEE-1-BLUE-M: color=blue, size=M, 25.00 USD, in stock
      TEE-1-RED-L: color=red, size=L, 25.00 USD, in stock
      TEE-1-RED-M: color=red, size=M, 25.00 USD, in stock, GTIN 4006381333931

== 10. Give TEE-1-BLUE-M its own price: Meta lists it, Mercado Libre refuses (one price per item)
    event ProductUpdated                 changed /variants/<TEE-1-BLUE-M>/price; Mercado Libre and Meta follow
    event ProductPublicationFailed       on Mercado Libre: Mercado Libre lists every variation of an item at one price, and the variants differ on mercadolibre: 25.00 USD (TEE-1-RED-M, TEE-1-RED-L); 27.00 USD (TEE-1-BLUE-M). Give them one price on mercadolibre (channel_overrides.mercadolibre.variants.<vid>.price)
    product v9 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre listing PUBLISHED, message: Mercado Libre lists every variation of an item at one price, and the variants differ on mercadolibre: 25.00 USD (TEE-1-RED-M, TEE-1-RED-L); 27.00 USD (TEE-1-BLUE-M). Give them one price on mercadolibre (channel_overrides.mercadolibre.variants.<vid>.price)
    Mercado Libre item MLA1000000002: every variation at 25.00 USD (unchanged)
    Meta catalog items of group TEE-1: TEE-1-BLUE-M 27.00 USD, TEE-1-RED-L 25.00 USD, TEE-1-RED-M 25.00 USD

== 11. Give TEE-1-BLUE-M the shirt's price on Mercado Libre only (a channel override): PUBLISHED again
    event ProductUpdated                 changed /channel_overrides/mercadolibre/variants; Mercado Libre and Meta follow
    event ProductPublished               on Mercado Libre as MLA1000000002
    product v11 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre listing PUBLISHED, no message
    Mercado Libre item MLA1000000002: every variation at 25.00 USD (one price again)
    Meta catalog items of group TEE-1: TEE-1-BLUE-M 27.00 USD, TEE-1-RED-L 25.00 USD, TEE-1-RED-M 25.00 USD

== 12. Remove TEE-1-RED-L: Meta deletes its item, Mercado Libre drops its variation
    event ProductUpdated                 changed /variants/<TEE-1-RED-L>; Mercado Libre and Meta follow
    product v12 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre item MLA1000000002: active, 25.00 USD, 9 available in 2 variations
      variation COLOR=red, SIZE=M: 4 available, SELLER_SKU TEE-1-RED-M, GTIN 4006381333931
      variation COLOR=blue, SIZE=M: 5 available, SELLER_SKU TEE-1-BLUE-M
    Meta catalog items of group TEE-1:
      TEE-1-BLUE-M: color=blue, size=M, 27.00 USD, in stock
      TEE-1-RED-M: color=red, size=M, 25.00 USD, in stock, GTIN 4006381333931

== 13. Look variants up by SKU
    SKU TEE-1-BLUE-M: a variant of TEE-1, color=blue, size=M
    SKU TEE-1-RED-L: 404, nothing holds it (removed with its variant)

Demo complete: every step confirmed by the catalog and by both channels.
"""  # noqa: E501
