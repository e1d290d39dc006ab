"""Use cases of the product catalog: register, get, list, update, transition, deactivate."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from catalog.domain import limits
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
from catalog.domain.values import (
    parse_attributes,
    parse_channel,
    parse_money,
    parse_overrides,
    parse_sku,
    parse_text,
)
from catalog.service.context import CatalogContext
from catalog.service.ports import Change, IdempotencyRecord, ListingsBefore

# Blind writers (no If-Match) retry their own version conflicts this many times; each retry
# re-reads and re-applies the request, so no concurrent update is lost.
MAX_CONFLICT_RETRIES = 20
EDITABLE_FIELDS = ("name", "description", "price", "attributes", "channel_overrides")


@dataclass(frozen=True)
class Registered:
    product: Product
    replayed: bool  # True when an Idempotency-Key retry returned the first outcome


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    next_cursor: str | None


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryEntry]
    next_cursor: str | None


def fingerprint(payload: Any) -> str:
    """A stable digest of a request body, to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class KeyedRequest:
    """A request sent with an Idempotency-Key: the key and a digest of what was asked."""

    key: str
    fingerprint: str


def register_product(
    ctx: CatalogContext,
    merchant_id: str,
    payload: dict[str, Any],
    actor: str,
    idempotency_key: str | None = None,
) -> Registered:
    keyed = KeyedRequest(idempotency_key, fingerprint(payload)) if idempotency_key else None
    if keyed:
        replay = replay_of(ctx, merchant_id, keyed)
        if replay is not None:
            return Registered(replay, replayed=True)
    unknown = set(payload) - {"sku", *EDITABLE_FIELDS}
    if unknown:
        raise InvalidField("/" + sorted(unknown)[0], "is not a product field")
    now = ctx.clock.now()
    product = Product.register(
        id=ctx.ids.new_id(),
        merchant_id=merchant_id,
        sku=parse_sku(payload.get("sku")),
        stamp=Stamp(actor, now),
        **_parse_editable(payload),
    )
    pending = product.pull_change(ctx.ids.new_id)
    assert pending is not None
    record = idempotency_record(merchant_id, keyed, product, now) if keyed else None
    try:
        commit(ctx, Change(product, 0, pending.history, pending.events, record))
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


def commit(ctx: CatalogContext, change: Change) -> None:
    """Every store refuses an oversized product (ProductTooLarge) as part of its contract."""
    ctx.store.commit(change)


def get_product(ctx: CatalogContext, merchant_id: str, product_id: str) -> Product:
    product = ctx.store.get(merchant_id, product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return product


def list_products(
    ctx: CatalogContext,
    merchant_id: str,
    *,
    status: Status | None = None,
    channel: str | None = None,
    limit: int = limits.DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> ProductPage:
    if not 1 <= limit <= limits.MAX_PAGE_SIZE:
        raise InvalidField("/limit", f"must be between 1 and {limits.MAX_PAGE_SIZE}")
    if channel is not None:
        parse_channel(channel)
    scope = {"q": "products", "status": status.value if status else None, "channel": channel}
    position = ctx.cursors.decode(merchant_id, scope, cursor) if cursor else None
    page = ctx.store.page(
        merchant_id, status=status, channel=channel, limit=limit, position=position
    )
    next_cursor = ctx.cursors.encode(merchant_id, scope, page.position) if page.position else None
    return ProductPage(page.items, next_cursor)


def product_history(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    *,
    limit: int = limits.DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> HistoryPage:
    if not 1 <= limit <= limits.MAX_PAGE_SIZE:
        raise InvalidField("/limit", f"must be between 1 and {limits.MAX_PAGE_SIZE}")
    scope = {"q": "history", "product": product_id}
    before = None
    if cursor:
        position = ctx.cursors.decode(merchant_id, scope, cursor)
        before = int(position)
    entries = ctx.store.history(merchant_id, product_id, limit=limit + 1, before_version=before)
    if not entries and before is None:
        get_product(ctx, merchant_id, product_id)  # 404 for an unknown product
    items = entries[:limit]
    next_cursor = None
    if len(entries) > limit:
        next_cursor = ctx.cursors.encode(merchant_id, scope, str(items[-1].version))
    return HistoryPage(items, next_cursor)


def update_product(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    patch: Any,
    actor: str,
    if_match: int | None = None,
) -> Product:
    """Apply a JSON merge patch (RFC 7396) to the editable fields."""
    if not isinstance(patch, dict):
        raise InvalidField("/", "a merge patch must be a JSON object")
    unknown = set(patch) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidField("/" + sorted(unknown)[0], "is not an editable field")

    def revise(product: Product, stamp: Stamp) -> None:
        merged = merge_patch(product.editable_document(), patch)
        product.revise(stamp=stamp, **_parse_editable(merged))

    return apply(ctx, merchant_id, product_id, actor, revise, if_match)


def change_status(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    target: Status,
    actor: str,
    reason: str | None = None,
    if_match: int | None = None,
) -> Product:
    reason = parse_text(reason, "/reason", limits.MAX_REASON_LENGTH, required=False)
    return apply(
        ctx,
        merchant_id,
        product_id,
        actor,
        lambda product, stamp: product.transition(target, stamp, reason),
        if_match,
    )


def deactivate_product(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    actor: str,
    if_match: int | None = None,
) -> Product:
    """Soft delete. Repeating it returns the INACTIVE product and emits nothing."""
    return change_status(ctx, merchant_id, product_id, Status.INACTIVE, actor, None, if_match)


Command = Callable[[Product, Stamp], None]


def apply(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    actor: str,
    command: Command,
    if_match: int | None,
    keyed: KeyedRequest | None = None,
) -> Product:
    """Read, run the command, commit; a no-op command writes nothing.

    With If-Match a moved version is the client's problem (412, with the current version,
    also when another writer wins between the read and the commit). Without it the server
    re-reads and re-applies the command until it commits on the latest version. A keyed
    request commits its idempotency record with the change (IdempotencyKeyRaced if taken).
    """
    for _ in range(MAX_CONFLICT_RETRIES):
        product = get_product(ctx, merchant_id, product_id)
        if if_match is not None and product.version != if_match:
            raise PreconditionFailed(product.version, if_match)
        now = ctx.clock.now()
        before = ListingsBefore.of(product)
        command(product, Stamp(actor, now))
        pending = product.pull_change(ctx.ids.new_id)
        if pending is None:
            return product
        record = idempotency_record(merchant_id, keyed, product, now) if keyed else None
        change = Change(
            product, pending.expected_version, pending.history, pending.events, record, before
        )
        try:
            commit(ctx, change)
        except VersionConflict:
            # Read again: with If-Match that read answers 412 naming the version that won.
            continue
        return product
    raise VersionConflict(product_id, product.version)


def _parse_editable(fields: dict[str, Any]) -> dict[str, Any]:
    name = parse_text(fields.get("name"), "/name", limits.MAX_NAME_LENGTH, required=True)
    return {
        "name": name,
        "description": parse_text(
            fields.get("description"),
            "/description",
            limits.MAX_DESCRIPTION_LENGTH,
            required=False,
        ),
        "price": parse_money(fields.get("price"), "/price"),
        "attributes": parse_attributes(fields.get("attributes"), "/attributes"),
        "channel_overrides": parse_overrides(fields.get("channel_overrides")),
    }
