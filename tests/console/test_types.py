"""Product types in the console: create one with its attribute definitions, edit them (add,
change, remove a row), errors announced next to the input that holds them; delete, refused
while a product has the type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect


def open_types(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Product types").click()
    expect(page.get_by_role("heading", name="Product types")).to_be_visible()


def fill_row(page: Page, number: int, **members: str) -> None:
    """Fill attribute row `number` (1-based): text inputs by value, `type` selected."""
    for member, value in members.items():
        label = f"Attribute {number} {member.replace('_', ' ')}"
        if member == "type":
            page.get_by_label(label, exact=True).select_option(value)
        else:
            page.get_by_label(label, exact=True).fill(value)


def create_type(page: Page, key: str, title: str, **first_row: str) -> None:
    open_types(page)
    page.get_by_label("Key", exact=True).fill(key)
    page.get_by_label("Name", exact=True).fill(title)
    fill_row(page, 1, **first_row)
    page.get_by_role("button", name="Create product type").click()
    expect(page.get_by_role("status")).to_have_text("Product type created.")


def test_create_and_edit_a_type_with_errors_next_to_their_inputs(
    signed_in: Page, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    open_types(page)
    expect(page.get_by_text("No product types yet")).to_be_visible()
    page.get_by_label("Key", exact=True).fill("Apparel!")
    page.get_by_label("Name", exact=True).fill("Apparel")
    fill_row(page, 1, name="color", type="enum", enum_values="red, blue")
    page.get_by_label("Attribute 1 required", exact=True).check()
    page.get_by_role("button", name="Create product type").click()
    key = page.get_by_label("Key", exact=True)
    expect(key).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-key")).to_contain_text("must be 1 to 64 of a-z")
    # What was typed is kept.
    expect(page.get_by_label("Attribute 1 enum values", exact=True)).to_have_value("red, blue")
    key.fill("apparel")
    page.get_by_role("button", name="Create product type").click()
    expect(page.get_by_role("status")).to_have_text("Product type created.")
    expect(page.get_by_role("heading", name="Apparel")).to_be_visible()
    expect(page.get_by_label("Attribute 1 name", exact=True)).to_have_value("color")
    expect(page.get_by_label("Attribute 1 type", exact=True)).to_have_value("enum")
    expect(page.get_by_label("Attribute 1 required", exact=True)).to_be_checked()

    # A second attribute in the empty row: an enum without values, a bound that is no number.
    fill_row(page, 2, name="size", type="enum", maximum="lots")
    page.get_by_role("button", name="Save").click()
    maximum = page.get_by_label("Attribute 2 maximum", exact=True)
    expect(maximum).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-attr-1-maximum")).to_have_text(
        "Attribute 2 maximum must be a number, such as 10 or 2.5"
    )
    # Both are reported at once, each next to its input.
    values = page.get_by_label("Attribute 2 enum values", exact=True)
    expect(values).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-attr-1-values")).to_have_text(
        "Attribute 2 enum values an enum needs a list of at least one value"
    )
    maximum.fill("")
    values.fill("S, M, L")
    page.get_by_label("Attribute 2 variant axis", exact=True).check()
    fill_row(page, 3, name="weight_grams", type="integer", minimum="1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator(".meta")).to_contain_text("version 2")
    expect(page.get_by_label("Attribute 2 enum values", exact=True)).to_have_value("S, M, L")
    expect(page.get_by_label("Attribute 2 variant axis", exact=True)).to_be_checked()
    expect(page.get_by_label("Attribute 3 minimum", exact=True)).to_have_value("1")
    shoot(page, "product-type-editor")

    # Removing a row removes the attribute; the name changes with it.
    page.get_by_label("Name", exact=True).fill("Apparel and shoes")
    page.get_by_label("Attribute 1 remove", exact=True).check()
    page.get_by_label("Attribute 2 variant axis", exact=True).uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_role("heading", name="Apparel and shoes")).to_be_visible()
    expect(page.get_by_label("Attribute 1 name", exact=True)).to_have_value("size")
    expect(page.get_by_label("Attribute 1 variant axis", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Attribute 2 name", exact=True)).to_have_value("weight_grams")
    expect(page.get_by_label("Attribute 3 name", exact=True)).to_have_value("")

    open_types(page)
    row = page.get_by_role("row").filter(has_text="apparel")
    expect(row.get_by_role("cell")).to_have_text(["apparel", "Apparel and shoes", "2", "3"])
    shoot(page, "product-types")


def test_deleting_a_type_in_use_is_refused(signed_in: Page) -> None:
    page = signed_in
    create_type(page, "mugs", "Mugs", name="volume_ml", type="integer")
    create_type(page, "posters", "Posters", name="width_cm", type="number")
    page.get_by_role("link", name="Products").first.click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill("MUG-9")
    page.get_by_label("Name", exact=True).fill("Mug")
    page.get_by_label("Product type").select_option("mugs")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("status")).to_have_text("Product created.")

    page.get_by_role("link", name="mugs").click()
    page.get_by_role("button", name="Delete product type").click()
    expect(page.get_by_role("alert")).to_contain_text("Product type in use")
    expect(page.get_by_role("alert")).to_contain_text("give its products another type")
    open_types(page)
    expect(page.get_by_role("row").filter(has_text="mugs")).to_have_count(1)

    page.get_by_role("link", name="posters").click()
    page.get_by_role("button", name="Delete product type").click()
    expect(page.get_by_role("status")).to_have_text("Product type posters deleted.")
    expect(page.get_by_role("row").filter(has_text="posters")).to_have_count(0)
