"""An in-memory ProductStore and Outbox with the same atomicity and conditions as the real ones.

Documents are kept serialized, so callers never share mutable state with the store, exactly
as with a database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from catalog.adapters.event_documents import event_from_document, event_to_document
from catalog.adapters.product_documents import (
    history_from_document,
    history_to_document,
    product_from_document,
    product_to_document,
    stored_change,
)
from catalog.adapters.requirements_documents import (
    requirements_from_document,
    requirements_to_document,
    stored_requirements,
)
from catalog.adapters.type_documents import type_from_document, type_to_document
from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.errors import (
    DuplicateProductType,
    DuplicateSku,
    IdempotencyKeyRaced,
    InvalidField,
    ProductTypeInUse,
    VersionConflict,
)
from catalog.domain.events import DomainEvent
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
from catalog.domain.listing import LIVE_STATES
from catalog.domain.product import Product
from catalog.domain.product_types import ProductType
from catalog.service.ports import (
    Change,
    IdempotencyRecord,
    MerchantPage,
    OutboxRecord,
    ProductRules,
    RequirementsChange,
    SkuOwner,
    StoredPage,
    TypeChange,
    TypePage,
)


class _KeptRecord(NamedTuple):
    """An idempotency record as kept: its product serialized, like every other document."""

    fingerprint: str
    product: dict[str, Any]
    expires_at: datetime


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lock = self._lock  # what MemoryJobStore writes under, with commit_locked
        self._products: dict[tuple[str, str], dict[str, Any]] = {}
        self._skus: dict[tuple[str, str], SkuOwner] = {}
        self._history: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._idempotency: dict[tuple[str, str], _KeptRecord] = {}
        self._outbox: list[dict[str, Any]] = []
        self._pruned = 0  # events forgotten from the front: _outbox[0] has seq _pruned + 1
        self._offsets: dict[str, int] = {}
        self._types: dict[tuple[str, str], dict[str, Any]] = {}
        self._requirements: dict[str, Any] | None = None  # every channel's, one document

    # ProductStore

    def get(self, merchant_id: str, product_id: str) -> Product | None:
        with self._lock:
            doc = self._products.get((merchant_id, product_id))
        return product_from_document(doc) if doc else None

    def page(
        self,
        merchant_id: str,
        *,
        status: Status | None,
        channel: str | None,
        limit: int,
        position: str | None,
        product_type: str | None = None,
    ) -> StoredPage:
        with self._lock:
            docs = sorted(
                (doc for (m, _), doc in self._products.items() if m == merchant_id),
                key=lambda doc: doc["id"],
            )
        selected = [
            doc
            for doc in docs
            if (position is None or doc["id"] > position)
            and (status is None or doc["status"] == status.value)
            and (channel is None or doc["listings"].get(channel, {}).get("state") in LIVE_STATES)
            and (product_type is None or doc.get("product_type") == product_type)
        ]
        items = [product_from_document(doc) for doc in selected[:limit]]
        more = len(selected) > limit
        return StoredPage(items, items[-1].id if more else None)

    def merchants(self, *, limit: int, position: str | None) -> MerchantPage:
        with self._lock:
            known = sorted({m for (m, _) in self._products})
        selected = [m for m in known if position is None or m > position]
        items = selected[:limit]
        return MerchantPage(items, items[-1] if len(selected) > limit else None)

    def history(
        self, merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> list[HistoryEntry]:
        with self._lock:
            docs = list(self._history.get((merchant_id, product_id), []))
        docs = [d for d in docs if before_version is None or d["version"] < before_version]
        docs.sort(key=lambda d: d["version"], reverse=True)
        return [history_from_document(d) for d in docs[:limit]]

    def idempotency_record(
        self, merchant_id: str, key: str, now: datetime
    ) -> IdempotencyRecord | None:
        with self._lock:
            kept = self._idempotency.get((merchant_id, key))
        if kept is None or kept.expires_at <= now:
            return None
        product = product_from_document(kept.product)
        return IdempotencyRecord(merchant_id, key, kept.fingerprint, product, kept.expires_at)

    def commit(self, change: Change) -> None:
        stored_change(change)  # the same refusal as the other stores
        with self._lock:
            self.commit_locked(change, [])

    def commit_locked(self, change: Change, undo: list[Callable[[], None]]) -> None:
        """Check every condition of the change, then write it, noting in `undo` how to take
        each write back (a batch of changes is all or nothing: JobStore.commit_rows). The
        caller holds `lock`."""
        product = change.product
        key = (product.merchant_id, product.id)
        stored = self._products.get(key)
        stored_version = stored["version"] if stored else 0
        if stored_version != change.expected_version:
            raise VersionConflict(product.id, change.expected_version)
        record = change.idempotency
        if record is not None:
            existing = self._idempotency.get((record.merchant_id, record.key))
            if existing is not None and existing.expires_at > change.history.at:
                raise IdempotencyKeyRaced(record.key)
        sku_key = (product.merchant_id, product.sku)
        if change.expected_version == 0 and sku_key in self._skus:
            raise DuplicateSku(product.sku)
        released = set(change.skus_released)
        for claim in change.skus_claimed:
            holder = self._skus.get((product.merchant_id, claim.sku))
            moving = claim.sku in released and holder and holder.product_id == product.id
            if holder is not None and not moving:
                raise DuplicateSku(claim.sku)
        type_key = (product.merchant_id, product.product_type or "")
        if product.product_type is not None and type_key not in self._types:
            # Deleted since the use case read it: as the other stores, refuse.
            raise InvalidField(
                "/product_type", f"the merchant has no product type {product.product_type}"
            )
        # All conditions hold: write everything.
        touched_skus = [sku_key, *((product.merchant_id, sku) for sku in released)]
        touched_skus += [(product.merchant_id, claim.sku) for claim in change.skus_claimed]
        undo.append(_restorer(self._products, [key]))
        undo.append(_restorer(self._skus, touched_skus))
        history = self._history.setdefault(key, [])
        undo.append(_truncator(history, len(history)))
        undo.append(_truncator(self._outbox, len(self._outbox)))
        self._products[key] = product_to_document(product)
        if change.expected_version == 0:
            self._skus[sku_key] = SkuOwner(product.sku, product.id)
        for sku in released:
            self._skus.pop((product.merchant_id, sku), None)
        for claim in change.skus_claimed:
            self._skus[(product.merchant_id, claim.sku)] = claim
        history.append(history_to_document(change.history))
        if record is not None:
            idempotency_key = (record.merchant_id, record.key)
            undo.append(_restorer(self._idempotency, [idempotency_key]))
            self._idempotency[idempotency_key] = _KeptRecord(
                record.fingerprint, product_to_document(record.product), record.expires_at
            )
        self._outbox.extend(event_to_document(event) for event in change.events)

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Events of no product change (a job's), into the outbox. The caller holds `lock`."""
        self._outbox.extend(event_to_document(event) for event in events)

    def sku_owner(self, merchant_id: str, sku: str) -> SkuOwner | None:
        with self._lock:
            return self._skus.get((merchant_id, sku))

    def product_type(self, merchant_id: str, key: str) -> ProductType | None:
        with self._lock:
            doc = self._types.get((merchant_id, key))
        return type_from_document(doc) if doc else None

    def product_types(self, merchant_id: str, *, limit: int, position: str | None) -> TypePage:
        with self._lock:
            keys = sorted(k for (m, k) in self._types if m == merchant_id)
            selected = [k for k in keys if position is None or k > position]
            docs = [self._types[(merchant_id, k)] for k in selected[:limit]]
        items = [type_from_document(doc) for doc in docs]
        return TypePage(items, items[-1].key if len(selected) > limit else None)

    def commit_type(self, change: TypeChange) -> None:
        product_type = change.product_type
        key = (product_type.merchant_id, product_type.key)
        with self._lock:
            stored = self._types.get(key)
            if change.expected_version == 0 and stored is not None:
                raise DuplicateProductType(product_type.key)
            if (stored["version"] if stored else 0) != change.expected_version:
                raise VersionConflict(product_type.key, change.expected_version)
            if change.deleted:
                if any(
                    m == key[0] and doc.get("product_type") == key[1]
                    for (m, _), doc in self._products.items()
                ):
                    raise ProductTypeInUse(product_type.key)
                del self._types[key]
            else:
                self._types[key] = type_to_document(product_type)
            self._outbox.extend(event_to_document(event) for event in change.events)

    def channel_requirements(self) -> RequirementsSet:
        with self._lock:
            doc = self._requirements
        return requirements_from_document(doc) if doc else RequirementsSet()

    def product_rules(
        self, merchant_id: str, type_key: str | None, *, fresh: bool = False
    ) -> ProductRules:
        """Always read now: both reads are local and cheap."""
        del fresh
        product_type = self.product_type(merchant_id, type_key) if type_key else None
        return ProductRules(product_type, self.channel_requirements())

    def commit_requirements(self, change: RequirementsChange) -> None:
        stored_requirements(change)  # refused past the size the other stores keep
        with self._lock:
            stored_version = self._requirements["version"] if self._requirements else 0
            if stored_version != change.expected_version:
                raise VersionConflict(change.channel, change.expected_version)
            self._requirements = requirements_to_document(change.requirements)
            self._outbox.extend(event_to_document(event) for event in change.events)

    # Outbox

    def read_after(self, seq: int, limit: int) -> list[OutboxRecord]:
        with self._lock:
            first = max(seq, self._pruned)
            window = self._outbox[first - self._pruned : first - self._pruned + limit]
        return [
            OutboxRecord(first + index + 1, event_from_document(doc))
            for index, doc in enumerate(window)
        ]

    def prune(self, up_to_seq: int) -> None:
        with self._lock:
            drop = max(0, min(up_to_seq, self._pruned + len(self._outbox)) - self._pruned)
            del self._outbox[:drop]
            self._pruned += drop

    def offset(self, sink: str) -> int:
        with self._lock:
            return self._offsets.get(sink, 0)

    def save_offset(self, sink: str, seq: int) -> None:
        with self._lock:
            self._offsets[sink] = seq


def _restorer(table: dict[Any, Any], keys: list[Any]) -> Callable[[], None]:
    """How to put `keys` of `table` back as they are now (absent ones removed)."""
    kept = {key: table[key] for key in keys if key in table}

    def restore() -> None:
        for key in keys:
            if key in kept:
                table[key] = kept[key]
            else:
                table.pop(key, None)

    return restore


def _truncator(rows: list[Any], length: int) -> Callable[[], None]:
    def truncate() -> None:
        del rows[length:]

    return truncate
