"""Products with variants on every backend: the stores keep the product document whole, so a
product's options, variants and channel overrides of variants read back as committed, every
variant command commits as one version with its history and events, and a product with the
most variants a product holds is stored and read back in one piece."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

from catalog.adapters.product_documents import product_to_document
from catalog.domain import limits
from catalog.domain.events import EventName
from catalog.domain.product import Product, Stamp
from catalog.domain.values import ChannelOverride, Money, VariantOverride
from catalog.domain.variants import Variant, VariantBody
from catalog.service.ports import Change

from .conftest import ACTOR, CatalogStore, committed, create_change, image, new_id

SIDE, BACK = image(alt="Lado «ñ»"), image()


def shirt_variants(count: int) -> list[Variant]:
    """`count` variants with every member set, as a merchant of many sizes would have."""
    colors = [f"color-{i}" for i in range(count // 5 + 1)]
    sizes = ["XS", "S", "M", "L", "XL"]
    return [
        Variant(
            id=new_id(),
            sku=f"SH-{i:03d}",
            options={"color": colors[i // 5], "size": sizes[i % 5]},
            price=Money(2500 + i, "USD"),
            attributes={"weight_g": 180 + i, "fit": None},
            barcode="4006381333931",
            stock=i,
        )
        for i in range(count)
    ]


def next_change(product: Product, command: Callable[[Stamp], object]) -> Change:
    """The next version of `product` after one variant command."""
    command(Stamp(ACTOR, product.updated_at + timedelta(minutes=1)))
    pending = product.pull_change(new_id)
    assert pending is not None
    return Change(product, pending.expected_version, pending.history, pending.events)


def with_variants(store: CatalogStore) -> Product:
    """A product registered with options and two variants, then given images its variants
    show and a channel override of one variant."""
    first, second = shirt_variants(2)
    second = Variant(
        id=second.id, sku="SH/2.b", options={"size": "M", "color": "azul ✓"}, image_ids=()
    )
    change = create_change(
        sku="SH-1",
        name="Camisa",
        price=Money(2500, "USD"),
        attributes={"fit": "regular", "material": "algodón"},
        options=("color", "size"),
        variants=[first, second],
        images=(SIDE, BACK),
    )
    product = committed(store, change)
    product.revise_variant(first.id, {"image_ids": [SIDE.id, BACK.id]}, change.history.at)
    overrides = {
        "mercadolibre": ChannelOverride(
            price=Money(2400, "USD"),
            variants={first.id: VariantOverride(Money(2300, "USD"), {"fit": "slim"})},
        )
    }
    product.revise(channel_overrides=overrides, stamp=Stamp(ACTOR, change.history.at))
    pending = product.pull_change(new_id)
    assert pending is not None
    return committed(store, Change(product, 1, pending.history, pending.events))


def test_a_product_with_variants_reads_back_with_every_field(store: CatalogStore) -> None:
    product = with_variants(store)

    stored = store.get("acme", product.id)

    assert stored is not None
    assert stored == product
    assert product_to_document(stored) == product_to_document(product)
    assert stored.options == ("color", "size")
    assert [v.image_ids for v in stored.variants] == [(SIDE.id, BACK.id), ()]
    assert stored.channel_overrides["mercadolibre"].variants == (
        product.channel_overrides["mercadolibre"].variants
    )
    assert [v.price for v in stored.variants_for("mercadolibre")] == [
        Money(2300, "USD"),
        Money(2400, "USD"),
    ]


def test_each_variant_command_commits_one_version_with_its_history_and_events(
    store: CatalogStore,
) -> None:
    product = with_variants(store)
    body = VariantBody(sku="SH-3", options={"color": "verde", "size": "L"}, stock=4)
    vid = new_id()

    committed(store, next_change(product, lambda at: product.add_variant(body, vid, at)))
    patch = {"price": {"amount": 2999, "currency": "USD"}, "stock": 5}
    committed(store, next_change(product, lambda at: product.revise_variant(vid, patch, at)))
    gone = product.variants[0].id
    committed(store, next_change(product, lambda at: product.remove_variant(gone, at)))

    stored = store.get("acme", product.id)
    assert stored == product and stored is not None
    assert [v.id for v in stored.variants] == [product.variants[0].id, vid]
    assert stored.channel_overrides == {"mercadolibre": ChannelOverride(price=Money(2400, "USD"))}
    history = store.history("acme", product.id, limit=3, before_version=None)
    assert [[c.field for c in entry.changes] for entry in history] == [
        ["/channel_overrides/mercadolibre/variants", f"/variants/{gone}"],
        [f"/variants/{vid}/price", f"/variants/{vid}/stock"],
        [f"/variants/{vid}"],
    ]
    assert history[2].changes[0].new == product.variant(vid).to_json() | {
        "price": None,
        "stock": 4,
    }
    updates = [
        record.event.data
        for record in store.read_after(0, 1000)
        if record.event.product_id == product.id
        and record.event.name is EventName.PRODUCT_UPDATED
        and record.event.version > 2
    ]
    assert [data["variants"] for data in updates] == [[vid], [vid], [gone]]


def test_a_product_with_the_most_variants_is_stored_and_read_back_whole(
    store: CatalogStore,
) -> None:
    variants = shirt_variants(limits.MAX_VARIANTS)
    change = create_change(
        sku="SH-MANY", price=Money(2500, "USD"), options=("color", "size"), variants=variants
    )

    product = committed(store, change)

    stored = store.get("acme", product.id)
    assert stored == product and stored is not None
    assert [v.sku for v in stored.variants] == [v.sku for v in variants]
    history = store.history("acme", product.id, limit=1, before_version=None)
    assert len(history[0].changes) == 1 + 1 + 1 + limits.MAX_VARIANTS  # name, price, options


def test_variants_survive_closing_and_reopening(
    reopen: Callable[[], AbstractContextManager[CatalogStore]],
) -> None:
    with reopen() as store:
        product = with_variants(store)
    with reopen() as store:
        assert store.get("acme", product.id) == product
