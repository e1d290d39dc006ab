"""End to end: `make demo`'s script against the real embedded catalog (`catalog serve`), both
adapters and both channel fakes, asserting what the catalog and the channels ended up with."""

from __future__ import annotations

import json
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
    assert run.stdout.count("[event]") == len(events)  # each printed as it was delivered
    assert "Demo complete" in run.stdout
