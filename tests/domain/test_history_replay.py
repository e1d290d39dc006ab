"""Rebuilding an earlier version's content from the history (domain/history_replay.py), and
the aggregate's restore command (Product.restore).

The property: any sequence of changes through the real aggregate (revisions of every content
field, variant commands, images, status and publication, restores), then undoing the history
back to each version gives the content that version had."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.domain.editable import parse_editable, parse_patch
from catalog.domain.errors import (
    DomainError,
    DuplicateVariant,
    InvalidField,
    ProductInactive,
    ProductIncomplete,
)
from catalog.domain.events import EventName
from catalog.domain.history import FieldChange, HistoryEntry
from catalog.domain.history_replay import content_at, content_document, parse_content
from catalog.domain.lifecycle import Status
from catalog.domain.merge_patch import merge_patch
from catalog.domain.product import PendingChange, Product, Stamp
from catalog.domain.product_types import TypeContent, parse_type_content
from catalog.domain.values import JSON, Money
from catalog.domain.variants import VariantBody, parse_variant_body
from tests.domain.builders import T0, image, new_id, stamp

TYPES: dict[str, TypeContent] = {
    "apparel": parse_type_content(
        {
            "name": "Apparel",
            "attributes": {
                axis: {"type": "string", "variant_axis": True} for axis in ("color", "size", "fit")
            },
        }
    ),
    # Refuses every axis: a product with options cannot take it.
    "plain": parse_type_content({"name": "Plain", "attributes": {}}),
}


def type_of(key: str | None) -> TypeContent | None:
    return TYPES[key] if key is not None else None


def without_nulls(value: JSON) -> JSON:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


def comparable(content: dict[str, JSON]) -> dict[str, JSON]:
    """The one thing history does not keep (history_replay's docstring): a null member of
    the product's own attributes, where null reads as absent, that went away unrecorded."""
    return {**content, "attributes": without_nulls(content["attributes"])}


def kept_images(content: dict[str, JSON], image_ids: set[str]) -> dict[str, JSON]:
    """A content as a restore brings it back onto a product with these images."""
    variants = [
        {**v, "image_ids": [i for i in v["image_ids"] if i in image_ids]}
        for v in content["variants"]
    ]
    return {**content, "variants": variants}


# ---------------------------------------------------------------------- strategies

KEYS = st.sampled_from(["a", "b", "c/d", "e~f"])  # pointers escape '/' and '~'
LEAVES = st.one_of(
    st.none(),
    st.integers(-2, 2),
    st.just(1.0),  # equal to 1, yet a change
    st.booleans(),
    st.sampled_from(["x", "y"]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)
OVERLAYS = st.dictionaries(KEYS, VALUES, max_size=3)  # attributes, nulls included
MONEY = st.builds(
    lambda amount, currency: {"amount": amount, "currency": currency},
    st.integers(0, 3),
    st.sampled_from(["USD", "EUR"]),
)
PRICE_PATCHES = st.one_of(st.none(), MONEY, st.builds(lambda n: {"amount": n}, st.integers(0, 3)))
AXES = ("color", "size", "fit")
OPTION_VALUES = st.sampled_from(["r", "g", "b", "w"])
SKUS = st.sampled_from([f"V-{n}" for n in range(8)])
CHANNELS = st.sampled_from(["ml", "meta"])


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def product_patches(draw: st.DrawFn, product: Product) -> dict[str, JSON]:
    """A merge patch of the product's content fields, overrides of its variants included."""
    patch: dict[str, JSON] = {}
    if draw(st.booleans()):
        patch["name"] = draw(st.sampled_from(["Shoe", "Boot"]))
    if draw(st.booleans()):
        patch["description"] = draw(maybe(st.sampled_from(["Light", "Warm"])))
    if draw(st.booleans()):
        patch["price"] = draw(PRICE_PATCHES)
    if draw(st.booleans()):
        patch["attributes"] = draw(maybe(OVERLAYS))
    if draw(st.booleans()):
        axes = draw(st.permutations(AXES))
        patch["options"] = list(axes[: draw(st.integers(0, 3))])
    if draw(st.integers(0, 4)) == 0:
        patch["product_type"] = draw(st.sampled_from([None, "apparel", "plain"]))
    if draw(st.booleans()):
        ids = [variant.id for variant in product.variants]
        variant_override = st.fixed_dictionaries(
            {}, optional={"price": maybe(MONEY), "attributes": maybe(OVERLAYS)}
        )
        override = st.fixed_dictionaries(
            {},
            optional={
                "name": maybe(st.just("Channel name")),
                "description": maybe(st.just("Channel description")),
                "price": PRICE_PATCHES,
                "attributes": maybe(OVERLAYS),
                "variants": st.dictionaries(
                    st.sampled_from(ids), maybe(variant_override), max_size=2
                )
                if ids
                else st.just({}),
            },
        )
        patch["channel_overrides"] = draw(st.dictionaries(CHANNELS, maybe(override), max_size=2))
    return patch


@st.composite
def variant_bodies(draw: st.DrawFn, product: Product) -> VariantBody:
    axes = list(product.options)
    if axes and draw(st.integers(0, 5)) == 0:
        axes.pop()  # a variant missing an axis is refused
    images = [i.id for i in product.images]
    document = {
        "sku": draw(SKUS),
        "options": {axis: draw(OPTION_VALUES) for axis in axes},
        "price": draw(maybe(MONEY)),
        "attributes": draw(OVERLAYS),
        "image_ids": draw(st.lists(st.sampled_from(images), unique=True)) if images else [],
        "barcode": draw(st.sampled_from([None, "96385074"])),
        "stock": draw(maybe(st.integers(0, 5))),
    }
    return parse_variant_body(document, "/variants/new")


@st.composite
def variant_patches(draw: st.DrawFn, product: Product) -> dict[str, JSON]:
    images = [i.id for i in product.images]
    members = {
        "sku": SKUS,
        "options": st.dictionaries(st.sampled_from(AXES), maybe(OPTION_VALUES), max_size=2),
        "price": PRICE_PATCHES,
        "attributes": maybe(OVERLAYS),
        "image_ids": maybe(st.lists(st.sampled_from(images), unique=True)) if images else st.none(),
        "barcode": st.sampled_from([None, "96385074", "036000291452"]),
        "stock": maybe(st.integers(0, 5)),
    }
    return draw(st.fixed_dictionaries({}, optional=members))


# ---------------------------------------------------------------------- the property


class Recorded:
    """A product, every history entry it made (newest first) and its content at each version."""

    def __init__(self, product: Product, change: PendingChange) -> None:
        self.product = product
        self.entries = [change.history]
        self.snapshots = {product.version: content_document(product)}
        self.minute = 0

    def stamp(self) -> Stamp:
        self.minute += 1
        return stamp(self.minute)

    def pull(self) -> bool:
        change = self.product.pull_change(new_id)
        if change is None:
            return False
        self.entries.insert(0, change.history)
        self.snapshots[self.product.version] = content_document(self.product)
        return True

    def newer_than(self, version: int) -> list[HistoryEntry]:
        return [entry for entry in self.entries if entry.version > version]


def revise(recorded: Recorded, patch: dict[str, JSON]) -> None:
    product = recorded.product
    fields = parse_editable(merge_patch(product.editable_document(), parse_patch(patch)))
    product.revise(
        stamp=recorded.stamp(),
        type_content=type_of(fields.product_type),
        **fields.as_arguments(),
    )


def restore(recorded: Recorded, version: int) -> None:
    product = recorded.product
    target = content_at(content_document(product), recorded.newer_than(version), version)
    try:
        restored = parse_content(target)
    except InvalidField as refused:  # not a refusal to skip: a version's content reads back
        raise AssertionError(f"version {version} does not read back: {refused}") from refused
    product.restore(
        version=version,
        stamp=recorded.stamp(),
        variants=restored.variants,
        type_content=type_of(restored.fields.product_type),
        **restored.fields.as_arguments(),
    )
    if recorded.pull():
        entry = recorded.entries[0]
        assert entry.restored_from == version
        assert [event for event in entry.events if event == "ProductUpdated"]
        images = {i.id for i in product.images}
        assert comparable(content_document(product)) == comparable(kept_images(target, images))


def step(data: st.DataObject, recorded: Recorded) -> None:
    """One command on the product, drawn for its current state; a refused one changes
    nothing (the aggregate judges every command before it applies it)."""
    product = recorded.product
    ids = [variant.id for variant in product.variants]
    kind = data.draw(
        st.sampled_from(
            [
                "revise",
                "revise",
                "add_variant",
                "add_variant",
                "revise_variant",
                "remove_variant",
                "add_image",
                "remove_image",
                "status",
                "publish",
                "restore",
                "restore",
            ]
        )
    )
    stamped = recorded.stamp()
    try:
        if kind == "revise":
            revise(recorded, data.draw(product_patches(product)))
        elif kind == "add_variant":
            product.add_variant(data.draw(variant_bodies(product)), new_id(), stamped)
        elif kind == "revise_variant" and ids:
            product.revise_variant(
                data.draw(st.sampled_from(ids)), data.draw(variant_patches(product)), stamped
            )
        elif kind == "remove_variant" and ids:
            product.remove_variant(data.draw(st.sampled_from(ids)), stamped)
        elif kind == "add_image":
            product.add_image(image(new_id()), stamped)
        elif kind == "remove_image" and product.images:
            product.remove_image(
                data.draw(st.sampled_from([i.id for i in product.images])), stamped
            )
        elif kind == "status":
            status = data.draw(
                st.sampled_from([Status.READY, Status.READY, Status.DRAFT, Status.INACTIVE])
            )
            product.transition(status, stamped)
        elif kind == "publish":
            product.request_publication(data.draw(CHANNELS), stamped)
        elif kind == "restore" and product.version > 1:
            restore(recorded, data.draw(st.integers(1, product.version - 1)))
    except DomainError:
        pass
    recorded.pull()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_undoing_the_history_gives_back_every_version_s_content(data: st.DataObject) -> None:
    product = Product.register(
        id="P1",
        merchant_id="acme",
        sku="SH",
        stamp=stamp(),
        type_content=TYPES["apparel"],
        product_type="apparel",
        name="Shirt",
        description="Soft",
        price=Money(2500, "USD"),
        attributes=data.draw(OVERLAYS),  # a registration may store nulls
        options=("color",),
        variants=[
            VariantBody(sku="V-0", options={"color": "r"}).identified(new_id()),
            VariantBody(sku="V-1", options={"color": "g"}, attributes={"a": None}).identified(
                new_id()
            ),
        ],
    )
    change = product.pull_change(new_id)
    assert change is not None
    recorded = Recorded(product, change)
    for _ in range(data.draw(st.integers(3, 30))):
        step(data, recorded)

    now = content_document(product)
    for version, snapshot in recorded.snapshots.items():
        rebuilt = content_at(now, recorded.newer_than(version), version)
        assert comparable(rebuilt) == comparable(snapshot), version
        # The rebuilt variants are in the order the product held them.
        assert [v["id"] for v in rebuilt["variants"]] == [v["id"] for v in snapshot["variants"]]


# ---------------------------------------------------------------------- content_at


def entry(version: int, *changes: FieldChange) -> HistoryEntry:
    return HistoryEntry("P1", version, "alice", T0, changes)


def document(**fields: JSON) -> dict[str, JSON]:
    """A content document: an untyped product named Shoe with nothing else, then `fields`."""
    blank: dict[str, JSON] = {
        "product_type": None,
        "name": "Shoe",
        "description": None,
        "price": None,
        "attributes": {},
        "options": [],
        "channel_overrides": {},
        "variants": [],
    }
    return {**blank, **fields}


def test_content_at_undoes_newest_first_and_leaves_what_is_not_content() -> None:
    now = document(name="C", price={"amount": 3, "currency": "USD"}, attributes={"a/b": {"x": 2}})
    entries = [
        entry(
            3,
            FieldChange("/name", "B", "C"),
            FieldChange("/images", [], [{"id": "I1"}]),
            FieldChange("/attributes/a~1b/x", 1, 2),
        ),
        entry(2, FieldChange("/name", "A", "B"), FieldChange("/price", None, {"amount": 3})),
    ]
    assert content_at(now, entries, 1) == document(name="A", attributes={"a/b": {"x": 1}})
    assert content_at(now, entries[:1], 2) == document(
        name="B", price={"amount": 3, "currency": "USD"}, attributes={"a/b": {"x": 1}}
    )
    assert content_at(now, [], 3) == now


def test_content_at_undoes_the_changes_of_one_version_last_first() -> None:
    twice = entry(2, FieldChange("/name", "A", "B"), FieldChange("/name", "B", "C"))
    assert content_at(document(name="C"), [twice], 1)["name"] == "A"


def test_content_at_puts_a_removed_variant_back_in_its_place() -> None:
    first, second, third, fourth = (
        {"id": vid, "sku": vid, "price": None, "barcode": None, "stock": 1}
        for vid in ("V1", "V2", "V3", "V4")
    )
    removed = entry(4, FieldChange("/variants/V2", second, None))
    added = entry(5, FieldChange("/variants/V4", None, fourth))
    revised = entry(6, FieldChange("/variants/V3/stock", None, 1))
    now = document(variants=[first, third, fourth])
    rebuilt = content_at(now, [revised, added, removed], 3)["variants"]
    assert [v["id"] for v in rebuilt] == ["V1", "V2", "V3"]
    # Unset members of a variant are null in the document, as Variant.to_json writes them.
    assert rebuilt[2]["stock"] is None


def test_content_at_refuses_entries_with_a_gap() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        content_at(document(), [entry(5), entry(3)], 2)
    with pytest.raises(ValueError, match="consecutive"):
        content_at(document(), [entry(4)], 2)


def test_content_at_refuses_a_history_that_is_not_the_document_s() -> None:
    unrelated = entry(2, FieldChange("/attributes/a/b", 1, 2))
    with pytest.raises(ValueError, match="inside no object"):
        content_at(document(), [unrelated], 1)


def test_parse_content_reports_every_field_today_s_rules_refuse() -> None:
    document = {
        "name": "",
        "price": {"amount": -1, "currency": "USD"},
        "variants": [{"id": "V1", "sku": "has space", "options": {}}],
    }
    with pytest.raises(InvalidField) as refused:
        parse_content(document)
    assert {e.field for e in refused.value.fields} == {
        "/name",
        "/price/amount",
        "/variants/V1/sku",
    }


# ---------------------------------------------------------------------- Product.restore


def shirt(**fields: Any) -> Product:
    chosen: dict[str, Any] = {
        "id": "P1",
        "merchant_id": "acme",
        "sku": "SH",
        "name": "Shirt",
        "description": "Soft",
        "price": Money(2500, "USD"),
        "options": ("color",),
        "variants": [VariantBody(sku="SH-R", options={"color": "r"}).identified("V1")],
        **fields,
    }
    product = Product.register(stamp=stamp(), **chosen)
    product.pull_change(new_id)
    product.add_image(image("IMG1"), stamp(1))
    product.pull_change(new_id)
    return product


def restore_to(
    product: Product,
    content: dict[str, JSON],
    version: int,
    type_content: TypeContent | None = None,
) -> None:
    restored = parse_content(content)
    product.restore(
        version=version,
        stamp=stamp(9),
        variants=restored.variants,
        type_content=type_content,
        **restored.fields.as_arguments(),
    )


def test_a_restore_brings_back_content_and_variants_and_keeps_status_images_listings() -> None:
    product = shirt()
    product.transition(Status.READY, stamp(2))
    product.pull_change(new_id)
    before = content_document(product)
    version = product.version
    product.add_variant(VariantBody(sku="SH-G", options={"color": "g"}), "V2", stamp(3))
    product.pull_change(new_id)
    product.revise_variant("V1", {"sku": "SH-RED", "image_ids": ["IMG1"]}, stamp(4))
    product.pull_change(new_id)
    product.add_image(image("IMG2"), stamp(5))
    product.pull_change(new_id)

    restore_to(product, before, version)
    change = product.pull_change(new_id)

    assert change is not None and change.history.restored_from == version
    assert content_document(product) == before
    assert [v.sku for v in product.variants] == ["SH-R"]
    assert [i.id for i in product.images] == ["IMG1", "IMG2"]
    assert product.status is Status.READY
    assert [e.name for e in change.events] == [EventName.PRODUCT_UPDATED]
    assert change.events[0].data["variants"] == ["V1", "V2"]
    assert {c.field for c in change.history.changes} == {
        "/variants/V1/sku",
        "/variants/V1/image_ids",
        "/variants/V2",
    }


def test_a_restored_variant_keeps_only_the_images_the_product_still_has() -> None:
    product = shirt()
    product.add_image(image("IMG2"), stamp(2))
    product.pull_change(new_id)
    product.revise_variant("V1", {"image_ids": ["IMG1", "IMG2"]}, stamp(3))
    product.pull_change(new_id)
    with_both = content_document(product)
    product.remove_image("IMG1", stamp(4))
    product.revise_variant("V1", {"stock": 3}, stamp(4))
    product.pull_change(new_id)

    restore_to(product, with_both, 4)
    product.pull_change(new_id)

    assert product.variants[0].image_ids == ("IMG2",)
    assert product.variants[0].stock is None


def test_a_restore_the_type_now_refuses_names_the_fields() -> None:
    strict = parse_type_content(
        {
            "name": "Strict",
            "attributes": {
                "color": {"type": "enum", "values": ["g"], "variant_axis": True},
                "weight": {"type": "integer"},
            },
            "additional_attributes": False,
        }
    )
    product = shirt()
    content = {
        **content_document(product),
        "product_type": "strict",
        "attributes": {"weight": "heavy", "extra": 1},
    }
    with pytest.raises(InvalidField) as refused:
        restore_to(product, content, 1, type_content=strict)
    assert {e.field for e in refused.value.fields} >= {
        "/attributes/weight",
        "/attributes/extra",
        "/variants/V1/options/color",
    }
    assert product.pull_change(new_id) is None


def test_a_restore_that_would_leave_a_listed_product_incomplete_is_refused() -> None:
    product = shirt()
    content = {**content_document(product), "description": None}
    product.transition(Status.READY, stamp(2))
    product.pull_change(new_id)
    product.request_publication("ml", stamp(3))
    product.pull_change(new_id)
    with pytest.raises(ProductIncomplete) as refused:
        restore_to(product, content, 1)
    assert refused.value.missing == ["/description"] and refused.value.channel == "ml"
    assert product.description == "Soft" and product.pull_change(new_id) is None


def test_a_restore_that_leaves_a_ready_product_incomplete_falls_back_to_draft() -> None:
    product = shirt()
    content = {**content_document(product), "price": None}
    product.transition(Status.READY, stamp(2))
    product.pull_change(new_id)
    restore_to(product, content, 1)
    change = product.pull_change(new_id)
    assert change is not None and product.status is Status.DRAFT
    assert [e.name for e in change.events] == [
        EventName.PRODUCT_UPDATED,
        EventName.PRODUCT_STATUS_CHANGED,
    ]


def test_restoring_the_current_content_records_nothing() -> None:
    product = shirt()
    restore_to(product, content_document(product), 1)
    assert product.pull_change(new_id) is None


def test_an_inactive_product_is_not_restored() -> None:
    product = shirt()
    content = {**content_document(product), "name": "Old"}
    product.transition(Status.INACTIVE, stamp(2))
    product.pull_change(new_id)
    with pytest.raises(ProductInactive):
        restore_to(product, content, 1)


def test_a_restore_refuses_two_variants_with_one_combination() -> None:
    # Not a state history can hold; the aggregate keeps the rule whatever it is given.
    product = shirt()
    content = content_document(product)
    twin = {**content["variants"][0], "id": "V9", "sku": "SH-9"}
    with pytest.raises(DuplicateVariant):
        restore_to(product, {**content, "variants": [*content["variants"], twin]}, 1)
