"""Variant use cases on every backend: register with variants, add, patch and remove one, find
what holds a SKU; SKUs unique per merchant across products and variants, who may do what,
and the bound on new SKUs in one request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
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
    MerchantNotFound,
    PreconditionFailed,
    SkuNotFound,
    VersionConflict,
)
from catalog.service import products, variants
from catalog.service.commands import (
    AddVariant,
    FindSku,
    PatchVariant,
    RegisterProduct,
    RemoveVariant,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import SkuOwner
from tests.backends import BACKENDS
from tests.clocks import SteppingClock
from tests.principals import ALICE, Principal, adapter

GLOBEX = Principal("bob", "globex", frozenset({"merchant"}))
ids = UlidIds()


@pytest.fixture(params=list(BACKENDS))
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogContext]:
    with BACKENDS[request.param](request, tmp_path) as store:
        yield CatalogContext(
            store=store,
            assets=MemoryAssetStore("https://cdn.example.test"),
            images=PillowImageInspector(),
            clock=SteppingClock(datetime(2026, 12, 2, tzinfo=UTC)),
            ids=ids,
            cursors=CursorCodec(b"test-cursor-secret-0123456789abcdef"),
        )


def shirt(ctx: CatalogContext, sku: str, *variant_skus: str, who: Principal = ALICE) -> Any:
    body = {
        "sku": sku,
        "name": "Shirt",
        "price": {"amount": 2500, "currency": "USD"},
        "options": ["size"],
        "variants": [
            {"sku": v, "options": {"size": size}}
            for v, size in zip(variant_skus, "SML"[: len(variant_skus)], strict=True)
        ],
    }
    merchant = who.merchant_id
    assert merchant is not None
    return products.register_product(ctx, who, RegisterProduct.from_json(merchant, body))


def add(ctx: CatalogContext, product_id: str, body: dict[str, Any], **kw: Any) -> Any:
    command = AddVariant.from_json("acme", product_id, ids.new_id(), body, **kw)
    return variants.add_variant(ctx, ALICE, command)


def test_a_registration_takes_every_variants_sku(ctx: CatalogContext) -> None:
    product = shirt(ctx, "SH", "SH-S", "SH-M").product

    assert [v.sku for v in product.variants] == ["SH-S", "SH-M"]
    for variant in product.variants:
        found = variants.find_sku(ctx, ALICE, FindSku("acme", variant.sku))
        assert found == SkuOwner(variant.sku, product.id, variant.id)
    assert variants.find_sku(ctx, ALICE, FindSku("acme", "SH")) == SkuOwner("SH", product.id)


def test_a_sku_is_unique_across_products_and_variants(ctx: CatalogContext) -> None:
    first = shirt(ctx, "SH", "SH-S").product
    with pytest.raises(DuplicateSku):
        shirt(ctx, "TEE", "SH-S")  # another product's variant
    with pytest.raises(DuplicateSku):
        shirt(ctx, "TEE", "SH")  # another product's own sku
    with pytest.raises(DuplicateSku):
        add(ctx, first.id, {"sku": "SH-S", "options": {"size": "L"}})
    with pytest.raises(SkuNotFound):
        variants.find_sku(ctx, ALICE, FindSku("acme", "TEE"))  # nothing of them was written
    stored = ctx.store.get("acme", first.id)
    assert stored is not None and len(stored.variants) == 1


def test_add_patch_and_remove_move_the_skus_with_the_variants(ctx: CatalogContext) -> None:
    product = shirt(ctx, "SH", "SH-S").product
    added = add(ctx, product.id, {"sku": "SH-M", "options": {"size": "M"}}).product
    medium = added.variants[-1]
    assert variants.find_sku(ctx, ALICE, FindSku("acme", "SH-M")).variant_id == medium.id

    patch = PatchVariant.from_json("acme", product.id, medium.id, {"sku": "SH-MED"})
    variants.patch_variant(ctx, ALICE, patch)
    assert variants.find_sku(ctx, ALICE, FindSku("acme", "SH-MED")).variant_id == medium.id
    with pytest.raises(SkuNotFound):
        variants.find_sku(ctx, ALICE, FindSku("acme", "SH-M"))
    shirt(ctx, "TEE", "SH-M")  # the old SKU is free for anyone again

    removed = variants.remove_variant(ctx, ALICE, RemoveVariant("acme", product.id, medium.id))
    assert [v.sku for v in removed.variants] == ["SH-S"]
    with pytest.raises(SkuNotFound):
        variants.find_sku(ctx, ALICE, FindSku("acme", "SH-MED"))


def test_a_retried_add_with_its_key_adds_nothing(ctx: CatalogContext) -> None:
    product = shirt(ctx, "SH", "SH-S").product
    body = {"sku": "SH-M", "options": {"size": "M"}}
    first = add(ctx, product.id, body, idempotency_key="k-1")
    retry = add(ctx, product.id, body, idempotency_key="k-1")

    assert (retry.replayed, retry.product.version) == (True, first.product.version)
    stored = ctx.store.get("acme", product.id)
    assert stored is not None and [v.sku for v in stored.variants] == ["SH-S", "SH-M"]


def test_if_match_guards_a_variant_change(ctx: CatalogContext) -> None:
    product = shirt(ctx, "SH", "SH-S").product
    with pytest.raises(PreconditionFailed):
        add(
            ctx, product.id, {"sku": "SH-M", "options": {"size": "M"}}, if_match=product.version - 1
        )


def test_too_many_new_skus_in_one_request_are_refused_before_anything_is_written(
    ctx: CatalogContext,
) -> None:
    count = limits.MAX_NEW_VARIANT_SKUS + 1
    body = {
        "sku": "BIG",
        "name": "Big",
        "options": ["n"],
        "variants": [{"sku": f"BIG-{n}", "options": {"n": str(n)}} for n in range(count)],
    }
    with pytest.raises(InvalidField) as refused:
        products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body))
    assert refused.value.field == "/variants"
    with pytest.raises(SkuNotFound):
        variants.find_sku(ctx, ALICE, FindSku("acme", "BIG"))


def test_another_merchant_sees_no_sku_and_a_channel_changes_no_variant(
    ctx: CatalogContext,
) -> None:
    product = shirt(ctx, "SH", "SH-S").product
    with pytest.raises(MerchantNotFound):
        variants.find_sku(ctx, GLOBEX, FindSku("acme", "SH-S"))
    with pytest.raises(SkuNotFound):
        variants.find_sku(ctx, GLOBEX, FindSku("globex", "SH-S"))
    command = AddVariant.from_json(
        "acme", product.id, ids.new_id(), {"sku": "X", "options": {"size": "M"}}
    )
    with pytest.raises(AccessDenied):
        variants.add_variant(ctx, adapter("meta"), command)
    assert variants.find_sku(ctx, adapter("meta"), FindSku("acme", "SH-S")).product_id == product.id


def test_an_add_whose_commit_landed_unseen_is_not_added_twice(ctx: CatalogContext) -> None:
    """A store that reports a failure after writing (a timeout, say) makes `apply` read the
    product again: the variant it finds with its own id is the one it added."""
    created = products.register_product(
        ctx,
        ALICE,
        RegisterProduct.from_json("acme", {"sku": "SH", "name": "S", "options": ["size"]}),
    ).product
    command = AddVariant.from_json(
        "acme", created.id, ids.new_id(), {"sku": "SH-M", "options": {"size": "M"}}
    )
    real_commit = ctx.store.commit
    reported: list[bool] = []

    def commit_then_fail(change: Any) -> None:
        real_commit(change)
        if not reported:
            reported.append(True)
            raise VersionConflict(change.product.id, change.expected_version)

    ctx.store.commit = commit_then_fail  # type: ignore[method-assign]
    added = variants.add_variant(ctx, ALICE, command).product
    assert [v.sku for v in added.variants] == ["SH-M"]
    assert added.version == created.version + 1
