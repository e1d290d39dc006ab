"""The product editor's sections: a typed product's attributes as a form built from its type,
the variants table, channel overrides, and completeness per channel with each missing field
linked to its input (DESIGN.md sections 9, 10 and 12).

A product type and a channel's requirements are set up over the API (their pages are not the
editor's); every step of the person editing goes through the browser.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import Page, expect

from tests.console.conftest import LiveServer

APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "label": "Brand", "max_length": 30, "required": True},
        "material": {"type": "enum", "label": "Material", "values": ["cotton", "linen"]},
        "weight": {"type": "integer", "label": "Weight (g)", "minimum": 1, "maximum": 2000},
        "organic": {"type": "boolean", "label": "Organic"},
        "size": {"type": "enum", "label": "Size", "values": ["S", "M", "L"], "variant_axis": True},
    },
}


def merchant_api(server: LiveServer, merchant_id: str) -> httpx.Client:
    token = server.token("--merchant", merchant_id)
    return httpx.Client(
        base_url=f"{server.url}/v1/merchants/{merchant_id}",
        headers={"Authorization": f"Bearer {token}"},
    )


def create_type(server: LiveServer, merchant_id: str, body: dict[str, Any] = APPAREL) -> None:
    with merchant_api(server, merchant_id) as api:
        created = api.post("/product-types", json=body)
    assert created.status_code == 201, created.text


def stored(server: LiveServer, merchant_id: str, editor_url: str, channel: str = "") -> Any:
    product_id = editor_url.rstrip("/").rsplit("/", 1)[-1]
    with merchant_api(server, merchant_id) as api:
        answer = api.get(f"/products/{product_id}", params={"channel": channel} if channel else {})
    assert answer.status_code == 200, answer.text
    return answer.json()


def create(page: Page, sku: str, name: str, product_type: str = "") -> str:
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill(sku)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Price").fill("25.00")
    page.get_by_label("Currency").fill("USD")
    if product_type:
        page.get_by_label("Product type").select_option(product_type)
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("status")).to_have_text("Product created.")
    return page.url.split("?")[0]


def completeness(page: Page, title: str) -> Any:
    panel = page.get_by_role("region", name="Completeness")
    return panel.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))


def test_a_typed_products_attributes_are_a_form_of_its_type(
    signed_in: Page, server: LiveServer, merchant_id: str, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    create_type(server, merchant_id)
    editor = create(page, "TEE-T", "Typed tee", product_type="apparel")

    # One labelled input per attribute of the type; the type takes others too, as JSON.
    expect(page.get_by_label("Brand")).to_have_value("")
    expect(page.get_by_label("Material")).to_have_value("")
    expect(page.get_by_label("Organic")).to_have_value("")
    expect(page.get_by_label("Additional attributes (JSON)")).to_be_visible()
    expect(page.get_by_label("Attributes (JSON)", exact=True)).to_have_count(0)

    # READY needs the type's required brand: its link focuses the Brand input.
    ready = completeness(page, "Ready")
    expect(ready).to_contain_text("/attributes/brand")
    ready.get_by_role("link", name="Brand").click()
    expect(page.get_by_label("Brand")).to_be_focused()

    page.get_by_label("Brand").fill("Acme")
    page.get_by_label("Material").select_option("linen")
    page.get_by_label("Weight (g)").fill("5000")
    page.get_by_label("Organic").select_option("Yes")
    page.get_by_label("Additional attributes (JSON)").fill('{"care": "hand wash"}')
    page.get_by_role("button", name="Save", exact=True).click()
    # The type's refusal is announced next to the input that holds it; the rest is kept.
    weight = page.get_by_label("Weight (g)")
    expect(weight).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[id='e-attr.weight']")).to_have_text("Weight (g) must be at most 2000")
    expect(page.get_by_label("Brand")).to_have_value("Acme")

    weight.fill("180")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_label("Weight (g)")).to_have_value("180")
    expect(page.get_by_label("Material")).to_have_value("linen")
    expect(completeness(page, "Ready")).not_to_contain_text("/attributes/brand")
    shoot(page, "product-editor-typed")
    assert stored(server, merchant_id, editor)["attributes"] == {
        "brand": "Acme",
        "material": "linen",
        "weight": 180,
        "organic": True,
        "care": "hand wash",
    }

    # Emptying an input removes the attribute.
    page.get_by_label("Organic").select_option("Not set")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert "organic" not in stored(server, merchant_id, editor)["attributes"]


def test_a_type_without_additional_attributes_has_no_json_textarea(
    signed_in: Page, server: LiveServer, merchant_id: str
) -> None:
    page = signed_in
    closed = {**APPAREL, "key": "closed", "additional_attributes": False}
    create_type(server, merchant_id, closed)
    create(page, "TEE-C", "Closed tee", product_type="closed")
    expect(page.get_by_label("Brand")).to_be_visible()
    expect(page.get_by_label("Additional attributes (JSON)")).to_have_count(0)
    page.get_by_label("Weight (g)").fill("heavy")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("[id='e-attr.weight']")).to_have_text("Weight (g) must be an integer")


def test_variants_are_added_edited_in_their_row_and_removed(
    signed_in: Page, server: LiveServer, merchant_id: str, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    create_type(server, merchant_id)
    editor = create(page, "TEE-V", "Variant tee", product_type="apparel")
    variants = page.get_by_role("region", name="Variants")
    expect(variants).to_contain_text("No variants")

    # The type says which attributes may be axes.
    expect(page.get_by_text("from: size")).to_be_visible()
    page.get_by_label("Options").fill("size")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    # With options, READY needs a variant: the link goes to the new variant's SKU.
    completeness(page, "Ready").get_by_role("link", name="A variant").click()
    add = page.get_by_role("form", name="Add a variant")
    expect(add.get_by_label("SKU")).to_be_focused()

    def add_variant(sku: str, size: str, price: str = "") -> None:
        add = page.get_by_role("form", name="Add a variant")
        add.get_by_label("SKU").fill(sku)
        add.get_by_label("Size").select_option(size)
        add.get_by_label("Price").fill(price)
        add.get_by_role("button", name="Add variant").click()

    add_variant("TEE-V-S", "S")
    expect(page.get_by_role("status")).to_have_text("Variant added.")
    add_variant("TEE-V-M", "M", "27.50")
    expect(page.get_by_role("status")).to_have_text("Variant added.")
    rows = page.get_by_role("region", name="Variants").get_by_role("row")
    small = rows.filter(has_text="TEE-V-S")
    expect(small).to_contain_text("25.00 USD (product's)")
    expect(rows.filter(has_text="TEE-V-M")).to_contain_text("27.50 USD")

    # A SKU already taken is refused next to the SKU input; nothing is added.
    add_variant("TEE-V-S", "L")
    expect(page.get_by_role("form", name="Add a variant").get_by_label("SKU")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_role("alert").first).to_contain_text("TEE-V-S")

    # Edit one variant's price and stock in its row.
    small = page.get_by_role("row").filter(has_text="TEE-V-S")
    small.get_by_role("link", name="Edit TEE-V-S").click()
    row = page.get_by_role("form", name="Variant TEE-V-S")
    expect(row.get_by_label("Price")).to_be_focused()
    row.get_by_label("Price").fill("26.00")
    row.get_by_label("Stock").fill("-1")
    row.get_by_role("button", name="Save variant").click()
    row = page.get_by_role("form", name="Variant TEE-V-S")
    expect(row.get_by_label("Stock")).to_have_attribute("aria-invalid", "true")
    row.get_by_label("Stock").fill("5")
    row.get_by_role("button", name="Save variant").click()
    expect(page.get_by_role("status")).to_have_text("Variant saved.")
    small = page.get_by_role("row").filter(has_text="TEE-V-S")
    expect(small).to_contain_text("26.00 USD")
    expect(small).to_contain_text("5")
    shoot(page, "variants")

    page.get_by_role("button", name="Remove TEE-V-M").click()
    expect(page.get_by_role("status")).to_have_text("Variant removed.")
    expect(page.get_by_role("row").filter(has_text="TEE-V-M")).to_have_count(0)
    [variant] = stored(server, merchant_id, editor)["variants"]
    assert (variant["sku"], variant["options"], variant["stock"]) == ("TEE-V-S", {"size": "S"}, 5)
    assert variant["price"] == {"amount": 2600, "currency": "USD"}


def test_a_variants_attributes_and_images_are_edited_in_its_row(
    signed_in: Page, server: LiveServer, merchant_id: str, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    shirt = {
        "sku": "TEE-I",
        "name": "Two-colour tee",
        "price": {"amount": 2500, "currency": "USD"},
        "attributes": {"material": "cotton", "fit": "regular"},
        "options": ["size"],
        "variants": [{"sku": "TEE-I-S", "options": {"size": "S"}}],
    }
    with merchant_api(server, merchant_id) as api:
        created = api.post("/products", json=shirt)
        assert created.status_code == 201, created.text
        product_id = created.json()["id"]
        image_ids = []
        for color in ("teal", "navy"):
            png = io.BytesIO()
            Image.new("RGB", (40, 30), color).save(png, format="PNG")
            added = api.post(
                f"/products/{product_id}/images",
                files={"file": (f"{color}.png", png.getvalue(), "image/png")},
                data={"alt": f"The {color} tee"},
            )
            assert added.status_code in (200, 201), added.text
            image_ids.append(added.json()["images"][-1]["id"])
    editor = page.url.rsplit("/products", 1)[0] + f"/products/{product_id}"
    page.goto(editor)

    page.get_by_role("row").filter(has_text="TEE-I-S").get_by_role("link", name="Edit").click()
    row = page.get_by_role("form", name="Variant TEE-I-S")
    row.get_by_label("Attributes (JSON)").fill('{"fit": slim}')
    row.get_by_role("button", name="Save variant").click()
    row = page.get_by_role("form", name="Variant TEE-I-S")
    expect(row.get_by_label("Attributes (JSON)")).to_have_attribute("aria-invalid", "true")
    row.get_by_label("Attributes (JSON)").fill('{"fit": "slim", "weight_g": 180}')
    row.get_by_role("group", name="Images of TEE-I-S").get_by_label("Image 2: The navy tee").check()
    row.get_by_role("button", name="Save variant").click()
    expect(page.get_by_role("status")).to_have_text("Variant saved.")
    expect(page.get_by_role("row").filter(has_text="TEE-I-S")).to_contain_text("1 image")
    [variant] = stored(server, merchant_id, editor)["variants"]
    assert variant["attributes"] == {"fit": "slim", "weight_g": 180}
    assert variant["image_ids"] == [image_ids[1]]

    # Reopened, the row shows what is stored; what is taken out of it goes.
    page.get_by_role("row").filter(has_text="TEE-I-S").get_by_role("link", name="Edit").click()
    row = page.get_by_role("form", name="Variant TEE-I-S")
    images = row.get_by_role("group", name="Images of TEE-I-S")
    expect(images.get_by_label("Image 2: The navy tee")).to_be_checked()
    expect(images.get_by_label("Image 1: The teal tee")).not_to_be_checked()
    shoot(page, "variant-row")
    row.get_by_label("Attributes (JSON)").fill('{"weight_g": 180}')
    images.get_by_label("Image 1: The teal tee").check()
    images.get_by_label("Image 2: The navy tee").uncheck()
    row.get_by_role("button", name="Save variant").click()
    expect(page.get_by_role("status")).to_have_text("Variant saved.")
    [variant] = stored(server, merchant_id, editor)["variants"]
    assert (variant["attributes"], variant["image_ids"]) == ({"weight_g": 180}, [image_ids[0]])
    # The product's fit again, on the variant as a channel sees it.
    [seen] = stored(server, merchant_id, editor, "shopfront")["variants"]
    assert seen["attributes"] == {"material": "cotton", "fit": "regular", "weight_g": 180}


def test_channel_overrides_and_completeness_per_channel(
    signed_in: Page, server: LiveServer, merchant_id: str, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    channel = "shopfront"
    token = server.token("--role", "platform")
    declared = httpx.put(
        f"{server.url}/v1/channels/{channel}/requirements",
        json={"required": ["/description", "/attributes/color"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert declared.status_code == 200, declared.text
    editor = create(page, "TEE-O", "Override tee")

    # The channel's needs, each linked to the input that holds it.
    needs = completeness(page, channel)
    expect(needs).to_contain_text("/description")
    expect(needs).to_contain_text("/attributes/color")
    needs.get_by_role("link", name="Description").click()
    expect(page.get_by_label("Description", exact=True)).to_be_focused()
    needs.get_by_role("link", name="color").click()
    expect(page.get_by_label("Attributes (JSON)")).to_be_focused()

    # The channel is listed among the overrides; its form opens on demand.
    overrides = page.get_by_role("region", name="Channel overrides")
    expect(overrides).to_contain_text(f"No overrides: {channel} shows the product's own fields.")
    overrides.get_by_role("link", name=f"Edit overrides on {channel}").click()
    form = page.get_by_role("form", name=f"Overrides on {channel}")
    expect(form.get_by_label("Name")).to_be_focused()
    form.get_by_label("Description").fill("Made for the shop front.")
    form.get_by_label("Price").fill("30.00")
    form.get_by_label("Attributes (JSON)").fill('{"color": navy}')
    form.get_by_role("button", name="Save overrides").click()
    form = page.get_by_role("form", name=f"Overrides on {channel}")
    expect(form.get_by_label("Attributes (JSON)")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Attributes (JSON)").fill('{"color": "navy"}')
    form.get_by_role("button", name="Save overrides").click()
    expect(page.get_by_role("status")).to_have_text("Channel overrides saved.")

    shown = page.get_by_role("region", name="Channel overrides")
    expect(shown).to_contain_text("Made for the shop front.")
    expect(shown).to_contain_text("30.00 USD")
    # The overrides complete the channel's needs; READY still needs the product's own.
    expect(completeness(page, channel)).not_to_contain_text("/description")
    expect(completeness(page, channel)).not_to_contain_text("/attributes/color")
    expect(completeness(page, "Ready")).to_contain_text("/description")
    shoot(page, "channel-overrides")
    on_channel = stored(server, merchant_id, editor, channel)
    assert on_channel["description"] == "Made for the shop front."
    assert on_channel["price"] == {"amount": 3000, "currency": "USD"}
    assert on_channel["attributes"] == {"color": "navy"}
    assert stored(server, merchant_id, editor)["description"] is None

    # Overrides on a channel the product knows nothing of yet, by its slug.
    shown.get_by_label("Channel").fill("market-two")
    shown.get_by_role("button", name="Override on this channel").click()
    form = page.get_by_role("form", name="Overrides on market-two")
    form.get_by_label("Name").fill("Tee for market two")
    form.get_by_role("button", name="Save overrides").click()
    expect(page.get_by_role("status")).to_have_text("Channel overrides saved.")
    expect(page.get_by_role("region", name="Channel overrides")).to_contain_text(
        "Tee for market two"
    )

    page.get_by_role("button", name=f"Remove overrides on {channel}").click()
    expect(page.get_by_role("status")).to_have_text("Channel overrides removed.")
    assert set(stored(server, merchant_id, editor)["channel_overrides"]) == {"market-two"}
    expect(completeness(page, channel)).to_contain_text("/description")


def test_a_variants_price_and_attributes_on_one_channel(
    signed_in: Page, server: LiveServer, merchant_id: str, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    channel = "shopfront"
    shirt = {
        "sku": "TEE-W",
        "name": "Variant override tee",
        "price": {"amount": 2500, "currency": "USD"},
        "options": ["size"],
        "variants": [
            {"sku": "TEE-W-S", "options": {"size": "S"}},
            {"sku": "TEE-W-M", "options": {"size": "M"}},
        ],
    }
    with merchant_api(server, merchant_id) as api:
        created = api.post("/products", json=shirt)
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    small, medium = (variant["id"] for variant in created.json()["variants"])
    editor = page.url.rsplit("/products", 1)[0] + f"/products/{product_id}"
    page.goto(f"{editor}?overrides={channel}")

    form = page.get_by_role("form", name=f"Overrides on {channel}")
    expect(form.get_by_role("group", name="Variants on shopfront")).to_be_visible()
    form.get_by_label("Price of TEE-W-S").fill("23.00")
    form.get_by_label("Currency of TEE-W-S").fill("XX")
    form.get_by_label("Attributes of TEE-W-S (JSON)").fill('{"color": "navy"}')
    form.get_by_role("button", name="Save overrides").click()
    # A bad price is named at that variant's input; nothing is saved.
    form = page.get_by_role("form", name=f"Overrides on {channel}")
    expect(form.get_by_label("Currency of TEE-W-S")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Currency of TEE-W-M")).not_to_have_attribute("aria-invalid", "true")
    assert stored(server, merchant_id, editor)["channel_overrides"] == {}
    form.get_by_label("Currency of TEE-W-S").fill("USD")
    form.get_by_role("button", name="Save overrides").click()
    expect(page.get_by_role("status")).to_have_text("Channel overrides saved.")

    shown = page.get_by_role("region", name="Channel overrides")
    expect(shown).to_contain_text("TEE-W-S")
    expect(shown).to_contain_text("23.00 USD")
    variants = stored(server, merchant_id, editor)["channel_overrides"][channel]["variants"]
    assert variants == {
        small: {"price": {"amount": 2300, "currency": "USD"}, "attributes": {"color": "navy"}}
    }
    # What the channel reads: the small variant at its price there, the medium one as it is.
    on_channel = {v["id"]: v for v in stored(server, merchant_id, editor, channel)["variants"]}
    assert on_channel[small]["price"] == {"amount": 2300, "currency": "USD"}
    assert on_channel[small]["attributes"]["color"] == "navy"
    assert on_channel[medium]["price"] == {"amount": 2500, "currency": "USD"}

    # Emptied, the variant's override goes; the channel then has none left.
    page.goto(f"{editor}?overrides={channel}")
    form = page.get_by_role("form", name=f"Overrides on {channel}")
    expect(form.get_by_label("Price of TEE-W-S")).to_have_value("23.00")
    shoot(page, "variant-overrides")
    form.get_by_label("Price of TEE-W-S").fill("")
    form.get_by_label("Attributes of TEE-W-S (JSON)").fill("")
    form.get_by_role("button", name="Save overrides").click()
    expect(page.get_by_role("status")).to_have_text("Channel overrides saved.")
    assert stored(server, merchant_id, editor)["channel_overrides"] == {}


def test_a_section_posted_over_a_newer_version_changes_nothing(
    signed_in: Page, server: LiveServer, merchant_id: str
) -> None:
    page = signed_in
    editor = create(page, "TEE-S", "Stale tee")
    page.get_by_label("Channel", exact=True).fill("shopfront")
    page.get_by_role("button", name="Override on this channel").click()
    # Someone else saves the product while the form is open.
    product_id = editor.rsplit("/", 1)[-1]
    with merchant_api(server, merchant_id) as api:
        changed = api.patch(f"/products/{product_id}", json={"name": "Renamed elsewhere"})
    assert changed.status_code == 200, changed.text

    form = page.get_by_role("form", name="Overrides on shopfront")
    form.get_by_label("Name").fill("Shop front tee")
    form.get_by_role("button", name="Save overrides").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this product")
    expect(page.get_by_role("heading", name="Renamed elsewhere")).to_be_visible()
    assert stored(server, merchant_id, editor)["channel_overrides"] == {}
