"""The history timeline: each version's diffs, actor and time; Restore an older version (a new
version with its content), a stale Restore, and one the product's type now refuses."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.console.test_products import create
from tests.console.test_types import create_type


def version(page: Page, number: int) -> Locator:
    return page.get_by_role("listitem", name=f"Version {number}", exact=True)


def save(page: Page, **inputs: str) -> None:
    for label, value in inputs.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")


def test_the_timeline_shows_each_change_and_restores_a_version(
    signed_in: Page, merchant_id: str, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    editor = create(page, "HIST-1", "Linen tee", price="25.00")
    save(page, Name="Linen tee, natural")
    save(page, Price="30.00")

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History of Linen tee, natural")).to_be_visible()
    entries = page.get_by_role("listitem").filter(has=page.get_by_role("heading"))
    expect(entries).to_have_count(3)
    expect(entries.first).to_contain_text("Version 3")  # newest first

    third = version(page, 3)
    expect(third.locator(".actor")).to_have_text(re.compile(merchant_id))
    expect(third.locator("time")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    price = third.get_by_role("row").filter(has_text="/price")
    expect(price.get_by_role("cell")).to_have_text(["25.00 USD", "30.00 USD"])
    second = version(page, 2)
    name = second.get_by_role("row").filter(has_text="/name")
    expect(name.get_by_role("cell")).to_have_text(["Linen tee", "Linen tee, natural"])
    expect(second.locator(".actor")).to_have_text(re.compile(merchant_id))
    first = version(page, 1)
    expect(first.locator(".transition")).to_contain_text("DRAFT")
    expect(first.get_by_role("row").filter(has_text="/price").get_by_role("cell")).to_have_text(
        ["none", "25.00 USD"]
    )
    expect(first.locator(".events")).to_contain_text("ProductCreated")
    # The current version has nothing to restore.
    expect(third.get_by_role("button", name="Restore")).to_have_count(0)

    first.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_have_text("Version 1 restored as version 4.")
    fourth = version(page, 4)
    expect(fourth).to_contain_text("restored from 1")
    expect(fourth.get_by_role("row").filter(has_text="/name").get_by_role("cell")).to_have_text(
        ["Linen tee, natural", "Linen tee"]
    )
    shoot(page, "history")
    # Its content is now the current one: restoring it again writes nothing.
    version(page, 1).get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_have_text(
        "Version 1 has the content the product has now: nothing changed."
    )
    expect(version(page, 5)).to_have_count(0)
    page.get_by_role("link", name="Back to the editor").click()
    assert page.url == editor
    expect(page.get_by_label("Name", exact=True)).to_have_value("Linen tee")
    expect(page.get_by_label("Price")).to_have_value("25.00")
    expect(page.locator(".meta")).to_contain_text("version 4")


def test_a_stale_restore_shows_the_problem_and_restores_nothing(signed_in: Page) -> None:
    page = signed_in
    editor = create(page, "HIST-2", "Cap")
    save(page, Name="Cap, wool")
    page.get_by_role("link", name="History").click()
    other = page.context.new_page()
    other.goto(editor)
    save(other, Name="Cap (other tab)")

    version(page, 1).get_by_role("button", name="Restore").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this product")
    # The timeline shown is the newest: version 3 is the other tab's, and nothing was restored.
    expect(version(page, 3)).to_be_visible()
    expect(version(page, 4)).to_have_count(0)
    version(page, 1).get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_have_text("Version 1 restored as version 4.")


def test_a_version_the_type_now_refuses_is_not_restored(signed_in: Page) -> None:
    page = signed_in
    create_type(page, "mugs", "Mugs", name="color", type="enum", enum_values="red, purple")
    page.get_by_role("link", name="Products").first.click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill("MUG-7")
    page.get_by_label("Name", exact=True).fill("Mug")
    page.get_by_label("Product type").select_option("mugs")
    page.get_by_label("Attributes (JSON)").fill('{"color": "purple"}')
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("status")).to_have_text("Product created.")
    editor = page.url.split("?")[0]
    save(page, Name="Mug, large")
    # The type no longer allows purple: version 1's content would be refused today.
    page.get_by_role("link", name="mugs").click()
    page.get_by_label("Attribute 1 enum values", exact=True).fill("red")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    page.goto(editor)
    page.get_by_role("link", name="History").click()
    version(page, 1).get_by_role("button", name="Restore").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Version 1 cannot be restored")
    expect(alert).to_contain_text("/attributes/color must be one of red")
    expect(version(page, 3)).to_have_count(0)
    expect(page.get_by_role("heading", name="History of Mug, large")).to_be_visible()


def test_older_versions_are_a_page_away_with_their_prices(signed_in: Page) -> None:
    page = signed_in
    create(page, "HIST-3", "Mug", price="1.00")
    for amount in range(2, 23):  # versions 2 to 22: more than a page of 20
        save(page, Price=f"{amount}.00")
    page.get_by_role("link", name="History").click()
    expect(version(page, 22)).to_be_visible()
    expect(version(page, 3)).to_be_visible()
    expect(version(page, 2)).to_have_count(0)
    page.get_by_role("link", name="Older versions").click()
    # The price before and after version 2 is known though the newer versions are not shown.
    price = version(page, 2).get_by_role("row").filter(has_text="/price")
    expect(price.get_by_role("cell")).to_have_text(["1.00 USD", "2.00 USD"])
    expect(version(page, 1)).to_be_visible()
    expect(page.get_by_role("link", name="Older versions")).to_have_count(0)
    page.get_by_role("link", name="Newest versions").click()
    expect(version(page, 22)).to_be_visible()
