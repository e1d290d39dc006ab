"""Restoring a version (service/history_restore.py) on every backend: the content and the
variants come back, the SKUs move with them through the store's guards, the new version is
recorded with `restored_from` and emits ProductUpdated; what is refused writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain import limits
from catalog.domain.errors import (
    AccessDenied,
    DuplicateSku,
    InvalidField,
    PreconditionFailed,
    ProductInactive,
    ProductIncomplete,
    ProductNotFound,
    SkuNotFound,
)
from catalog.domain.history import HistoryEntry, VersionNotFound
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product
from catalog.service import channels, images, product_types, products, variants
from catalog.service.commands import (
    AddImage,
    AddVariant,
    ChangeStatus,
    CreateProductType,
    DeleteProductType,
    FindSku,
    PatchProduct,
    PatchProductType,
    PatchVariant,
    ReadHistory,
    RegisterProduct,
    RemoveImage,
    RemoveVariant,
    RequestPublication,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.history_restore import RestoreVersion, restore_version
from catalog.service.ports import SkuOwner
from tests.assets.images import encoded
from tests.backends import BACKENDS, CatalogStore
from tests.clocks import SteppingClock
from tests.principals import ALICE, adapter, merchant

ids = UlidIds()


@pytest.fixture(params=list(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogStore]:
    with BACKENDS[request.param](request, tmp_path) as opened:
        yield opened


@pytest.fixture
def ctx(store: CatalogStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(),
        ids=ids,
        cursors=CursorCodec(b"test-cursor-secret-0123456789abcdef"),
    )


def shirt(ctx: CatalogContext, sku: str = "SH", *sizes: str) -> Product:
    body = {
        "sku": sku,
        "name": "Shirt",
        "description": "Soft cotton",
        "price": {"amount": 2500, "currency": "USD"},
        "attributes": {"material": "cotton"},
        "options": ["size"],
        "variants": [{"sku": f"{sku}-{size}", "options": {"size": size}} for size in sizes],
    }
    return products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product


def patch(ctx: CatalogContext, product_id: str, body: dict[str, Any]) -> Product:
    return products.update_product(ctx, ALICE, PatchProduct.from_json("acme", product_id, body))


def add(ctx: CatalogContext, product_id: str, sku: str, size: str) -> Product:
    body = {"sku": sku, "options": {"size": size}}
    command = AddVariant.from_json("acme", product_id, ids.new_id(), body)
    return variants.add_variant(ctx, ALICE, command).product


def restore(ctx: CatalogContext, product: Product, version: int, **kw: Any) -> Product:
    return restore_version(ctx, ALICE, RestoreVersion("acme", product.id, version, **kw))


def history(ctx: CatalogContext, product: Product, limit: int = 1) -> list[HistoryEntry]:
    query = ReadHistory("acme", product.id, limit)
    return products.product_history(ctx, ALICE, query).items


def sku_owner(ctx: CatalogContext, sku: str) -> SkuOwner:
    return variants.find_sku(ctx, ALICE, FindSku("acme", sku))


def content(product: Product) -> dict[str, Any]:
    return {**product.editable_document(), "variants": [v.to_json() for v in product.variants]}


def stored(ctx: CatalogContext, product: Product) -> Product:
    found = ctx.store.get("acme", product.id)
    assert found is not None
    return found


def test_a_restore_brings_back_the_content_and_the_variants_as_a_new_version(
    ctx: CatalogContext, store: CatalogStore
) -> None:
    first = shirt(ctx, "SH", "S", "M")
    small, medium = first.variants
    patch(ctx, first.id, {"name": "Tee", "price": {"amount": 1900}, "attributes": {"fit": "slim"}})
    variants.remove_variant(ctx, ALICE, RemoveVariant("acme", first.id, medium.id))
    later = add(ctx, first.id, "SH-L", "L")
    emitted = len(store.read_after(0, 10_000))

    restored = restore(ctx, later, 1)

    assert restored.version == later.version + 1 == 5
    assert content(restored) == content(first)
    assert [v.id for v in restored.variants] == [small.id, medium.id]  # their ids and order
    assert stored(ctx, restored) == restored
    (entry,) = history(ctx, restored)
    assert entry.restored_from == 1 and entry.version == 5 and entry.actor == "alice"
    changed = {change.field for change in entry.changes}
    assert {"/name", "/price/amount", "/attributes/fit", f"/variants/{medium.id}"} <= changed
    new = [record.event for record in store.read_after(0, 10_000)][emitted:]
    assert [(e.name.value, e.version) for e in new] == [("ProductUpdated", 5)]
    assert new[0].data["variants"] == sorted([medium.id, later.variants[-1].id])
    # The SKUs moved with the variants: the removed one's came back, the later one's went.
    assert sku_owner(ctx, "SH-M") == SkuOwner("SH-M", first.id, medium.id)
    with pytest.raises(SkuNotFound):
        sku_owner(ctx, "SH-L")


def test_status_images_and_listings_stay_and_variant_images_the_product_lost_are_dropped(
    ctx: CatalogContext,
) -> None:
    product = shirt(ctx, "SH", "S")
    data = encoded("PNG")
    first = images.add_image(ctx, ALICE, AddImage("acme", product.id, data)).product
    second = images.add_image(ctx, ALICE, AddImage("acme", product.id, data)).product
    kept, dropped = (image.id for image in second.images)
    small = product.variants[0]
    both = {"image_ids": [kept, dropped]}
    at_v4 = variants.patch_variant(ctx, ALICE, PatchVariant("acme", product.id, small.id, both))
    assert first.version == 2 and at_v4.version == 4
    images.remove_image(ctx, ALICE, RemoveImage("acme", product.id, dropped))
    products.change_status(ctx, ALICE, ChangeStatus("acme", product.id, Status.READY))
    channels.request_publication(ctx, ALICE, RequestPublication("acme", product.id, "shop"))
    listed = patch(ctx, product.id, {"name": "Renamed"})

    restored = restore(ctx, listed, 4)

    assert restored.name == "Shirt"
    assert restored.variants[0].image_ids == (kept,)
    assert restored.status is Status.READY
    assert restored.images == listed.images
    assert restored.listings == listed.listings


def test_a_variant_sku_another_product_took_since_is_a_409_and_nothing_is_written(
    ctx: CatalogContext, store: CatalogStore
) -> None:
    product = shirt(ctx, "SH", "S", "M")
    medium = product.variants[1]
    removed = variants.remove_variant(ctx, ALICE, RemoveVariant("acme", product.id, medium.id))
    other = shirt(ctx, "TEE")
    add(ctx, other.id, "SH-M", "M")  # the SKU the removal freed
    emitted = len(store.read_after(0, 10_000))

    with pytest.raises(DuplicateSku) as refused:
        restore(ctx, removed, 1)

    assert refused.value.sku == "SH-M"
    assert stored(ctx, product) == removed
    assert sku_owner(ctx, "SH-M").product_id == other.id
    assert len(store.read_after(0, 10_000)) == emitted


def test_a_sku_that_moved_between_variants_of_the_product_moves_back(
    ctx: CatalogContext,
) -> None:
    product = shirt(ctx, "SH", "S")
    small = product.variants[0]
    renamed = PatchVariant("acme", product.id, small.id, {"sku": "SH-SMALL"})
    variants.patch_variant(ctx, ALICE, renamed)
    taken = add(ctx, product.id, "SH-S", "M")  # another variant of it takes the old SKU
    assert sku_owner(ctx, "SH-S").variant_id == taken.variants[1].id

    restored = restore(ctx, taken, 1)

    assert [(v.id, v.sku) for v in restored.variants] == [(small.id, "SH-S")]
    assert sku_owner(ctx, "SH-S") == SkuOwner("SH-S", product.id, small.id)
    with pytest.raises(SkuNotFound):
        sku_owner(ctx, "SH-SMALL")


def test_a_version_the_product_never_had_is_not_found(ctx: CatalogContext) -> None:
    product = patch(ctx, shirt(ctx).id, {"name": "Tee"})
    for version in (0, -1, 3, 10**12):
        with pytest.raises(VersionNotFound) as missing:
            restore(ctx, product, version)
        assert missing.value.product_id == product.id
    assert stored(ctx, product).version == 2


def test_a_stale_if_match_is_refused_with_the_current_version(ctx: CatalogContext) -> None:
    product = patch(ctx, shirt(ctx).id, {"name": "Tee"})
    with pytest.raises(PreconditionFailed) as stale:
        restore(ctx, product, 1, if_match=1)
    assert stale.value.current_version == 2
    assert restore(ctx, product, 1, if_match=2).version == 3


def test_restoring_the_current_content_writes_nothing(ctx: CatalogContext) -> None:
    product = shirt(ctx)
    renamed = patch(ctx, product.id, {"name": "Tee"})
    back = patch(ctx, product.id, {"name": "Shirt"})
    assert restore(ctx, back, 3) == back  # the current version
    assert restore(ctx, back, 1) == back  # the same content as now
    assert stored(ctx, product).version == 3
    assert restore(ctx, back, 2).name == renamed.name


def test_the_restored_content_is_judged_by_the_type_as_it_is_now(ctx: CatalogContext) -> None:
    definition = {
        "key": "apparel",
        "name": "Apparel",
        "attributes": {
            "size": {"type": "enum", "values": ["S", "M"], "variant_axis": True},
            "material": {"type": "string"},
        },
    }
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", definition))
    typed = patch(ctx, shirt(ctx, "SH", "S").id, {"product_type": "apparel"})
    untyped = patch(ctx, typed.id, {"product_type": None, "attributes": {"material": 5}})
    narrower = {"attributes": {"size": {"values": ["M", "L"]}, "material": {"max_length": 3}}}
    product_types.patch_product_type(
        ctx, ALICE, PatchProductType.from_json("acme", "apparel", narrower)
    )

    with pytest.raises(InvalidField) as refused:
        restore(ctx, untyped, typed.version)

    assert {e.field for e in refused.value.fields} == {
        "/attributes/material",
        f"/variants/{typed.variants[0].id}/options/size",
    }
    assert stored(ctx, untyped) == untyped


def test_a_type_gone_since_is_a_422_naming_product_type(ctx: CatalogContext) -> None:
    definition = {"key": "plain", "name": "Plain", "attributes": {}}
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", definition))
    body = {"sku": "MUG", "name": "Mug", "product_type": "plain"}
    mug = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product
    untyped = patch(ctx, mug.id, {"product_type": None})
    product_types.delete_product_type(ctx, ALICE, DeleteProductType("acme", "plain"))
    with pytest.raises(InvalidField) as refused:
        restore(ctx, untyped, 1)
    assert refused.value.field == "/product_type"


def test_a_restore_that_would_leave_a_listed_product_incomplete_is_refused(
    ctx: CatalogContext,
) -> None:
    body = {"sku": "MUG", "name": "Mug"}
    mug = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product
    patch(ctx, mug.id, {"description": "Big", "price": {"amount": 900, "currency": "USD"}})
    images.add_image(ctx, ALICE, AddImage("acme", mug.id, encoded("PNG")))
    products.change_status(ctx, ALICE, ChangeStatus("acme", mug.id, Status.READY))
    listed = channels.request_publication(ctx, ALICE, RequestPublication("acme", mug.id, "shop"))

    with pytest.raises(ProductIncomplete) as refused:
        restore(ctx, listed, 1)

    assert refused.value.channel == "shop"
    assert set(refused.value.missing) == {"/description", "/price"}
    assert stored(ctx, mug) == listed


def test_an_inactive_product_is_not_restored(ctx: CatalogContext) -> None:
    product = patch(ctx, shirt(ctx).id, {"name": "Tee"})
    products.change_status(ctx, ALICE, ChangeStatus("acme", product.id, Status.INACTIVE))
    with pytest.raises(ProductInactive):
        restore(ctx, product, 1)


def test_only_a_writer_of_the_merchant_restores(ctx: CatalogContext) -> None:
    product = patch(ctx, shirt(ctx).id, {"name": "Tee"})
    command = RestoreVersion("acme", product.id, 1)
    with pytest.raises(ProductNotFound) as hidden:
        restore_version(ctx, merchant("globex"), command)
    assert type(hidden.value) is ProductNotFound  # the product's 404, not a version's
    with pytest.raises(AccessDenied):
        restore_version(ctx, adapter("shop"), command)
    assert stored(ctx, product).version == 2


def test_a_long_history_is_read_a_page_at_a_time(
    ctx: CatalogContext, store: CatalogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = shirt(ctx)
    for n in range(7):
        patch(ctx, product.id, {"name": f"Name {n}"})
    monkeypatch.setattr(limits, "MAX_PAGE_SIZE", 3)
    reads: list[tuple[int, int | None]] = []
    read = store.history

    def counted(
        merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> Any:
        reads.append((limit, before_version))
        return read(merchant_id, product_id, limit=limit, before_version=before_version)

    monkeypatch.setattr(store, "history", counted)
    restored = restore(ctx, stored(ctx, product), 1)
    # Versions 8 down to 2 undone: three pages, none reading what it does not need.
    assert reads == [(3, 9), (3, 6), (1, 3)]
    assert restored.name == "Shirt" and restored.version == 9


def test_a_write_landing_between_the_read_and_the_commit_is_restored_over(
    ctx: CatalogContext, store: CatalogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without If-Match the restore is applied again on the version that won: its history
    is read again, so the content is still exactly the version's."""
    product = shirt(ctx, "SH", "S")
    patch(ctx, product.id, {"name": "Tee"})
    read = store.history
    raced: list[int] = []

    def racing(merchant_id: str, product_id: str, *, limit: int, before_version: int | None) -> Any:
        if not raced:
            raced.append(patch(ctx, product_id, {"price": {"amount": 1}}).version)
        return read(merchant_id, product_id, limit=limit, before_version=before_version)

    monkeypatch.setattr(store, "history", racing)
    restored = restore(ctx, stored(ctx, product), 1)

    assert raced == [3]
    assert restored.version == 4
    assert content(restored) == content(product)
    assert history(ctx, restored)[0].restored_from == 1
