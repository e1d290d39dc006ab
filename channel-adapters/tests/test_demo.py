"""End to end: `make demo`'s script against the real embedded catalog (`catalog serve`), both
adapters and both channel fakes, asserting what the catalog and the channels ended up with,
and that the channels' declared requirements refused a publication request until the
merchant added what they need."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

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
    assert Counter(event["type"] for event in events) == {
        "ChannelRequirementsChanged": 2,  # each adapter's declaration, once
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
    transitions = [
        (e["data"]["from_status"], e["data"]["to_status"])
        for e in events
        if e["type"] in ("ProductStatusChanged", "ProductDeactivated")
    ]
    assert transitions == [("DRAFT", "READY"), ("READY", "ACTIVE"), ("ACTIVE", "INACTIVE")]
    versions = [event["data"]["version"] for event in events if "product_id" in event["data"]]
    assert versions == sorted(versions)
    # Every event printed once, under the step that caused it, in the same order every run.
    transcript = run.stdout.splitlines()
    assert transcript[0].startswith("catalog: http://127.0.0.1:")  # its port and folder vary
    assert transcript[1:] == EXPECTED_TRANSCRIPT.splitlines()
    assert not re.search(r"\b(True|False|None)\b|\[\]|\['", run.stdout)


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

Demo complete: every step confirmed by the catalog and by both channels.
"""  # noqa: E501
