"""End to end: `make demo`'s script against the real embedded catalog (`catalog serve`), both
adapters and both channel fakes, asserting what the catalog and the channels ended up with."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

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
        "ProductCreated": 1,
        "ProductUpdated": 3,  # the image, the price, the Mercado Libre price override
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
    versions = [event["data"]["version"] for event in events]
    assert versions == sorted(versions)
    # Every event printed once, under the step that caused it, in the same order every run.
    transcript = run.stdout.splitlines()
    assert transcript[0].startswith("catalog: http://127.0.0.1:")  # its port and folder vary
    assert transcript[1:] == EXPECTED_TRANSCRIPT.splitlines()
    assert not re.search(r"\b(True|False|None)\b|\[\]|\['", run.stdout)


# What a user sees; the adapters' own log goes to a file, so nothing racing shows here.
EXPECTED_TRANSCRIPT = """
== 1. Register a product (DRAFT)
    event ProductCreated                 SKU TS-1
    product v1 DRAFT

== 2. Add an image, then mark it READY
    event ProductUpdated                 changed /images
    event ProductStatusChanged           DRAFT -> READY
    product v3 READY

== 3. Publish on Mercado Libre and Meta (ACTIVE once the first is confirmed)
    event ProductPublicationRequested    on Mercado Libre
    event ProductPublicationRequested    on Meta
    event ProductPublished               on Mercado Libre as MLA1000000001
    event ProductPublished               on Meta as TS-1
    event ProductStatusChanged           READY -> ACTIVE
    product v7 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre item MLA1000000001: active, https://articulo.mercadolibre.com.ar/MLA-1000000001-trail-shoe-_JM
    Meta catalog item TS-1: listed at 129.99 USD

== 4. Update the price: both channels follow
    event ProductUpdated                 changed /price/amount; Mercado Libre and Meta follow
    event ProductUpdated                 changed /channel_overrides/mercadolibre/price/amount; Mercado Libre and Meta follow
    product v9 ACTIVE; listings: mercadolibre=PUBLISHED, meta=PUBLISHED
    Mercado Libre item MLA1000000001: 99.99 USD
    Meta catalog item TS-1: 109.99 USD

== 5. Deactivate (INACTIVE): both listings are withdrawn
    event ProductDeactivated             ACTIVE -> INACTIVE
    event ProductUnpublicationRequested  on Mercado Libre
    event ProductUnpublicationRequested  on Meta
    event ProductUnpublished             from Mercado Libre
    event ProductUnpublished             from Meta
    product v12 INACTIVE; listings: mercadolibre=UNPUBLISHED, meta=UNPUBLISHED
    Mercado Libre item MLA1000000001: closed
    Meta catalog item TS-1: removed

Demo complete: every step confirmed by the catalog and by both channels.
"""  # noqa: E501
