"""Signing in, the product list, creating and editing a product, marking it ready; a form
posted without its CSRF token; another merchant's product."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.console.conftest import LiveServer, sign_in


def create(page: Page, sku: str, name: str, price: str = "25.00", currency: str = "USD") -> str:
    """Create a product through the form; returns the editor's URL."""
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill(sku)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Price").fill(price)
    page.get_by_label("Currency").fill(currency)
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("status")).to_have_text("Product created.")
    return page.url.split("?")[0]


def test_a_one_time_link_signs_in_once(page: Page, server: LiveServer) -> None:
    link = server.sign_in_link("once-only")
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        second = other.new_page()
        second.goto(link)
        second.get_by_role("button", name="Sign in").click()
        expect(second.get_by_role("alert")).to_contain_text("already used")
    finally:
        other.close()


def test_without_a_session_every_page_asks_to_sign_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/console/products")
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    expect(page.get_by_text("catalog console --merchant")).to_be_visible()


def test_create_edit_and_mark_ready(signed_in: Page, shoot: Callable[[Page, str], Path]) -> None:
    page = signed_in
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill("TEE-1")
    page.get_by_label("Name").fill("Linen tee")
    page.get_by_label("Price").fill("25.005")
    page.get_by_label("Currency").fill("USD")
    page.get_by_role("button", name="Create product").click()
    # The error is announced next to the input that holds it, and nothing was created.
    price = page.get_by_label("Price")
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-price")).to_have_text("Price USD prices have 2 decimal places")
    price.fill("25.00")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("status")).to_have_text("Product created.")
    expect(page.get_by_role("heading", name="Linen tee")).to_be_visible()
    expect(page.get_by_label("Price")).to_have_value("25.00")

    page.get_by_label("Name").fill("Linen tee, natural")
    page.get_by_label("Description").fill("Breathable linen.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_role("heading", name="Linen tee, natural")).to_be_visible()
    expect(page.locator(".meta")).to_contain_text("version 2")
    shoot(page, "product-editor")

    # READY needs an image (tests/console/test_images.py adds one and marks it ready).
    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_role("alert")).to_contain_text("missing /images")
    expect(page.locator(".meta .badge")).to_have_text("DRAFT")

    page.get_by_role("link", name="Products").first.click()
    row = page.get_by_role("row").filter(has_text="TEE-1")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Linen tee, natural")
    expect(row.get_by_role("cell").nth(2)).to_have_text("DRAFT")
    shoot(page, "products")


def test_filters_pages_and_sku_lookup(signed_in: Page) -> None:
    page = signed_in
    for n in range(3):
        create(page, f"MUG-{n}", f"Mug {n}")
        page.get_by_role("link", name="Products").first.click()
    page.get_by_label("Status").select_option("READY")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No products match these filters.")).to_be_visible()
    page.get_by_label("Status").select_option("DRAFT")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row")).to_have_count(4)  # the header and three products
    page.get_by_label("SKU lookup").fill("MUG-1")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name="Mug 1")).to_be_visible()
    page.get_by_role("link", name="Products").first.click()
    page.get_by_label("SKU lookup").fill("NOPE")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("alert").last).to_contain_text("'NOPE'")


def test_a_stale_save_keeps_the_typed_values(signed_in: Page, server: LiveServer) -> None:
    page = signed_in
    editor = create(page, "CAP-1", "Cap")
    other = page.context.new_page()
    other.goto(editor)
    other.get_by_label("Name").fill("Cap (other tab)")
    other.get_by_role("button", name="Save").click()
    expect(other.get_by_role("status")).to_have_text("Saved.")
    page.get_by_label("Name").fill("Cap, wool")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this product")
    expect(page.get_by_label("Name")).to_have_value("Cap, wool")


def test_a_form_posted_without_its_csrf_token_is_refused(
    signed_in: Page, server: LiveServer
) -> None:
    page = signed_in
    editor = create(page, "BAG-1", "Bag")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    for data in ({"name": "Stolen"}, {"name": "Stolen", "csrf_token": "guess"}):
        answer = httpx.post(editor, data=data, cookies=cookies)
        assert answer.status_code == 403
        assert "Form refused" in answer.text
    page.reload()
    expect(page.get_by_role("heading", name="Bag")).to_be_visible()


def test_another_merchants_product_is_not_found(signed_in: Page, server: LiveServer) -> None:
    page = signed_in
    editor = create(page, "SOCK-1", "Socks")
    intruder = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        other = intruder.new_page()
        sign_in(other, server, "intruder-shop")
        answer = other.goto(editor)
        assert answer is not None and answer.status == 404
        expect(other.get_by_role("heading", name="Not found")).to_be_visible()
        expect(other.get_by_text("Socks")).to_have_count(0)
        other.goto(server.url + "/console/products")
        expect(other.get_by_text("SOCK-1")).to_have_count(0)
    finally:
        intruder.close()
    assert re.search(r"/console/products/[0-9A-Z]{26}$", editor)


def test_keyboard_only_creates_a_product(signed_in: Page) -> None:
    page = signed_in
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.get_by_role("link", name="New product").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("SKU")).to_be_visible()
    page.get_by_label("SKU").focus()
    page.keyboard.type("KEY-1")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Typed with keys")
    page.keyboard.press("Enter")  # submits the form, as Enter in a text input does
    expect(page.get_by_role("status")).to_have_text("Product created.")
    expect(page.get_by_role("heading", name="Typed with keys")).to_be_visible()


def test_readable_at_a_phone_width(signed_in: Page, shoot: Callable[[Page, str], Path]) -> None:
    page = signed_in
    create(page, "PHONE-1", "A product seen on a phone")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    # One column: nothing wider than the screen but the table, which scrolls in its own box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    shoot(page, "product-editor-phone")
    page.get_by_role("link", name="Products").first.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "products-phone")


def test_a_panel_refreshing_after_the_session_ended_sends_the_page_to_sign_in(
    server: LiveServer,
) -> None:
    answer = httpx.get(
        server.url + "/console/jobs/01M8Y1RSF0ZKEAJWDMBCSPXP86/progress",
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/console/sign-in"
    plain = httpx.get(server.url + "/console/products", follow_redirects=False)
    assert plain.status_code == 303
    assert plain.headers["location"] == "/console/sign-in"
