"""End-to-end demo: one product through DRAFT -> READY -> ACTIVE on two channels -> updated ->
INACTIVE with both listings withdrawn, printing under each step the catalog events it caused.
On the way, the channels' declared requirements refuse a publication request at once, naming
what is missing, until the merchant adds it. Then a shirt with variants: one Mercado Libre item
with `variations`, one Meta item per variant; a variant's own price, which Mercado Libre
refuses (one price per item) until a channel override sets one there; a variant removed from
both channels; a variant found by its SKU.

It starts, all on 127.0.0.1 ports picked at random:

- the embedded catalog (`catalog serve`, a temporary data folder) with its webhooks pointing at
  the two adapters and an explicit webhook signing secret;
- the fakes of Mercado Libre's items API and of Meta's Catalog Batch API;
- the Mercado Libre and Meta adapters (channel_kit webhook apps) with channel tokens scoped to
  the demo's merchant; each declares its channel's requirements to the catalog on start;
- a third webhook receiver that records each event the catalog delivers.

Then it drives the catalog's HTTP API as a merchant would and waits, at each step, for the
adapters' outcomes to show in the product and in the fakes, and for every event of the step
to arrive. The output is the same on every run: events are printed under the step that caused
them, in the order of the product's life (a step's requests, then the channels' outcomes, each
channel in turn), not in the order two adapters racing each other happened to report; the
adapters' own log goes to `adapters.log` in the data folder. `--report FILE` writes what was
observed as JSON (the end-to-end test reads it). Exit status 0 means every step was seen.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from channel_fakes import FakeMercadoLibre, FakeMetaCatalog
from channel_fakes.mercadolibre import DEFAULT_CATEGORIES, DEFAULT_VARIATION_ATTRIBUTES
from channel_kit import (
    CatalogClient,
    ChannelAdapter,
    DeclarationState,
    EventProcessor,
    Handling,
    MemorySeenEvents,
    MemoryVersionLedger,
    MerchantScope,
    webhook_app,
)
from fastapi import FastAPI, Request, Response
from mercadolibre_adapter import MercadoLibreAdapter, MercadoLibreSettings
from meta_adapter import MetaCatalogAdapter, MetaSettings
from standardwebhooks import Webhook, WebhookVerificationError

MERCHANT = "acme"
CHANNELS = ("mercadolibre", "meta")
WAIT_SECONDS = 30.0


class DemoFailed(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, help="write what was observed here, as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the catalog's data folder")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="catalog-demo-"))
    # Two adapters log concurrently; their lines would make the output differ run to run.
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
        filename=data_dir / "adapters.log",
    )
    for noisy in ("httpx", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        with Stack(data_dir) as stack:
            report = walk(stack)
    except DemoFailed as error:
        print(f"\nDEMO FAILED: {error}", file=sys.stderr)
        print(f"catalog log: {data_dir / 'serve.log'}", file=sys.stderr)
        print(f"adapters log: {data_dir / 'adapters.log'}", file=sys.stderr)
        return 1
    if args.report:
        args.report.write_text(json.dumps(report, indent=2))
    if args.keep:
        print(f"data folder kept: {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    print("\nDemo complete: every step confirmed by the catalog and by both channels.")
    return 0


# --------------------------------------------------------------------------- the walk


def walk(stack: Stack) -> dict[str, Any]:
    api = stack.merchant_api
    report: dict[str, Any] = {}

    step("1. The adapters declared on start what their channels require")
    stack.settle_events(
        "both declarations' events",
        lambda events: sum(e["type"] == "ChannelRequirementsChanged" for e in events) == 2,
    )
    report["requirements"] = {}
    for channel in CHANNELS:
        declared = expect(api.get(f"/v1/channels/{channel}/requirements"), 200)
        report["requirements"][channel] = declared["required"]
        print(f"    {CHANNEL_NAMES[channel]} requires {', '.join(declared['required'])}")

    step("2. Register a product (DRAFT), without a condition or a product page")
    product = expect(
        api.post(
            f"/v1/merchants/{MERCHANT}/products",
            json={
                "sku": "TS-1",
                "name": "Trail shoe",
                "description": "A light trail running shoe with a grippy sole.",
                "price": {"amount": 12999, "currency": "USD"},
                "attributes": {"brand": "Acme", "model": "Trail 1", "available_quantity": 5},
                # What Mercado Libre needs and the catalog does not model.
                "channel_overrides": {
                    "mercadolibre": {
                        "price": {"amount": 11999, "currency": "USD"},
                        "attributes": {
                            "category_id": "MLA109027",
                            "listing_type_id": "gold_special",
                        },
                    }
                },
            },
        ),
        201,
    )
    path = f"/v1/merchants/{MERCHANT}/products/{product['id']}"
    show(stack.settle(path))

    step("3. Add an image, then mark it READY")
    expect(api.post(f"{path}/images", files={"file": ("shoe.png", png(), "image/png")}), 201)
    expect(api.post(f"{path}/status", json={"status": "READY"}), 200)
    show(stack.settle(path))

    step("4. Ask to publish: both channels' requirements refuse it at once")
    report["refused"] = {}
    for channel in CHANNELS:
        answer = api.post(f"{path}/channels/{channel}/publish")
        if answer.status_code == 202:
            raise DemoFailed(
                f"the catalog accepted a publication on {channel} that its declared "
                f"requirements refuse: this catalog does not enforce channel requirements"
            )
        problem = expect(answer, 422)
        report["refused"][channel] = problem
        kind = problem["type"].rsplit("/", 1)[-1]
        print(
            f"    {CHANNEL_NAMES[channel]}: {problem['status']} {kind}, "
            f"missing {', '.join(problem.get('missing') or [])}"
        )
    # Refused before anything was recorded: no listing, no event, no new version.
    show(stack.settle(path), "unchanged: no listing, no event")

    step("5. Add the condition and the product page, then publish (ACTIVE once one is confirmed)")
    expect(
        api.patch(
            path,
            json={
                "attributes": {
                    "condition": "new",
                    "link": "https://shop.acme.example/products/ts-1",
                }
            },
        ),
        200,
    )
    for channel in CHANNELS:
        expect(api.post(f"{path}/channels/{channel}/publish"), 202)
    product = stack.wait_for_product(
        path,
        "both listings PUBLISHED and the product ACTIVE",
        lambda p: p["status"] == "ACTIVE" and listing_states(p) == ["PUBLISHED", "PUBLISHED"],
    )
    show(stack.settle(path))
    ml_item_id = product["listings"]["mercadolibre"]["external_id"]
    meta_retailer_id = product["listings"]["meta"]["external_id"]
    report["published"] = {
        "product": product,
        "mercadolibre_item": dict(stack.mercadolibre.items[ml_item_id]),
        "meta_item": dict(stack.meta.items[meta_retailer_id]),
    }
    ml_item = stack.mercadolibre.items[ml_item_id]
    print(f"    Mercado Libre item {ml_item_id}: {ml_item['status']}, {ml_item['permalink']}")
    print(
        f"    Meta catalog item {meta_retailer_id}: listed at "
        f"{stack.meta.items[meta_retailer_id]['price']}"
    )

    step("6. Update the price: both channels follow")
    expect(api.patch(path, json={"price": {"amount": 10999}}), 200)
    # The Mercado Libre override keeps its own price; change it there too.
    expect(
        api.patch(
            path,
            json={"channel_overrides": {"mercadolibre": {"price": {"amount": 9999}}}},
        ),
        200,
    )
    stack.wait(
        "the new prices on both channels",
        lambda: (
            stack.mercadolibre.items[ml_item_id]["price"] == 99.99
            and stack.meta.items.get(meta_retailer_id, {}).get("price") == "109.99 USD"
        ),
    )
    # A resync confirmed PUBLISHED again changes nothing in the catalog: no new version.
    product = stack.settle(path)
    if listing_states(product) != ["PUBLISHED", "PUBLISHED"]:
        raise DemoFailed(f"a listing left PUBLISHED during the resync: {product['listings']}")
    show(product)
    ml_item = stack.mercadolibre.items[ml_item_id]
    print(f"    Mercado Libre item {ml_item_id}: {ml_item['price']:.2f} {ml_item['currency_id']}")
    print(
        f"    Meta catalog item {meta_retailer_id}: {stack.meta.items[meta_retailer_id]['price']}"
    )
    report["updated"] = {
        "product": product,
        "mercadolibre_item": dict(stack.mercadolibre.items[ml_item_id]),
        "meta_item": dict(stack.meta.items[meta_retailer_id]),
    }

    step("7. Deactivate (INACTIVE): both listings are withdrawn")
    expect(api.delete(path), 200)
    product = stack.wait_for_product(
        path,
        "both listings UNPUBLISHED",
        lambda p: listing_states(p) == ["UNPUBLISHED", "UNPUBLISHED"],
    )
    product = stack.settle(path)
    show(product)
    print(f"    Mercado Libre item {ml_item_id}: {stack.mercadolibre.items[ml_item_id]['status']}")
    meta_state = "still listed" if meta_retailer_id in stack.meta.items else "removed"
    print(f"    Meta catalog item {meta_retailer_id}: {meta_state}")
    report["deactivated"] = {
        "product": product,
        "mercadolibre_item": dict(stack.mercadolibre.items[ml_item_id]),
        "meta_item_present": meta_retailer_id in stack.meta.items,
    }
    report["variants"] = walk_variants(stack)
    report["events"] = list(stack.events)
    return report


SHIRT_SKU = "TEE-1"
SHIRT_PRICE = {"amount": 2500, "currency": "USD"}
SHIRT_VARIANTS = (
    # A GS1-valid GTIN-13: the catalog checks the check digit.
    {"sku": "TEE-1-RED-M", "options": {"color": "red", "size": "M"}, "stock": 4,
     "barcode": "4006381333931"},
    {"sku": "TEE-1-RED-L", "options": {"color": "red", "size": "L"}, "stock": 3},
    {"sku": "TEE-1-BLUE-M", "options": {"color": "blue", "size": "M"}, "stock": 5},
)  # fmt: skip
#: The variant given a price of its own, and the one removed.
REPRICED_SKU = "TEE-1-BLUE-M"
REMOVED_SKU = "TEE-1-RED-L"
#: Stands in for a clothing category in the fake's small category table (ML's real tree
#: would want a leaf category; the fake checks only required and variation attributes).
SHIRT_CATEGORY = "MLA1430"


def walk_variants(stack: Stack) -> dict[str, Any]:
    """A second product, a shirt with variants: one Mercado Libre item with `variations`, one
    Meta item per variant in a group; a price only one channel can take, fixed for it alone
    by a channel override; a variant removed; a variant's SKU looked up."""
    api = stack.merchant_api
    report: dict[str, Any] = {}

    step("8. Register a shirt with options color and size and three variants, add an image, READY")
    shirt = expect(
        api.post(
            f"/v1/merchants/{MERCHANT}/products",
            json={
                "sku": SHIRT_SKU,
                "name": "Trail tee",
                "description": "A quick-drying running tee.",
                "price": SHIRT_PRICE,
                "attributes": {
                    "brand": "Acme",
                    "condition": "new",
                    "link": "https://shop.acme.example/products/tee-1",
                },
                "options": ["color", "size"],
                "variants": list(SHIRT_VARIANTS),
                "channel_overrides": {
                    "mercadolibre": {
                        "attributes": {
                            "category_id": SHIRT_CATEGORY,
                            "listing_type_id": "gold_special",
                            # Mercado Libre's declaration asks every product for one, but each
                            # variation lists its variant's stock: this is only the fallback of
                            # a variant without stock, which then lists none, not a guess.
                            "available_quantity": 0,
                        }
                    }
                },
            },
        ),
        201,
    )
    path = f"/v1/merchants/{MERCHANT}/products/{shirt['id']}"
    vid = {variant["sku"]: variant["id"] for variant in shirt["variants"]}
    # Variant ids are made per run; the output names variants by SKU instead.
    stack.variant_skus.update({variant_id: sku for sku, variant_id in vid.items()})
    expect(api.post(f"{path}/images", files={"file": ("tee.png", png(), "image/png")}), 201)
    expect(api.post(f"{path}/status", json={"status": "READY"}), 200)
    shirt = stack.settle(path)
    show(shirt)
    for variant in shirt["variants"]:
        print(f"    variant {variant['sku']}: {described_variant(variant)}")
    report["registered"] = shirt

    step("9. Publish the shirt: one Mercado Libre item with variations, one Meta item per variant")
    for channel in CHANNELS:
        expect(api.post(f"{path}/channels/{channel}/publish"), 202)
    stack.wait_for_product(
        path,
        "both of the shirt's listings PUBLISHED and the shirt ACTIVE",
        lambda p: p["status"] == "ACTIVE" and listing_states(p) == ["PUBLISHED", "PUBLISHED"],
    )
    shirt = stack.settle(path)
    show(shirt)
    ml_item_id = shirt["listings"]["mercadolibre"]["external_id"]
    group = shirt["listings"]["meta"]["external_id"]
    show_ml_variations(stack.mercadolibre.items[ml_item_id])
    show_meta_group(stack.meta, group)
    report["published"] = observed(stack, shirt, ml_item_id, group)

    step(
        f"10. Give {REPRICED_SKU} its own price: Meta lists it, Mercado Libre refuses (one price "
        "per item)"
    )
    expect(
        api.patch(
            f"{path}/variants/{vid[REPRICED_SKU]}",
            content=json.dumps({"price": {"amount": 2700, "currency": "USD"}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ),
        200,
    )
    stack.wait_for_product(
        path,
        "Mercado Libre's refusal of the differing prices",
        lambda p: bool(p["listings"]["mercadolibre"]["message"]),
    )
    shirt = stack.settle(path)
    show(shirt)
    listing = shirt["listings"]["mercadolibre"]
    # A resync that fails leaves a published listing live: PUBLISHED, with the message.
    print(f"    Mercado Libre listing {listing['state']}, message: {listing['message']}")
    show_ml_price(stack.mercadolibre.items[ml_item_id], "unchanged")
    show_meta_prices(stack.meta, group)
    report["price_differs"] = observed(stack, shirt, ml_item_id, group)

    step(
        f"11. Give {REPRICED_SKU} the shirt's price on Mercado Libre only (a channel override): "
        "PUBLISHED again"
    )
    expect(
        api.patch(
            path,
            json={
                "channel_overrides": {
                    "mercadolibre": {"variants": {vid[REPRICED_SKU]: {"price": SHIRT_PRICE}}}
                }
            },
        ),
        200,
    )
    stack.wait_for_product(
        path,
        "Mercado Libre's listing confirmed again",
        lambda p: p["listings"]["mercadolibre"]["message"] is None,
    )
    shirt = stack.settle(path)
    show(shirt)
    listing = shirt["listings"]["mercadolibre"]
    print(f"    Mercado Libre listing {listing['state']}, no message")
    show_ml_price(stack.mercadolibre.items[ml_item_id], "one price again")
    show_meta_prices(stack.meta, group)
    report["overridden"] = observed(stack, shirt, ml_item_id, group)

    step(f"12. Remove {REMOVED_SKU}: Meta deletes its item, Mercado Libre drops its variation")
    expect(api.delete(f"{path}/variants/{vid[REMOVED_SKU]}"), 200)
    stack.wait(
        f"{REMOVED_SKU} gone from both channels",
        lambda: (
            REMOVED_SKU not in stack.meta.items
            and len(stack.mercadolibre.items[ml_item_id]["variations"]) == 2
        ),
    )
    shirt = stack.settle(path)
    show(shirt)
    show_ml_variations(stack.mercadolibre.items[ml_item_id])
    show_meta_group(stack.meta, group)
    report["removed"] = observed(stack, shirt, ml_item_id, group)

    step("13. Look variants up by SKU")
    held = expect(api.get(f"/v1/merchants/{MERCHANT}/skus/{REPRICED_SKU}"), 200)
    product = expect(api.get(f"/v1/merchants/{MERCHANT}/products/{held['product_id']}"), 200)
    variant = next(v for v in product["variants"] if v["id"] == held["variant_id"])
    print(f"    SKU {REPRICED_SKU}: a variant of {product['sku']}, {described_options(variant)}")
    # Removing the variant gave up its SKU.
    freed = expect(api.get(f"/v1/merchants/{MERCHANT}/skus/{REMOVED_SKU}"), 404)
    print(f"    SKU {REMOVED_SKU}: 404, nothing holds it (removed with its variant)")
    report["skus"] = {REPRICED_SKU: held, REMOVED_SKU: freed}
    return report


def observed(stack: Stack, product: dict[str, Any], ml_item_id: str, group: str) -> dict[str, Any]:
    """The shirt and what both fakes hold of it, for the report."""
    return {
        "product": product,
        "mercadolibre_item": dict(stack.mercadolibre.items[ml_item_id]),
        "meta_items": meta_group(stack.meta, group),
        # Everything Meta holds, to show no item is named by the product (the group).
        "meta_retailer_ids": sorted(stack.meta.items),
    }


def meta_group(meta: FakeMetaCatalog, group: str) -> dict[str, dict[str, Any]]:
    """The Meta items of a group, by retailer id: one per variant (the group has no item)."""
    return {
        retailer_id: dict(item)
        for retailer_id, item in sorted(meta.items.items())
        if item.get("item_group_id") == group
    }


def described_options(variant: Mapping[str, Any]) -> str:
    return ", ".join(f"{axis}={value}" for axis, value in variant["options"].items())


def described_variant(variant: Mapping[str, Any]) -> str:
    stock = variant["stock"]
    barcode = variant["barcode"]
    return (
        described_options(variant)
        + (f"; stock {stock}" if stock is not None else "")
        + (f"; barcode {barcode}" if barcode else "")
    )


def show_ml_variations(item: Mapping[str, Any]) -> None:
    variations = item["variations"]
    print(
        f"    Mercado Libre item {item['id']}: {item['status']}, {item['price']:.2f} "
        f"{item['currency_id']}, {item['available_quantity']} available in "
        f"{len(variations)} variations"
    )
    for variation in variations:
        combination = ", ".join(
            f"{part['id']}={part['value_name']}" for part in variation["attribute_combinations"]
        )
        attributes = ", ".join(f"{a['id']} {a['value_name']}" for a in variation["attributes"])
        print(
            f"      variation {combination}: {variation['available_quantity']} available, "
            f"{attributes}"
        )


def show_ml_price(item: Mapping[str, Any], note: str) -> None:
    prices = sorted({f"{v['price']:.2f} {item['currency_id']}" for v in item["variations"]})
    print(f"    Mercado Libre item {item['id']}: every variation at {', '.join(prices)} ({note})")


def show_meta_group(meta: FakeMetaCatalog, group: str) -> None:
    print(f"    Meta catalog items of group {group}:")
    for retailer_id, item in meta_group(meta, group).items():
        gtin = f", GTIN {item['gtin']}" if item.get("gtin") else ""
        print(
            f"      {retailer_id}: color={item['color']}, size={item['size']}, "
            f"{item['price']}, {item['availability']}{gtin}"
        )


def show_meta_prices(meta: FakeMetaCatalog, group: str) -> None:
    prices = ", ".join(
        f"{retailer_id} {item['price']}" for retailer_id, item in meta_group(meta, group).items()
    )
    print(f"    Meta catalog items of group {group}: {prices}")


def listing_states(product: dict[str, Any]) -> list[str | None]:
    listings = product.get("listings") or {}
    return [(listings.get(c) or {}).get("state") for c in CHANNELS]


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def show(product: dict[str, Any], note: str = "") -> None:
    listings = ", ".join(
        f"{channel}={listing['state']}" for channel, listing in product["listings"].items()
    )
    print(
        f"    product v{product['version']} {product['status']}"
        + (f"; listings: {listings}" if listings else "")
        + (f" ({note})" if note else ""),
        flush=True,
    )


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise DemoFailed(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def png(size: int = 8) -> bytes:
    """A small red PNG, built by hand (the catalog reads its real width and height)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# The order of a product's life: what a request records first, then the channels' outcomes
# and what follows from them (ACTIVE follows the first confirmed publication).
EVENT_ORDER = (
    "ChannelRequirementsChanged",
    "ProductCreated",
    "ProductUpdated",
    "ProductPublicationRequested",
    "ProductPublished",
    "ProductPublicationFailed",
    "ProductStatusChanged",
    "ProductDeactivated",
    "ProductUnpublicationRequested",
    "ProductUnpublished",
)


def in_life_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two adapters report in whichever order they finish; this order is the same every run."""

    def key(event: dict[str, Any]) -> tuple[int, int, int]:
        channel = event["data"].get("channel")
        return (
            EVENT_ORDER.index(event["type"]) if event["type"] in EVENT_ORDER else len(EVENT_ORDER),
            CHANNELS.index(channel) if channel in CHANNELS else -1,
            event["data"]["version"],
        )

    return sorted(events, key=key)


def describe(event: dict[str, Any], variant_skus: Mapping[str, str]) -> str:
    data = event["data"]
    channel = CHANNEL_NAMES.get(data.get("channel"), data.get("channel"))
    extra = {
        "ChannelRequirementsChanged": lambda: f"{channel} (version {data.get('version')})",
        "ProductCreated": lambda: f"SKU {data.get('sku')}",
        "ProductStatusChanged": lambda: f"{data.get('from_status')} -> {data.get('to_status')}",
        "ProductDeactivated": lambda: f"{data.get('from_status')} -> INACTIVE",
        "ProductUpdated": lambda: updated(data, variant_skus),
        "ProductPublicationRequested": lambda: f"on {channel}",
        "ProductUnpublicationRequested": lambda: f"on {channel}",
        "ProductPublished": lambda: f"on {channel} as {data.get('external_id')}",
        "ProductPublicationFailed": lambda: f"on {channel}: {data.get('message')}",
        "ProductUnpublished": lambda: f"from {channel}",
    }.get(event["type"], lambda: "")()
    return f"    event {event['type']:<30} {extra}".rstrip()


CHANNEL_NAMES = {"mercadolibre": "Mercado Libre", "meta": "Meta"}


def updated(data: dict[str, Any], variant_skus: Mapping[str, str]) -> str:
    fields = (
        ", ".join(named_variants(field, variant_skus) for field in data.get("changed_fields") or [])
        or "nothing"
    )
    channels = [CHANNEL_NAMES.get(c, c) for c in data.get("channels") or []]
    if not channels:
        return f"changed {fields}"
    return f"changed {fields}; {' and '.join(channels)} follow"


def named_variants(pointer: str, variant_skus: Mapping[str, str]) -> str:
    """`/variants/<id>/price` as `/variants/<SKU>/price`: ids differ run to run, SKUs do not."""
    return "/".join(
        f"<{variant_skus[part]}>" if part in variant_skus else part for part in pointer.split("/")
    )


# --------------------------------------------------------------------------- the stack


class Recorded:
    """Wraps an adapter's processor to know which events it has answered."""

    def __init__(self, processor: EventProcessor) -> None:
        self.processor = processor
        self.channel = processor.channel
        self.handled: set[str] = set()

    def handle(self, cloud_event: Mapping[str, Any]) -> Handling:
        handling = self.processor.handle(cloud_event)
        self.handled.add(str(cloud_event.get("id")))
        return handling


class Stack:
    """Everything the demo runs, started in order and stopped in reverse."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        self.mercadolibre = FakeMercadoLibre(
            categories={**DEFAULT_CATEGORIES, SHIRT_CATEGORY: ("BRAND",)},
            variation_attributes={
                **DEFAULT_VARIATION_ATTRIBUTES,
                SHIRT_CATEGORY: ("COLOR", "SIZE"),
            },
        )
        self.meta = FakeMetaCatalog()
        self.events: list[dict[str, Any]] = []
        self.printed = 0  # how many of the events are printed
        self.variant_skus: dict[str, str] = {}  # variant id -> SKU, to print events
        self.adapters: list[Recorded] = []
        self._exit = ExitStack()

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    def _start(self) -> None:
        enter = self._exit.enter_context
        ml_url = enter(serve(self.mercadolibre.app))
        meta_url = enter(serve(self.meta.app))
        recorder_url = enter(serve(self._event_recorder()))
        adapter_sockets = {channel: listening_socket() for channel in CHANNELS}
        webhook_urls = [f"{recorder_url}/events"] + [
            f"http://127.0.0.1:{sock.getsockname()[1]}/events" for sock in adapter_sockets.values()
        ]
        catalog_port = free_port()
        self.catalog_url = f"http://127.0.0.1:{catalog_port}"
        self._start_catalog(catalog_port, ",".join(webhook_urls))

        http = httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0))
        self._exit.callback(http.close)
        adapters: dict[str, ChannelAdapter] = {
            "mercadolibre": MercadoLibreAdapter(
                MercadoLibreSettings(access_token=self.mercadolibre.access_token, api_url=ml_url),
                http,
            ),
            "meta": MetaCatalogAdapter(
                MetaSettings(
                    access_token=self.meta.access_token,
                    catalog_id=self.meta.catalog_id,
                    graph_url=meta_url,
                    status_interval=0.05,
                ),
                http,
            ),
        }
        for channel, adapter in adapters.items():
            # Scoped to the merchant it serves: the catalog shows it no other merchant's products,
            # and the processor ignores other merchants' events (every webhook gets them all).
            token = self.cli("token", "--merchant", MERCHANT, "--role", f"channel:{channel}")
            processor = EventProcessor(
                adapter,
                CatalogClient(self.catalog_url, token, http),
                MemorySeenEvents(),
                MemoryVersionLedger(),
                merchants=MerchantScope.of([MERCHANT]),
            )
            # What whatever starts an adapter does (channel_kit.runtime): declare the channel's
            # requirements before the first event. The demo needs them in place to go on.
            declared = processor.declare_requirements()
            if declared is not DeclarationState.DECLARED:
                raise DemoFailed(f"the {channel} adapter's requirements were not declared")
            recorded = Recorded(processor)
            self.adapters.append(recorded)
            enter(serve(webhook_app(recorded, self.secret), adapter_sockets[channel]))
        merchant_token = self.cli("token", "--merchant", MERCHANT)
        self.merchant_api = httpx.Client(
            base_url=self.catalog_url,
            headers={"Authorization": f"Bearer {merchant_token}"},
            timeout=10.0,
        )
        self._exit.callback(self.merchant_api.close)

    def _catalog_command(self) -> list[str]:
        beside = Path(sys.executable).with_name("catalog")
        if beside.exists():
            return [str(beside)]
        found = shutil.which("catalog")
        return [found] if found else [sys.executable, "-m", "catalog.entrypoints.cli"]

    def _env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
        env.update(CATALOG_DATA_DIR=str(self.data_dir), CATALOG_WEBHOOK_SECRET=self.secret)
        env.update(extra)
        return env

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [*self._catalog_command(), *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise DemoFailed(f"catalog {' '.join(args)} failed: {result.stderr}")
        return result.stdout.strip()

    def _start_catalog(self, port: int, webhook_urls: str) -> None:
        log = (self.data_dir / "serve.log").open("w")
        self._exit.callback(log.close)
        process = subprocess.Popen(
            [*self._catalog_command(), "serve", "--port", str(port), "--log-level", "warning"],
            # The receivers listen on 127.0.0.1 over plain http: a development setup, which
            # the catalog refuses unless told so (webhook targets are https and public).
            env=self._env(
                CATALOG_WEBHOOK_URLS=webhook_urls, CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK="true"
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._exit.callback(stop_process, process)
        print(f"catalog: {self.catalog_url} (data in {self.data_dir})")

        def healthy() -> bool:
            if process.poll() is not None:
                raise DemoFailed(f"catalog serve exited with {process.returncode}")
            try:
                return httpx.get(f"{self.catalog_url}/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait("the catalog to answer /health", healthy)

    def _event_recorder(self) -> Any:
        """A webhook receiver that records each event once (deliveries may repeat)."""
        verifier = Webhook(self.secret)
        app = FastAPI()

        @app.post("/events")
        async def receive(request: Request) -> Response:
            try:
                event = verifier.verify(await request.body(), dict(request.headers))
            except WebhookVerificationError:
                return Response(status_code=401)
            if event["id"] not in {e["id"] for e in self.events}:
                self.events.append(event)
            return Response(status_code=204)

        return app

    def wait(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise DemoFailed(f"gave up waiting for {what}")
            time.sleep(0.05)

    def settle(self, path: str) -> dict[str, Any]:
        """Wait until every event the product's history lists has arrived and both adapters
        answered it; print the events not printed yet; the product as it then is."""
        latest: list[dict[str, Any]] = []

        def settled() -> bool:
            # Answered events first: an outcome reported after this read shows in the
            # history read next as one more event than arrived.
            events = list(self.events)
            arrived = {event["id"] for event in events}
            answered = all(arrived <= adapter.handled for adapter in self.adapters)
            history = expect(self.merchant_api.get(f"{path}/history?limit=100"), 200)
            emitted = sum(len(entry["events"]) for entry in history["items"])
            latest[:] = [expect(self.merchant_api.get(path), 200)]
            # Only this product's events are in its history (not the channels' declarations).
            of_product = [e for e in events if e["data"].get("product_id") == latest[0]["id"]]
            return (
                answered
                and len(of_product) >= emitted
                and history["items"][0]["version"] == latest[0]["version"]
            )

        self.wait("every event to arrive and the adapters to answer it", settled)
        self._print_new_events()
        return latest[0]

    def settle_events(self, what: str, arrived: Callable[[list[dict[str, Any]]], bool]) -> None:
        """Wait until the events `arrived` looks for are in and both adapters answered every
        event in; print the events not printed yet."""

        def settled() -> bool:
            events = list(self.events)
            ids = {event["id"] for event in events}
            return arrived(events) and all(ids <= adapter.handled for adapter in self.adapters)

        self.wait(what, settled)
        self._print_new_events()

    def _print_new_events(self) -> None:
        for event in in_life_order(self.events[self.printed :]):
            print(describe(event, self.variant_skus), flush=True)
        self.printed = len(self.events)

    def wait_for_product(
        self, path: str, what: str, condition: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        seen: list[dict[str, Any]] = []

        def check() -> bool:
            seen[:] = [expect(self.merchant_api.get(path), 200)]
            return condition(seen[0])

        try:
            self.wait(what, check)
        except DemoFailed as error:
            raise DemoFailed(f"{error}; last seen: {json.dumps(seen[-1:])}") from None
        return seen[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(app: Any, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a thread; yields its base URL."""
    sock = sock or listening_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoFailed("an in-process server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def stop_process(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
