"""The product list's bulk action: the products ticked, or every one the list's filters keep,
through one job whose page shows its counters and the products the API's rules refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.console.conftest import LiveServer
from tests.console.test_editor import merchant_api


def register(server: LiveServer, merchant_id: str, *skus: str) -> dict[str, str]:
    """Products in DRAFT, by SKU -> id (a name, no description: not complete for READY)."""
    ids = {}
    with merchant_api(server, merchant_id) as api:
        for sku in skus:
            created = api.post("/products", json={"sku": sku, "name": f"Mug {sku}"})
            assert created.status_code == 201, created.text
            ids[sku] = created.json()["id"]
    return ids


def statuses(server: LiveServer, merchant_id: str) -> dict[str, Any]:
    with merchant_api(server, merchant_id) as api:
        listed = api.get("/products", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    return {product["sku"]: product["status"] for product in listed.json()["items"]}


def apply(page: Page, action: str, scope: str = "the products ticked below") -> None:
    bulk = page.get_by_role("form", name="Bulk action")
    bulk.get_by_label("Bulk action").select_option(label=action)
    bulk.get_by_label(scope).check()
    bulk.get_by_role("button", name="Apply").click()


def test_the_products_ticked_are_deactivated_by_one_job(
    signed_in: Page, server: LiveServer, merchant_id: str, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    register(server, merchant_id, "MUG-1", "MUG-2", "MUG-3")
    page.reload()
    # The list's filter keeps its accessible name to itself (DESIGN.md section 12).
    expect(page.get_by_label("Channel")).to_have_count(1)

    page.get_by_label("Select MUG-1").check()
    page.get_by_label("Select MUG-3").check()
    shoot(page, "bulk-action")
    apply(page, "Deactivate")

    live = page.locator("#job-live")
    expect(page.get_by_role("heading", name="Bulk action")).to_be_visible()
    expect(live.locator(".badge")).to_have_text("SUCCEEDED", timeout=30_000)
    expect(live.locator(".counters")).to_contain_text("Updated2")
    assert statuses(server, merchant_id) == {
        "MUG-1": "INACTIVE",
        "MUG-2": "DRAFT",
        "MUG-3": "INACTIVE",
    }

    # Nothing ticked: refused at the scope, nothing started.
    page.get_by_role("link", name="Products", exact=True).click()
    apply(page, "Back to draft")
    expect(page.get_by_role("group", name="Apply to")).to_contain_text(
        "Apply to needs a product ticked in the list"
    )
    assert statuses(server, merchant_id)["MUG-1"] == "INACTIVE"


def test_every_product_the_filters_keep_gets_the_action_and_refusals_are_listed(
    signed_in: Page, server: LiveServer, merchant_id: str
) -> None:
    page = signed_in
    register(server, merchant_id, "CUP-1", "CUP-2")
    page.get_by_label("Status").select_option("DRAFT")
    page.get_by_role("button", name="Filter").click()

    # READY needs a description and an image: each product is refused, with its problem.
    apply(page, "Mark ready", scope="every product these filters keep")
    live = page.locator("#job-live")
    expect(live.locator(".badge")).to_have_text("SUCCEEDED", timeout=30_000)
    expect(live.locator(".counters")).to_contain_text("Failed2")
    expect(live.locator("table.job-errors")).to_contain_text("CUP-1")
    assert statuses(server, merchant_id) == {"CUP-1": "DRAFT", "CUP-2": "DRAFT"}

    # Publishing needs a channel: refused at its input.
    page.goto(page.url.rsplit("/jobs", 1)[0] + "/products")
    apply(page, "Publish on channel", scope="every product of the catalog")
    expect(
        page.get_by_role("form", name="Bulk action").get_by_label("Publish on")
    ).to_have_attribute("aria-invalid", "true")
