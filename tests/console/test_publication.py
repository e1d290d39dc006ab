"""The editor's publication panel: a row per channel, refusals shown in the channel's row, and
the panel following an adapter's outcomes by itself while a listing is pending (htmx)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Locator, Page, expect

from tests.console.conftest import VIEWPORT, LiveServer, sign_in
from tests.console.test_images import small_png, upload
from tests.console.test_products import create


def declare_requirements(server: LiveServer, channel: str, required: list[str]) -> None:
    token = server.token("--role", "platform")
    answer = httpx.put(
        f"{server.url}/v1/channels/{channel}/requirements",
        json={"required": required},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


class Adapter:
    """A channel's adapter, played over HTTP with its own token."""

    def __init__(self, server: LiveServer, channel: str, merchant_id: str, editor: str) -> None:
        token = server.token("--role", f"channel:{channel}", "--merchant", merchant_id)
        product_id = editor.rsplit("/", 1)[1]
        self.product = f"{server.url}/v1/merchants/{merchant_id}/products/{product_id}"
        self.channel = channel
        self.headers = {"Authorization": f"Bearer {token}"}

    def report(self, state: str, **fields: str) -> None:
        version = httpx.get(self.product, headers=self.headers).json()["version"]
        answer = httpx.put(
            f"{self.product}/channels/{self.channel}/listing",
            json={"state": state, "product_version": version, **fields},
            headers=self.headers,
        )
        assert answer.status_code == 200, answer.text


def ready_to_publish(page: Page, tmp_path: Path, sku: str, name: str) -> str:
    """A product with a description and an image, through the editor; its editor's URL."""
    editor = create(page, sku, name)
    page.get_by_label("Description").fill(f"{name}, made to last.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    upload(page, small_png(tmp_path / f"{sku}.png"), alt=name)
    expect(page.get_by_role("status")).to_have_text("Image added.")
    return editor


def channel_row(page: Page, channel: str) -> Locator:
    return page.locator(f"#publication #channel-{channel}")


def test_publish_follow_the_adapter_without_reloading_and_unpublish(
    signed_in: Page,
    server: LiveServer,
    merchant_id: str,
    tmp_path: Path,
    shoot: Callable[[Page, str], Path],
) -> None:
    declare_requirements(server, "meta", ["/name", "/price", "/images", "/attributes/brand"])
    page = signed_in
    editor = ready_to_publish(page, tmp_path, "LAMP-1", "Desk lamp")
    meta = channel_row(page, "meta")
    expect(meta.locator(".badge")).to_have_text("Not listed")
    expect(meta).to_contain_text("Missing for meta: /attributes/brand")

    # Refusals come back into the channel's row, with what is missing.
    meta.get_by_role("button", name="Publish on meta").click()
    expect(meta.get_by_role("alert")).to_have_text(
        "Product is not publishable: A DRAFT product cannot be published; it must be READY"
        " or ACTIVE."
    )
    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_role("status")).to_have_text("Marked ready.")
    meta.get_by_role("button", name="Publish on meta").click()
    expect(meta.get_by_role("alert")).to_have_text(
        "Product is incomplete: Product cannot be published on meta: missing /attributes/brand."
    )
    page.get_by_label("Attributes (JSON)").fill('{"brand": "Lumen"}')
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(meta).not_to_contain_text("Missing")

    page.evaluate("window.notReloaded = true")
    meta.get_by_role("button", name="Publish on meta").click()
    expect(meta.locator(".badge")).to_have_text("PENDING")
    expect(meta).to_contain_text("Waiting for the meta adapter")
    expect(meta.get_by_role("button", name="Publish on meta")).to_have_count(0)

    adapter = Adapter(server, "meta", merchant_id, editor)
    adapter.report("PUBLISHED", external_id="META-77", external_url="https://shop.example/meta/77")
    expect(meta.locator(".badge")).to_have_text("PUBLISHED")
    # Screen readers hear it: the panel is replaced, the announcement is in a live region.
    expect(page.locator("#publication-announcer")).to_have_text("Listing meta: PUBLISHED")
    expect(page.locator("#publication-announcer")).to_have_attribute("aria-live", "polite")
    expect(meta.get_by_role("link", name="View on meta")).to_have_attribute(
        "href", "https://shop.example/meta/77"
    )
    # Once nothing waits for an adapter, the panel stops asking.
    expect(page.locator("#publication")).not_to_have_attribute("hx-trigger", "every 2s")
    assert page.evaluate("window.notReloaded") is True
    shoot(page, "publication")
    # The outcome was a new version with the same content: the header shows it, and a Save
    # made on the page as it stands is not refused as stale.
    expect(page.locator("#product-status")).to_have_text("ACTIVE")
    page.get_by_label("Name").fill("Desk lamp, published")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    meta = channel_row(page, "meta")

    meta.get_by_role("button", name="Unpublish from meta").click()
    expect(meta.locator(".badge")).to_have_text("UNPUBLISHING")
    adapter.report("UNPUBLISHED")
    expect(meta.locator(".badge")).to_have_text("UNPUBLISHED")
    expect(meta.get_by_role("button", name="Publish on meta")).to_be_visible()


def test_a_content_change_by_someone_else_still_makes_a_save_stale(
    signed_in: Page, server: LiveServer, merchant_id: str, tmp_path: Path
) -> None:
    declare_requirements(server, "meta", ["/name", "/price", "/images", "/attributes/brand"])
    page = signed_in
    editor = ready_to_publish(page, tmp_path, "STALE-1", "Straw hat")
    page.get_by_label("Attributes (JSON)").fill('{"brand": "Sol"}')
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_role("status")).to_have_text("Marked ready.")
    meta = channel_row(page, "meta")
    meta.get_by_role("button", name="Publish on meta").click()
    expect(meta.locator(".badge")).to_have_text("PENDING")
    owner = {"Authorization": f"Bearer {server.token('--merchant', merchant_id)}"}
    product = editor.replace("/console/products/", f"/v1/merchants/{merchant_id}/products/")
    changed = httpx.patch(product, json={"name": "Renamed elsewhere"}, headers=owner)
    assert changed.status_code == 200, changed.text
    Adapter(server, "meta", merchant_id, editor).report("PUBLISHED", external_id="META-9")
    expect(meta.locator(".badge")).to_have_text("PUBLISHED")
    page.get_by_label("Description").fill("My description")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("Someone else changed this product")


def test_without_javascript_the_buttons_come_back_to_the_editor(
    browser: Browser, server: LiveServer, merchant_id: str, tmp_path: Path
) -> None:
    declare_requirements(server, "etsy", ["/name", "/images"])
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        sign_in(page, server, merchant_id)
        editor = ready_to_publish(page, tmp_path, "RUG-1", "Wool rug")
        page.get_by_role("button", name="Mark ready").click()
        etsy = channel_row(page, "etsy")
        etsy.get_by_role("button", name="Publish on etsy").click()
        expect(page.get_by_role("status")).to_have_text("Publication requested.")
        expect(etsy.locator(".badge")).to_have_text("PENDING")

        Adapter(server, "etsy", merchant_id, editor).report("FAILED", message="Shop is on hold")
        page.reload()
        expect(etsy.locator(".badge")).to_have_text("FAILED")
        expect(etsy).to_contain_text("Shop is on hold")
        etsy.get_by_role("button", name="Publish on etsy").click()
        expect(etsy.locator(".badge")).to_have_text("PENDING")
        etsy.get_by_role("button", name="Unpublish from etsy").click()
        expect(page.get_by_role("status")).to_have_text("Withdrawal requested.")
        expect(etsy.locator(".badge")).to_have_text("UNPUBLISHING")
    finally:
        context.close()
