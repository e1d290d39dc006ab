"""Variants (DESIGN.md section 10): their parsers, the variant commands of the Product
aggregate, the rules they keep (axes, duplicates, limits, the type, images), completeness
with options, history pointers and events, and the values each channel sees."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.domain import limits
from catalog.domain.editable import parse_editable, parse_patch
from catalog.domain.errors import (
    DuplicateSku,
    DuplicateVariant,
    InvalidField,
    ProductInactive,
    ProductIncomplete,
    VariantNotFound,
)
from catalog.domain.events import EventName
from catalog.domain.history import FieldChange
from catalog.domain.lifecycle import Status
from catalog.domain.listing import Listing, ListingState
from catalog.domain.product import PendingChange, Product
from catalog.domain.product_types import parse_type_content
from catalog.domain.values import ChannelOverride, Money, VariantOverride, parse_overrides
from catalog.domain.variants import (
    Variant,
    VariantBody,
    gtin_check_digit,
    parse_gtin,
    parse_options,
    parse_variant_bodies,
    parse_variant_body,
    parse_variant_patch,
    variant_from_json,
)
from tests.domain.builders import T0, image, new_id, stamp

USD = "USD"
APPAREL = parse_type_content(
    {
        "name": "Apparel",
        "attributes": {
            "color": {"type": "string", "variant_axis": True, "max_length": 10},
            "size": {"type": "enum", "values": ["S", "M", "L"], "variant_axis": True},
            "material": {"type": "enum", "values": ["cotton", "wool"]},
            "weight_g": {"type": "integer", "minimum": 1},
        },
        "additional_attributes": False,
    }
)


def pointers(error: InvalidField) -> dict[str, str]:
    return {e.field: e.message for e in error.fields}


def body(sku: str = "SH-RED-M", **fields: Any) -> VariantBody:
    return VariantBody(sku=sku, **{"options": {"color": "red", "size": "M"}, **fields})


def variant(vid: str, sku: str, **fields: Any) -> Variant:
    return body(sku, **fields).identified(vid)


def shirt(
    variants: list[Variant] | None = None,
    *,
    options: tuple[str, ...] = ("color", "size"),
    typed: bool = False,
    **fields: Any,
) -> Product:
    """A registered (pulled) shirt with options; untyped unless asked."""
    chosen: dict[str, Any] = {
        "id": "P1",
        "merchant_id": "acme",
        "sku": "SH",
        "name": "Shirt",
        "description": "Soft",
        "price": Money(2500, USD),
        "attributes": {"material": "cotton"},
        "options": options,
        "variants": variants if variants is not None else [variant("V1", "SH-RED-M")],
        **fields,
    }
    if typed:
        chosen["product_type"] = "apparel"
    product = Product.register(stamp=stamp(), type_content=APPAREL if typed else None, **chosen)
    product.pull_change(new_id)
    return product


def with_image(product: Product, image_id: str = "IMG1") -> Product:
    product.add_image(image(image_id), stamp(1))
    product.pull_change(new_id)
    return product


def pulled(product: Product) -> PendingChange:
    change = product.pull_change(new_id)
    assert change is not None
    return change


def changes_of(change: PendingChange) -> dict[str, tuple[Any, Any]]:
    """The history entry's changes by pointer (their values may be lists: not hashable)."""
    return {c.field: (c.old, c.new) for c in change.history.changes}


def revise(product: Product, minutes: int = 5, **fields: Any) -> None:
    current = {name: getattr(product, name) for name in product.editable_document()}
    current.update(fields)
    product.revise(stamp=stamp(minutes), type_content=product._type, **current)


def listed(product: Product, state: ListingState, channel: str = "mercadolibre") -> Product:
    """The product listed on `channel` (a listing is data here; the commands that make one
    are tested in test_listings)."""
    product.listings = {channel: Listing(state, T0, requested_version=product.version)}
    product.completeness = product.evaluated()
    return product


# ---------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    "gtin",
    [
        "96385074",  # GTIN-8
        "036000291452",  # GTIN-12 (UPC-A)
        "4006381333931",  # GTIN-13 (EAN-13)
        "10614141000415",  # GTIN-14
        "00000000",
    ],
)
def test_gtins_with_their_check_digit_are_accepted(gtin: str) -> None:
    assert parse_gtin(gtin, "/barcode") == gtin


@pytest.mark.parametrize(
    ("gtin", "message"),
    [
        ("96385075", "check digit must be 4, not 5"),
        ("036000291453", "check digit must be 2, not 3"),
        ("4006381333932", "check digit must be 1, not 2"),
        ("10614141000416", "check digit must be 5, not 6"),
        ("1234567", "8, 12, 13 or 14 digits, not 7"),
        ("400638133393", "check digit"),  # 12 digits, not a valid UPC
        ("123456789", "8, 12, 13 or 14 digits, not 9"),
        ("400638133393\uff11", "a string of 8, 12, 13 or 14 digits"),  # a full-width digit
        ("4006-381333931", "a string of"),
        (4006381333931, "a string of"),
    ],
)
def test_a_bad_gtin_names_the_rule_it_breaks(gtin: Any, message: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_gtin(gtin, "/variants/V1/barcode")
    assert refused.value.field == "/variants/V1/barcode"
    assert message in refused.value.message


@given(
    st.sampled_from([8, 12, 13, 14]).flatmap(
        lambda n: st.text(alphabet="0123456789", min_size=n - 1, max_size=n - 1)
    ),
    st.integers(min_value=1, max_value=9),
)
def test_exactly_one_check_digit_makes_a_payload_a_gtin(payload: str, shift: int) -> None:
    check = gtin_check_digit(payload)
    assert parse_gtin(payload + str(check), "/barcode") == payload + str(check)
    wrong = str((check + shift) % 10)
    with pytest.raises(InvalidField):
        parse_gtin(payload + wrong, "/barcode")


@given(st.text(alphabet="0123456789", min_size=7, max_size=13))
def test_a_gtin_keeps_its_check_digit_when_padded_with_leading_zeros(payload: str) -> None:
    # GS1: a GTIN-8, -12 or -13 is the same number as its zero-padded GTIN-14.
    assert gtin_check_digit(payload) == gtin_check_digit(payload.zfill(13))


def test_options_are_up_to_three_distinct_attribute_names() -> None:
    assert parse_options(None) == ()
    assert parse_options(["color", "size", "fit"]) == ("color", "size", "fit")
    with pytest.raises(InvalidField, match="at most 3"):
        parse_options(["a", "b", "c", "d"])
    with pytest.raises(InvalidField) as refused:
        parse_options(["Size", 3, "Size"])
    assert set(pointers(refused.value)) == {"/options/0", "/options/1", "/options/2"}
    with pytest.raises(InvalidField) as refused:
        parse_options(["color", "color"])
    assert pointers(refused.value) == {"/options/1": "repeats 'color'"}
    with pytest.raises(InvalidField):
        parse_options("color")


def test_a_variant_body_is_parsed_whole() -> None:
    parsed = parse_variant_body(
        {
            "sku": "SH-RED-M",
            "options": {"color": "red", "size": "M"},
            "price": {"amount": 2700, "currency": USD},
            "attributes": {"weight_g": 180, "material": None},
            "image_ids": ["IMG1"],
            "barcode": "4006381333931",
            "stock": 0,
        },
        "/variants/0",
    )
    assert parsed == VariantBody(
        sku="SH-RED-M",
        options={"color": "red", "size": "M"},
        price=Money(2700, USD),
        attributes={"weight_g": 180, "material": None},
        image_ids=("IMG1",),
        barcode="4006381333931",
        stock=0,
    )
    assert parse_variant_body({"sku": "X"}, "") == VariantBody(sku="X")


def test_every_bad_member_of_a_variant_body_is_reported_at_once() -> None:
    with pytest.raises(InvalidField) as refused:
        parse_variant_body(
            {
                "id": "mine",
                "sku": "has space",
                "options": {"color": " ", "Size": "M", "fit": "x" * 201},
                "price": {"amount": -1, "currency": USD},
                "attributes": [],
                "image_ids": ["IMG1", "IMG1"],
                "barcode": "4006381333932",
                "stock": -1,
                "colour": "red",
            },
            "/variants/3",
        )
    assert set(pointers(refused.value)) == {
        "/variants/3/id",
        "/variants/3/colour",
        "/variants/3/sku",
        "/variants/3/options/color",
        "/variants/3/options/Size",
        "/variants/3/options/fit",
        "/variants/3/price/amount",
        "/variants/3/attributes",
        "/variants/3/image_ids/1",
        "/variants/3/barcode",
        "/variants/3/stock",
    }
    assert pointers(refused.value)["/variants/3/id"] == "is made by the server"


@pytest.mark.parametrize(
    "stock", [True, 1.5, "3", -1, limits.MAX_STOCK + 1], ids=lambda value: repr(value)
)
def test_stock_is_a_whole_number_of_units(stock: Any) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_variant_body({"sku": "X", "stock": stock}, "/variants/V1")
    assert refused.value.field == "/variants/V1/stock"


def test_a_registration_holds_at_most_250_variants_named_by_index() -> None:
    many = [{"sku": f"S-{i}"} for i in range(limits.MAX_VARIANTS)]
    assert len(parse_variant_bodies(many)) == limits.MAX_VARIANTS
    with pytest.raises(InvalidField, match="at most 250") as refused:
        parse_variant_bodies([*many, {"sku": "one-more"}])
    assert refused.value.field == "/variants"
    with pytest.raises(InvalidField) as refused:
        parse_variant_bodies([{"sku": "ok"}, {"sku": ""}, {"sku": "ok2", "stock": -2}])
    assert set(pointers(refused.value)) == {"/variants/1/sku", "/variants/2/stock"}


def test_a_variant_patch_names_only_editable_members() -> None:
    assert parse_variant_patch({"price": None, "stock": 3}) == {"price": None, "stock": 3}
    with pytest.raises(InvalidField) as refused:
        parse_variant_patch({"id": "x", "price": {"cents": None}, "status": None}, "/variants/V1")
    assert set(pointers(refused.value)) == {
        "/variants/V1/id",
        "/variants/V1/price/cents",
        "/variants/V1/status",
    }


def test_options_are_editable_and_variants_are_not_a_field_of_the_products_patch() -> None:
    fields = parse_editable({"name": "Shirt", "options": ["color"]})
    assert fields.options == ("color",)
    with pytest.raises(InvalidField) as refused:
        parse_patch({"variants": [], "options": ["size"]})
    assert pointers(refused.value) == {"/variants": "is not an editable field"}


def test_channel_overrides_of_variants_parse_and_drop_empty_ones() -> None:
    parsed = parse_overrides(
        {
            "ml": {
                "variants": {
                    "V1": {"price": {"amount": 2000, "currency": USD}},
                    "V2": None,
                    "V3": {},
                }
            },
            "fb": {"variants": {}},
        }
    )
    assert parsed == {"ml": ChannelOverride(variants={"V1": VariantOverride(Money(2000, USD))})}
    assert parsed["ml"].to_json() == {
        "variants": {"V1": {"price": {"amount": 2000, "currency": USD}, "attributes": None}}
    }
    with pytest.raises(InvalidField) as refused:
        parse_overrides({"ml": {"variants": {"V1": {"name": "x", "price": {"amount": 1}}}}})
    assert set(pointers(refused.value)) == {
        "/channel_overrides/ml/variants/V1/name",
        "/channel_overrides/ml/variants/V1/price/currency",
    }
    with pytest.raises(InvalidField) as refused:
        parse_patch({"channel_overrides": {"ml": {"variants": {"V1": {"stock": 1}}}}})
    assert refused.value.field == "/channel_overrides/ml/variants/V1/stock"


# ---------------------------------------------------------------------- registration


def test_a_registration_with_variants_records_each_under_its_id() -> None:
    product = Product.register(
        id="P1",
        merchant_id="acme",
        sku="SH",
        name="Shirt",
        options=("size", "color"),
        variants=[
            variant("V1", "SH-1"),
            variant("V2", "SH-2", options={"color": "blue", "size": "M"}),
        ],
        stamp=stamp(),
    )
    change = pulled(product)

    assert [v.id for v in product.variants] == ["V1", "V2"]
    # Option values are listed in the product's order of axes.
    assert list(product.variants[0].options) == ["size", "color"]
    assert [c.field for c in change.history.changes] == [
        "/name",
        "/options",
        "/variants/V1",
        "/variants/V2",
    ]
    assert change.history.changes[2] == FieldChange(
        "/variants/V1", None, product.variants[0].to_json()
    )
    assert [event.name for event in change.events] == [EventName.PRODUCT_CREATED]


def test_a_registration_names_bad_variants_by_index_all_at_once() -> None:
    with pytest.raises(InvalidField) as refused:
        Product.register(
            id="P1",
            merchant_id="acme",
            sku="SH",
            name="Shirt",
            product_type="apparel",
            type_content=APPAREL,
            options=("color", "size"),
            variants=[
                variant("V1", "SH-1", options={"color": "red"}),
                variant("V2", "SH-2", options={"color": "red", "size": "XL", "fit": "slim"}),
                variant("V3", "SH-3", image_ids=("IMG9",), attributes={"weight_g": 0}),
            ],
            stamp=stamp(),
        )
    assert set(pointers(refused.value)) == {
        "/variants/0/options/size",
        "/variants/1/options/fit",
        "/variants/1/options/size",
        "/variants/2/image_ids/0",
        "/variants/2/attributes/weight_g",
    }
    assert "every option" in pointers(refused.value)["/variants/0/options/size"]
    assert "one of S, M, L" in pointers(refused.value)["/variants/1/options/size"]


def test_a_registration_refuses_duplicates_among_its_variants() -> None:
    with pytest.raises(DuplicateVariant, match="/variants/0"):
        shirt([variant("V1", "SH-1"), variant("V2", "SH-2")])
    with pytest.raises(DuplicateSku, match="/variants/0"):
        shirt([variant("V1", "SH-1"), variant("V2", "SH-1", options={"color": "a", "size": "S"})])
    with pytest.raises(DuplicateSku, match="the product itself"):
        shirt([variant("V1", "SH")])


def test_variants_need_options() -> None:
    with pytest.raises(InvalidField) as refused:
        shirt([variant("V1", "SH-1", options={})], options=())
    assert refused.value.field == "/options"


# ---------------------------------------------------------------------- commands


def test_adding_a_variant_makes_a_version_with_its_history_and_event() -> None:
    product = shirt()

    added = product.add_variant(
        body("SH-BLUE-M", options={"size": "M", "color": "blue"}), "V2", stamp(5)
    )
    change = pulled(product)

    assert added == product.variants[-1] and added.id == "V2"
    assert list(added.options) == ["color", "size"]
    assert change.expected_version == 1 and product.version == 2
    assert change.history.changes == (FieldChange("/variants/V2", None, added.to_json()),)
    assert [(e.name, e.data) for e in change.events] == [
        (
            EventName.PRODUCT_UPDATED,
            {"changed_fields": ["/variants/V2"], "channels": [], "variants": ["V2"]},
        )
    ]


def test_revising_a_variant_records_the_leaves_that_changed() -> None:
    product = with_image(shirt([variant("V1", "SH-1", price=Money(2700, USD), stock=3)]))

    product.revise_variant(
        "V1",
        {"price": {"amount": 2900}, "options": {"size": "L"}, "image_ids": ["IMG1"], "stock": None},
        stamp(5),
    )
    change = pulled(product)

    revised = product.variant("V1")
    assert (revised.price, revised.options, revised.image_ids, revised.stock) == (
        Money(2900, USD),
        {"color": "red", "size": "L"},
        ("IMG1",),
        None,
    )
    assert changes_of(change) == {
        "/variants/V1/price/amount": (2700, 2900),
        "/variants/V1/options/size": ("M", "L"),
        "/variants/V1/image_ids": ([], ["IMG1"]),
        "/variants/V1/stock": (3, None),
    }
    assert change.events[0].data["variants"] == ["V1"]
    assert change.events[0].data["changed_fields"] == [
        "/variants/V1/image_ids",
        "/variants/V1/options/size",
        "/variants/V1/price/amount",
        "/variants/V1/stock",
    ]


def test_a_variant_patch_is_parsed_as_merged_and_names_the_variant() -> None:
    product = shirt()
    with pytest.raises(InvalidField) as refused:
        product.revise_variant(
            "V1", {"barcode": "4006381333932", "price": {"amount": 5}, "sku": None}, stamp(5)
        )
    assert set(pointers(refused.value)) == {
        "/variants/V1/barcode",
        "/variants/V1/price/currency",
        "/variants/V1/sku",
    }
    with pytest.raises(InvalidField) as refused:
        product.revise_variant("V1", {"options": {"size": None}}, stamp(5))
    assert refused.value.field == "/variants/V1/options/size"
    assert product.pull_change(new_id) is None


def test_a_variant_patch_that_changes_nothing_writes_no_version() -> None:
    product = shirt()
    product.revise_variant("V1", {"sku": "SH-RED-M", "price": None}, stamp(5))
    assert product.pull_change(new_id) is None


def test_removing_a_variant_removes_its_channel_overrides_in_the_same_version() -> None:
    product = shirt(
        [variant("V1", "SH-1"), variant("V2", "SH-2", options={"color": "b", "size": "S"})]
    )
    overrides = {
        "ml": ChannelOverride(variants={"V1": VariantOverride(Money(1, USD))}),
        "fb": ChannelOverride(
            name="Camisa",
            variants={"V1": VariantOverride(Money(2, USD)), "V2": VariantOverride(Money(3, USD))},
        ),
    }
    revise(product, channel_overrides=overrides)
    before = product.variant("V1").to_json()
    pulled(product)

    product.remove_variant("V1", stamp(6))
    change = pulled(product)

    assert [v.id for v in product.variants] == ["V2"]
    assert product.channel_overrides == {
        "fb": ChannelOverride(name="Camisa", variants={"V2": VariantOverride(Money(3, USD))})
    }
    price_1, price_2 = Money(1, USD).to_json(), Money(2, USD).to_json()
    assert changes_of(change) == {
        "/variants/V1": (before, None),
        "/channel_overrides/fb/variants/V1": ({"price": price_2, "attributes": None}, None),
        "/channel_overrides/ml": (
            {"variants": {"V1": {"price": price_1, "attributes": None}}},
            None,
        ),
    }
    assert change.events[0].data["variants"] == ["V1"]


def test_unknown_variants_are_not_found_and_ids_are_the_callers_to_make_unique() -> None:
    product = shirt()
    with pytest.raises(ValueError, match="V1"):
        product.add_variant(body("SH-2", options={"color": "b", "size": "S"}), "V1", stamp(5))
    with pytest.raises(VariantNotFound):
        product.revise_variant("V9", {"stock": 1}, stamp(5))
    with pytest.raises(VariantNotFound):
        product.remove_variant("V9", stamp(5))


def test_an_inactive_product_refuses_variant_changes() -> None:
    product = shirt()
    product.deactivate(stamp(2))
    pulled(product)
    with pytest.raises(ProductInactive):
        product.add_variant(body("SH-2", options={"color": "b", "size": "S"}), "V2", stamp(5))
    with pytest.raises(ProductInactive):
        product.revise_variant("V1", {"stock": 1}, stamp(5))
    with pytest.raises(ProductInactive):
        product.remove_variant("V1", stamp(5))


def test_a_product_merge_patch_cannot_reach_the_variants() -> None:
    product = shirt()
    assert "variants" not in product.editable_document()
    with pytest.raises(TypeError, match="variants"):
        product.revise(variants=[], stamp=stamp(5))


# ---------------------------------------------------------------------- rules


def test_a_new_variant_names_every_axis_and_no_other() -> None:
    product = shirt()
    with pytest.raises(InvalidField) as refused:
        product.add_variant(body("SH-2", options={"color": "blue", "fit": "slim"}), "V2", stamp(5))
    assert pointers(refused.value) == {
        "/variants/V2/options/size": (
            "is required: a variant names a value for every option of the product"
        ),
        "/variants/V2/options/fit": "is not an option of the product",
    }
    assert [v.id for v in product.variants] == ["V1"]
    assert product.pull_change(new_id) is None


def test_duplicates_of_another_variant_or_of_the_product_are_refused() -> None:
    product = shirt()
    with pytest.raises(DuplicateVariant, match="variant V1") as duplicate:
        product.add_variant(body("SH-2"), "V2", stamp(5))
    assert duplicate.value.options == {"color": "red", "size": "M"}
    with pytest.raises(DuplicateSku) as taken:
        product.add_variant(body("SH-RED-M", options={"color": "b", "size": "M"}), "V2", stamp(5))
    assert (taken.value.sku, taken.value.holder) == ("SH-RED-M", "variant V1")
    with pytest.raises(DuplicateSku):
        product.add_variant(body("SH", options={"color": "b", "size": "M"}), "V2", stamp(5))
    product.add_variant(body("SH-2", options={"color": "b", "size": "M"}), "V2", stamp(5))
    with pytest.raises(DuplicateVariant):
        product.revise_variant("V2", {"options": {"color": "red"}}, stamp(6))
    assert len(product.variants) == 2


def test_a_product_holds_at_most_250_variants() -> None:
    many = [
        variant(f"V{i}", f"SH-{i}", options={"color": f"c{i}", "size": "M"}) for i in range(250)
    ]
    product = shirt(many)
    with pytest.raises(InvalidField, match="at most 250") as refused:
        product.add_variant(body("SH-X", options={"color": "x", "size": "M"}), "VX", stamp(5))
    assert refused.value.field == "/variants"
    with pytest.raises(InvalidField, match="at most 250"):
        shirt([*many, variant("VX", "SH-X", options={"color": "x", "size": "M"})])


def test_a_product_names_at_most_three_axes() -> None:
    with pytest.raises(InvalidField, match="at most 3"):
        parse_editable({"name": "Shirt", "options": ["a", "b", "c", "d"]})
    product = shirt(options=("color", "size", "fit"), variants=[])
    assert product.options == ("color", "size", "fit")


def test_image_ids_name_images_of_the_product() -> None:
    product = with_image(shirt())
    with pytest.raises(InvalidField) as refused:
        product.revise_variant("V1", {"image_ids": ["IMG1", "IMG2"]}, stamp(5))
    assert pointers(refused.value) == {
        "/variants/V1/image_ids/1": "is not an image of this product"
    }


def test_with_a_type_axes_are_its_variant_axis_attributes() -> None:
    with pytest.raises(InvalidField) as refused:
        shirt(typed=True, options=("color", "material", "fit"), variants=[])
    assert set(pointers(refused.value)) == {"/options/1", "/options/2"}
    assert "variant_axis" in pointers(refused.value)["/options/1"]


def test_with_a_type_option_values_and_merged_attributes_are_checked() -> None:
    product = shirt(typed=True)
    with pytest.raises(InvalidField) as refused:
        product.add_variant(
            body(
                "SH-2",
                options={"color": "much too long a colour", "size": "XXL"},
                attributes={"weight_g": 0, "lining": "silk", "material": None},
            ),
            "V2",
            stamp(5),
        )
    assert set(pointers(refused.value)) == {
        "/variants/V2/options/color",
        "/variants/V2/options/size",
        "/variants/V2/attributes/weight_g",
        "/variants/V2/attributes/lining",
    }
    added = product.add_variant(body("SH-2", options={"color": "red", "size": "L"}), "V2", stamp(5))
    assert added.id == "V2"


def test_a_typed_products_revision_checks_every_variant_and_override_of_one() -> None:
    product = shirt(typed=True)
    with pytest.raises(InvalidField) as refused:
        revise(
            product,
            attributes={"material": "silk"},
            channel_overrides={
                "ml": ChannelOverride(
                    variants={"V1": VariantOverride(attributes={"weight_g": -5, "material": None})}
                ),
                "fb": ChannelOverride(variants={"V7": VariantOverride(Money(1, USD))}),
            },
        )
    assert set(pointers(refused.value)) == {
        "/attributes/material",
        "/channel_overrides/ml/variants/V1/attributes/weight_g",
        "/channel_overrides/fb/variants/V7",
    }


def test_an_override_of_a_variant_the_product_lacks_is_refused_untyped_too() -> None:
    product = shirt()
    with pytest.raises(InvalidField) as refused:
        revise(
            product,
            channel_overrides={
                "ml": ChannelOverride(variants={"V2": VariantOverride(Money(1, USD))})
            },
        )
    assert pointers(refused.value) == {
        "/channel_overrides/ml/variants/V2": "is not a variant of this product"
    }


def test_an_axis_added_by_patch_leaves_existing_variants_to_name_it() -> None:
    product = with_image(
        shirt(options=("color",), variants=[variant("V1", "SH-1", options={"color": "red"})])
    )

    revise(product, options=("color", "size"))
    pulled(product)

    assert product.completeness.ready == ("/variants/V1/options/size",)
    # A revised variant names every axis, as a new one does.
    with pytest.raises(InvalidField):
        product.revise_variant("V1", {"stock": 2}, stamp(6))
    product.revise_variant("V1", {"options": {"size": "M"}}, stamp(6))
    pulled(product)
    assert product.completeness.ready == ()


def test_an_axis_removed_by_patch_leaves_the_variants_in_the_same_version() -> None:
    product = shirt(
        [variant("V1", "SH-1"), variant("V2", "SH-2", options={"color": "blue", "size": "M"})]
    )

    revise(product, options=("color",))
    change = pulled(product)

    assert [v.options for v in product.variants] == [{"color": "red"}, {"color": "blue"}]
    assert changes_of(change) == {
        "/options": (["color", "size"], ["color"]),
        "/variants/V1/options/size": ("M", None),
        "/variants/V2/options/size": ("M", None),
    }
    assert change.events[0].data["variants"] == ["V1", "V2"]


def test_removing_an_axis_that_would_merge_two_variants_is_refused() -> None:
    product = shirt(
        [variant("V1", "SH-1"), variant("V2", "SH-2", options={"color": "red", "size": "L"})]
    )
    with pytest.raises(DuplicateVariant):
        revise(product, options=("color",))
    with pytest.raises(InvalidField) as refused:
        revise(product, options=())
    assert refused.value.field == "/options"
    assert product.options == ("color", "size") and product.pull_change(new_id) is None


# ---------------------------------------------------------------------- completeness


def test_a_product_with_options_needs_a_variant() -> None:
    product = with_image(shirt(variants=[]))
    assert product.completeness.ready == ("/variants",)
    product.add_variant(body(), "V1", stamp(5))
    pulled(product)
    assert product.completeness.ready == ()


def test_the_price_is_there_when_every_variant_has_an_effective_one() -> None:
    product = with_image(
        shirt(
            [
                variant("V1", "SH-1", price=Money(2700, USD)),
                variant("V2", "SH-2", options={"color": "b", "size": "S"}),
            ],
            price=None,
        )
    )
    assert product.completeness.ready == ("/variants/V2/price",)

    product.revise_variant("V2", {"price": {"amount": 2600, "currency": USD}}, stamp(5))
    pulled(product)
    assert product.completeness.ready == ()  # no product price, and none is missing

    product.remove_variant("V1", stamp(6))
    product.remove_variant("V2", stamp(6))
    pulled(product)
    # Without variants the product's own price is what READY needs again.
    assert product.completeness.ready == ("/price", "/variants")


def test_a_channel_sees_variant_prices_with_its_overrides() -> None:
    product = with_image(shirt([variant("V1", "SH-1")], price=None))
    product.bind_requirements({"mercadolibre": ("/price", "/attributes/brand")})
    revise(
        product,
        channel_overrides={
            "mercadolibre": ChannelOverride(
                variants={"V1": VariantOverride(Money(900, USD), {"brand": "Acme"})}
            )
        },
    )
    pulled(product)

    assert product.completeness.ready == ("/variants/V1/price",)
    # The channel's /price is each variant's; its attributes are the product's effective ones
    # (a variant's override does not supply the product's brand).
    assert product.completeness.channels["mercadolibre"] == ("/attributes/brand",)


def test_a_change_that_leaves_a_live_listing_incomplete_is_refused() -> None:
    product = listed(
        with_image(shirt(price=None, variants=[variant("V1", "SH-1", price=Money(1, USD))])),
        ListingState.PUBLISHED,
    )
    product.status = Status.ACTIVE
    with pytest.raises(ProductIncomplete) as refused:
        product.add_variant(body("SH-2", options={"color": "b", "size": "S"}), "V2", stamp(5))
    assert refused.value.missing == ["/variants/V2/price"]
    with pytest.raises(ProductIncomplete) as refused:
        product.remove_variant("V1", stamp(5))
    assert "/variants" in refused.value.missing
    with pytest.raises(ProductIncomplete):
        product.revise_variant("V1", {"price": None}, stamp(5))
    assert [v.id for v in product.variants] == ["V1"] and product.pull_change(new_id) is None


def test_a_ready_product_left_without_variants_falls_back_to_draft() -> None:
    product = with_image(shirt())
    product.transition(Status.READY, stamp(2))
    pulled(product)

    product.remove_variant("V1", stamp(5))
    change = pulled(product)

    assert product.status is Status.DRAFT
    assert [e.name for e in change.events] == [
        EventName.PRODUCT_UPDATED,
        EventName.PRODUCT_STATUS_CHANGED,
    ]
    assert change.events[1].data["reason"] == "incomplete: missing /variants"


# ---------------------------------------------------------------------- images


def test_removing_an_image_removes_it_from_every_variant_in_the_same_version() -> None:
    product = with_image(
        with_image(
            shirt(
                [variant("V1", "SH-1"), variant("V2", "SH-2", options={"color": "b", "size": "S"})]
            )
        ),
        "IMG2",
    )
    product.revise_variant("V1", {"image_ids": ["IMG1", "IMG2"]}, stamp(3))
    product.revise_variant("V2", {"image_ids": ["IMG2"]}, stamp(3))
    pulled(product)

    product.remove_image("IMG1", stamp(5))
    change = pulled(product)

    assert [v.image_ids for v in product.variants] == [("IMG2",), ("IMG2",)]
    assert [c.field for c in change.history.changes] == ["/images", "/variants/V1/image_ids"]
    assert change.events[0].data["changed_fields"] == ["/images", "/variants/V1/image_ids"]
    assert change.events[0].data["variants"] == ["V1"]


# ---------------------------------------------------------------------- effective values


def test_each_channel_sees_its_effective_variant_price_and_attributes() -> None:
    product = shirt(
        [
            variant("V1", "SH-1", attributes={"material": None, "weight_g": 180}),
            variant("V2", "SH-2", options={"color": "b", "size": "S"}, price=Money(2700, USD)),
        ],
        attributes={"material": "cotton", "fit": "regular"},
    )
    revise(
        product,
        channel_overrides={
            "ml": ChannelOverride(
                price=Money(2400, USD),
                attributes={"fit": "slim"},
                variants={"V2": VariantOverride(Money(2650, USD), {"weight_g": 200, "fit": None})},
            )
        },
    )

    plain = {v.id: (v.price, v.attributes) for v in product.variants_for(None)}
    on_ml = {v.id: (v.price, v.attributes) for v in product.variants_for("ml")}
    elsewhere = {v.id: (v.price, v.attributes) for v in product.variants_for("fb")}

    assert plain == {
        "V1": (Money(2500, USD), {"fit": "regular", "weight_g": 180}),
        "V2": (Money(2700, USD), {"material": "cotton", "fit": "regular"}),
    }
    assert on_ml == {
        "V1": (Money(2400, USD), {"fit": "slim", "weight_g": 180}),
        "V2": (Money(2650, USD), {"material": "cotton", "weight_g": 200}),
    }
    assert elsewhere == plain
    # The variants as stored keep what was said of them: null inherits.
    assert product.variant("V1").price is None


def test_a_variant_price_is_null_only_when_neither_it_nor_the_product_has_one() -> None:
    product = shirt(price=None)
    assert [v.price for v in product.variants_for("ml")] == [None]


def test_a_variant_round_trips_through_its_json() -> None:
    original = variant(
        "V1", "SH-1", price=Money(1, USD), image_ids=("I",), barcode="96385074", stock=4
    )
    assert variant_from_json(original.to_json()) == original
    assert original.body().identified("V1") == original
    assert list(original.to_json()) == [
        "id",
        "sku",
        "options",
        "price",
        "attributes",
        "image_ids",
        "barcode",
        "stock",
    ]
