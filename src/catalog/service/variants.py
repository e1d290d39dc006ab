"""Use cases of variants (DESIGN.md section 10): add, merge-patch and remove one variant of a
product, and find what holds a SKU. Each variant change is a product change, applied as the
others are (`products.apply`: If-Match, conflict retries, one atomic write with the SKUs it
takes and gives up); the stores keep every SKU of a merchant held once."""

from __future__ import annotations

from collections.abc import Sequence

from catalog.domain import limits
from catalog.domain.errors import DomainError, IdempotencyKeyRaced, SkuNotFound
from catalog.domain.product import Product, Stamp
from catalog.service.commands import AddVariant, FindSku, PatchVariant, RemoveVariant
from catalog.service.context import CatalogContext
from catalog.service.ports import SkuOwner
from catalog.service.principals import Principal, require_read, require_write
from catalog.service.products import (
    Registered,
    apply,
    replay_after_race,
    replay_of,
)


def add_variant(ctx: CatalogContext, principal: Principal, command: AddVariant) -> Registered:
    """One variant more, after the others. With an Idempotency-Key a retry adds nothing and
    answers what the first request answered.

    The key's record is read only when the add does not go through: a retry of an add that
    succeeded meets what it did (its SKU is taken, its If-Match is stale), and a key already
    used fails the record's condition in the write itself. So a keyed add costs what an
    unkeyed one does."""
    merchant_id = command.merchant_id
    require_write(principal, merchant_id, command.product_id)
    keyed = command.idempotency

    def add(product: Product, stamp: Stamp) -> None:
        # Our own id already there: a commit reported as failed had landed, and `apply` read
        # it back. It is added once.
        if not _holds(product, command.variant_id):
            product.add_variant(command.body, command.variant_id, stamp)

    try:
        product = apply(ctx, principal, command, add, keyed)
    except IdempotencyKeyRaced:
        assert keyed is not None
        return Registered(replay_after_race(ctx, merchant_id, keyed), replayed=True)
    except DomainError:
        replay = replay_of(ctx, merchant_id, keyed) if keyed else None
        if replay is None:
            raise
        return Registered(replay, replayed=True)
    return Registered(product, replayed=False)


def add_variants(
    ctx: CatalogContext, principal: Principal, commands: Sequence[AddVariant]
) -> Product:
    """Several variants more, of one product, as one version: what an import row adds to a
    product (no route takes it; each variant is judged as `add_variant` judges it)."""
    first = commands[0]
    require_write(principal, first.merchant_id, first.product_id)
    if any(
        (c.merchant_id, c.product_id) != (first.merchant_id, first.product_id) for c in commands
    ):
        raise ValueError("add_variants adds variants to one product")

    def add(product: Product, stamp: Stamp) -> None:
        for command in commands:
            if not _holds(product, command.variant_id):
                product.add_variant(command.body, command.variant_id, stamp)

    return apply(ctx, principal, first, add)


def patch_variant(ctx: CatalogContext, principal: Principal, command: PatchVariant) -> Product:
    require_write(principal, command.merchant_id, command.product_id)
    return apply(
        ctx,
        principal,
        command,
        lambda product, stamp: product.revise_variant(command.variant_id, command.patch, stamp),
    )


def remove_variant(ctx: CatalogContext, principal: Principal, command: RemoveVariant) -> Product:
    """Remove it; removing one already gone is a 404 (VariantNotFound), as the domain says."""
    require_write(principal, command.merchant_id, command.product_id)
    return apply(
        ctx,
        principal,
        command,
        lambda product, stamp: product.remove_variant(command.variant_id, stamp),
    )


def find_sku(ctx: CatalogContext, principal: Principal, query: FindSku) -> SkuOwner:
    """The product, and variant if any, holding the SKU: one storage read."""
    require_read(principal, query.merchant_id)
    sku = query.sku
    if len(sku) > limits.MAX_SKU_LENGTH or not limits.SKU_PATTERN.fullmatch(sku):
        # No SKU can be so; the stores are not asked (a DynamoDB key has its own limits).
        raise SkuNotFound(sku)
    owner = ctx.store.sku_owner(query.merchant_id, query.sku)
    if owner is None:
        raise SkuNotFound(query.sku)
    require_read(principal, query.merchant_id, owner.product_id)
    return owner


def _holds(product: Product, variant_id: str) -> bool:
    return any(variant.id == variant_id for variant in product.variants)
