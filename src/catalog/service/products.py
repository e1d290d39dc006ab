"""Use cases of the product catalog: register, get, list, update, transition, deactivate."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from msgspec import Struct

from catalog.domain import limits
from catalog.domain.editable import parse_editable
from catalog.domain.errors import (
    IdempotencyKeyRaced,
    IdempotencyKeyReused,
    InvalidField,
    PreconditionFailed,
    ProductNotFound,
    VersionConflict,
)
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
from catalog.domain.merge_patch import merge_patch
from catalog.domain.product import Product, Stamp
from catalog.domain.product_types import TypeContent, parse_type_key
from catalog.domain.values import parse_channel
from catalog.service.commands import (
    ChangeStatus,
    DeactivateProduct,
    GetProduct,
    KeyedRequest,
    ListProducts,
    PatchProduct,
    ReadHistory,
    RegisterProduct,
)
from catalog.service.context import CatalogContext
from catalog.service.ports import (
    Change,
    IdempotencyRecord,
    ListingsBefore,
    ProductRules,
    SkuOwner,
)
from catalog.service.principals import Principal, require_read, require_write

# Blind writers (no If-Match) retry their own version conflicts this many times; each retry
# re-reads and re-applies the request, so no concurrent update is lost.
MAX_CONFLICT_RETRIES = 20


class Registered(Struct, frozen=True):
    product: Product
    replayed: bool  # True when an Idempotency-Key retry returned the first outcome


class ProductPage(Struct, frozen=True):
    items: list[Product]
    next_cursor: str | None


class HistoryPage(Struct, frozen=True):
    items: list[HistoryEntry]
    next_cursor: str | None


def register_product(
    ctx: CatalogContext, principal: Principal, command: RegisterProduct
) -> Registered:
    merchant_id = command.merchant_id
    require_write(principal, merchant_id)
    keyed = command.idempotency
    if keyed:
        replay = replay_of(ctx, merchant_id, keyed)
        if replay is not None:
            return Registered(replay, replayed=True)
    now = ctx.clock.now()
    rules = product_rules(ctx, merchant_id, command.fields.product_type)
    product = Product.register(
        id=ctx.ids.new_id(),
        merchant_id=merchant_id,
        sku=command.sku,
        stamp=Stamp(principal.subject, now),
        type_content=type_content_of(rules),
        variants=[body.identified(ctx.ids.new_id()) for body in command.variants],
        **command.fields.as_arguments(),
    )
    product.bind_requirements(rules.requirements.needs())
    claimed, _ = sku_moves({}, product)
    pending = product.pull_change(ctx.ids.new_id)
    assert pending is not None
    record = idempotency_record(merchant_id, keyed, product, now) if keyed else None
    change = Change(product, 0, pending.history, pending.events, record, skus_claimed=claimed)
    try:
        ctx.store.commit(change)
    except IdempotencyKeyRaced:
        assert keyed is not None
        return Registered(replay_after_race(ctx, merchant_id, keyed), replayed=True)
    return Registered(product, replayed=False)


def replay_of(ctx: CatalogContext, merchant_id: str, keyed: KeyedRequest) -> Product | None:
    """The product as the first request with this key returned it; None for a new key."""
    record = ctx.store.idempotency_record(merchant_id, keyed.key, ctx.clock.now())
    if record is None:
        return None
    if record.fingerprint != keyed.fingerprint:
        raise IdempotencyKeyReused(keyed.key)
    return record.product


def replay_after_race(ctx: CatalogContext, merchant_id: str, keyed: KeyedRequest) -> Product:
    """Another request with the key committed first: answer what it answered."""
    replay = replay_of(ctx, merchant_id, keyed)
    if replay is None:  # its record expired in between: vanishingly rare, safe to retry
        raise IdempotencyKeyRaced(keyed.key)
    return replay


def idempotency_record(
    merchant_id: str, keyed: KeyedRequest, product: Product, now: datetime
) -> IdempotencyRecord:
    return IdempotencyRecord(
        merchant_id=merchant_id,
        key=keyed.key,
        fingerprint=keyed.fingerprint,
        product=product,
        expires_at=now + timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS),
    )


def product_rules(
    ctx: CatalogContext, merchant_id: str, key: str | None, *, fresh: bool = False
) -> ProductRules:
    """The merchant's type `key` (None for no type) and the channels' requirements: what a
    write of a product of that type is judged by, in at most one storage read."""
    rules = ctx.store.product_rules(merchant_id, key, fresh=fresh)
    if key is not None and rules.product_type is None:
        raise InvalidField("/product_type", f"the merchant has no product type {key}")
    return rules


def type_content_of(rules: ProductRules) -> TypeContent | None:
    return rules.product_type.content if rules.product_type is not None else None


def bind_rules(product: Product, rules: ProductRules) -> None:
    product.bind_type(type_content_of(rules))
    product.bind_requirements(rules.requirements.needs())


def variant_skus(product: Product) -> dict[str, str]:
    """Each variant's SKU, to the variant holding it."""
    return {variant.sku: variant.id for variant in product.variants}


def sku_moves(
    before: Mapping[str, str], product: Product
) -> tuple[tuple[SkuOwner, ...], tuple[str, ...]]:
    """The variant SKUs a change takes and gives up, from the variants' SKUs `before` it
    (variant_skus) to the product's now. A SKU that moved to another variant of the product
    is in both. More than limits.MAX_NEW_VARIANT_SKUS taken at once is refused (422), before
    anything is written: each is an item of the one atomic write."""
    after = variant_skus(product)
    claimed = tuple(
        SkuOwner(sku, product.id, variant_id)
        for sku, variant_id in after.items()
        if before.get(sku) != variant_id
    )
    released = tuple(sku for sku, variant_id in before.items() if after.get(sku) != variant_id)
    if len(claimed) > limits.MAX_NEW_VARIANT_SKUS:
        raise InvalidField(
            "/variants",
            f"one request may add at most {limits.MAX_NEW_VARIANT_SKUS} variants with new SKUs"
            " (register with up to that many, then add the others one by one)",
        )
    return claimed, released


def get_product(ctx: CatalogContext, principal: Principal, query: GetProduct) -> Product:
    require_read(principal, query.merchant_id, query.product_id)
    return stored_product(ctx, query.merchant_id, query.product_id)


def stored_product(ctx: CatalogContext, merchant_id: str, product_id: str) -> Product:
    """The product as stored, for use cases that have already decided access."""
    product = ctx.store.get(merchant_id, product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return product


def check_limit(limit: int) -> None:
    if not 1 <= limit <= limits.MAX_PAGE_SIZE:
        raise InvalidField("/limit", f"must be between 1 and {limits.MAX_PAGE_SIZE}")


def list_products(ctx: CatalogContext, principal: Principal, query: ListProducts) -> ProductPage:
    """A page of the merchant's products. A page filtered on several things may be shorter
    than `limit`, even empty, and still have a next cursor (the store filtered what its index
    read, ProductStore.page): only a page without a next cursor is the last."""
    merchant_id, status, channel = query.merchant_id, query.status, query.channel
    product_type = query.product_type
    require_read(principal, merchant_id)
    check_limit(query.limit)
    if channel is not None:
        parse_channel(channel)
    if product_type is not None:
        parse_type_key(product_type, "/product_type")
    scope: dict[str, object] = {
        "q": "products",
        "status": status.value if status else None,
        "channel": channel,
    }
    if product_type is not None:
        # Only when given: cursors issued before the filter existed stay valid.
        scope["product_type"] = product_type
    position = ctx.cursors.decode(merchant_id, scope, query.cursor) if query.cursor else None
    page = ctx.store.page(
        merchant_id,
        status=status,
        channel=channel,
        limit=query.limit,
        position=position,
        product_type=product_type,
    )
    next_cursor = ctx.cursors.encode(merchant_id, scope, page.position) if page.position else None
    return ProductPage(page.items, next_cursor)


def product_history(ctx: CatalogContext, principal: Principal, query: ReadHistory) -> HistoryPage:
    merchant_id, product_id, limit = query.merchant_id, query.product_id, query.limit
    require_read(principal, merchant_id, product_id)
    check_limit(limit)
    scope = {"q": "history", "product": product_id}
    before = None
    if query.cursor:
        position = ctx.cursors.decode(merchant_id, scope, query.cursor)
        before = int(position)
    entries = ctx.store.history(merchant_id, product_id, limit=limit + 1, before_version=before)
    if not entries and before is None:
        stored_product(ctx, merchant_id, product_id)  # 404 for an unknown product
    items = entries[:limit]
    next_cursor = None
    if len(entries) > limit:
        next_cursor = ctx.cursors.encode(merchant_id, scope, str(items[-1].version))
    return HistoryPage(items, next_cursor)


def update_product(ctx: CatalogContext, principal: Principal, command: PatchProduct) -> Product:
    """Apply a JSON merge patch (RFC 7396) to the editable fields."""
    require_write(principal, command.merchant_id, command.product_id)

    def revise(product: Product, stamp: Stamp) -> None:
        merged = merge_patch(product.editable_document(), command.patch)
        fields = parse_editable(merged)
        # The type the revised product names: its own, or the one the patch gives it.
        rules = product_rules(ctx, command.merchant_id, fields.product_type)
        product.bind_requirements(rules.requirements.needs())
        product.revise(stamp=stamp, type_content=type_content_of(rules), **fields.as_arguments())

    return apply(ctx, principal, command, revise, binds_type=False)


def change_status(ctx: CatalogContext, principal: Principal, command: ChangeStatus) -> Product:
    require_write(principal, command.merchant_id, command.product_id)
    return apply(
        ctx,
        principal,
        command,
        lambda product, stamp: product.transition(command.status, stamp, command.reason),
    )


def deactivate_product(
    ctx: CatalogContext, principal: Principal, command: DeactivateProduct
) -> Product:
    """Soft delete. Repeating it returns the INACTIVE product and emits nothing."""
    change = ChangeStatus(
        command.merchant_id, command.product_id, Status.INACTIVE, None, command.if_match
    )
    return change_status(ctx, principal, change)


Mutation = Callable[[Product, Stamp], None]


class ProductCommand(Protocol):
    """What `apply` needs of a command: the product it changes and the version it expects."""

    @property
    def merchant_id(self) -> str: ...

    @property
    def product_id(self) -> str: ...

    @property
    def if_match(self) -> int | None: ...


def apply(
    ctx: CatalogContext,
    principal: Principal,
    command: ProductCommand,
    mutate: Mutation,
    keyed: KeyedRequest | None = None,
    *,
    binds_type: bool = True,
) -> Product:
    """Read, mutate, commit; a mutation that changes nothing writes nothing. The caller has
    decided access.

    With If-Match a moved version is the client's problem (412, with the current version,
    also when another writer wins between the read and the commit). Without it the server
    re-reads and re-applies the mutation until it commits on the latest version. A keyed
    request commits its idempotency record with the change (IdempotencyKeyRaced if taken).
    The product is changed under its rules (its type's content and the channels'
    requirements: at most one more read); a mutation that may change the type binds the
    rules itself (`binds_type=False`).
    """
    merchant_id, product_id, if_match = command.merchant_id, command.product_id, command.if_match
    for _ in range(MAX_CONFLICT_RETRIES):
        product = stored_product(ctx, merchant_id, product_id)
        if if_match is not None and product.version != if_match:
            raise PreconditionFailed(product.version, if_match)
        if binds_type:
            bind_rules(product, product_rules(ctx, merchant_id, product.product_type))
        now = ctx.clock.now()
        before, type_before = ListingsBefore.of(product), product.product_type
        skus_before = variant_skus(product)
        mutate(product, Stamp(principal.subject, now))
        pending = product.pull_change(ctx.ids.new_id)
        if pending is None:
            return product
        claimed, released = sku_moves(skus_before, product)
        record = idempotency_record(merchant_id, keyed, product, now) if keyed else None
        change = Change(
            product,
            pending.expected_version,
            pending.history,
            pending.events,
            record,
            before,
            type_before,
            claimed,
            released,
        )
        try:
            ctx.store.commit(change)
        except VersionConflict:
            # Read again: with If-Match that read answers 412 naming the version that won.
            continue
        return product
    raise VersionConflict(product_id, product.version)
