"""A batch of a job's rows, applied through the API's own use cases and committed at once.

`RowBatch` is a ProductStore for the use cases a row runs: `commit` keeps the change instead
of writing it, and reads see the batch's own changes first, so a row that changes a product
twice (its fields, then a variant) and a later row of the same batch find what the earlier
ones did. A row is all or nothing: `row()` forgets the changes of a row that raised. The
job's worker then writes every kept change with the job's progress in one transaction
(JobStore.commit_rows): a crash leaves either the whole batch and the progress after it, or
neither, so each row is applied exactly once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.errors import DuplicateSku, VersionConflict
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product
from catalog.domain.product_types import ProductType
from catalog.service.ports import (
    Change,
    IdempotencyRecord,
    MerchantPage,
    ProductRules,
    ProductStore,
    RequirementsChange,
    SkuOwner,
    StoredPage,
    TypeChange,
    TypePage,
)


class RowBatch:
    """The changes of a batch of rows, over the store they will be written to."""

    def __init__(self, store: ProductStore) -> None:
        self._store = store
        self.changes: list[Change] = []
        self._products: dict[tuple[str, str], Product] = {}
        self._skus: dict[tuple[str, str], SkuOwner | None] = {}
        self._rules: dict[tuple[str, str | None], ProductRules] = {}

    def __len__(self) -> int:
        return len(self.changes)

    @contextmanager
    def row(self) -> Iterator[None]:
        """One row's changes: kept if the row ends, forgotten if it raises."""
        mark = len(self.changes)
        try:
            yield
        except BaseException:
            del self.changes[mark:]
            self._reindex()
            raise

    # ----------------------------------------------------------------- ProductStore

    def get(self, merchant_id: str, product_id: str) -> Product | None:
        pending = self._products.get((merchant_id, product_id))
        if pending is not None:
            # A use case changes what it reads: never the batch's own copy.
            return copy.deepcopy(pending)
        return self._store.get(merchant_id, product_id)

    def sku_owner(self, merchant_id: str, sku: str) -> SkuOwner | None:
        key = (merchant_id, sku)
        if key in self._skus:
            return self._skus[key]
        return self._store.sku_owner(merchant_id, sku)

    def commit(self, change: Change) -> None:
        """Keep the change, under the conditions the store will check again when it writes
        the batch (the same product's version, a SKU the batch already gave away)."""
        product = change.product
        key = (product.merchant_id, product.id)
        pending = self._products.get(key)
        if pending is not None and pending.version != change.expected_version:
            raise VersionConflict(product.id, change.expected_version)
        if change.expected_version == 0 and self._held(product.merchant_id, product.sku):
            raise DuplicateSku(product.sku)
        released = set(change.skus_released)
        for claim in change.skus_claimed:
            holder = self.sku_owner(product.merchant_id, claim.sku)
            moving = (
                claim.sku in released and holder is not None and holder.product_id == product.id
            )
            if holder is not None and not moving:
                raise DuplicateSku(claim.sku)
        self.changes.append(change)
        self._index(change)

    def product_rules(
        self, merchant_id: str, type_key: str | None, *, fresh: bool = False
    ) -> ProductRules:
        """Read once per batch: every row of it is judged by the same rules."""
        key = (merchant_id, type_key)
        rules = self._rules.get(key)
        if rules is None or fresh:
            rules = self._store.product_rules(merchant_id, type_key, fresh=fresh)
            self._rules[key] = rules
        return rules

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
        return self._store.page(
            merchant_id,
            status=status,
            channel=channel,
            limit=limit,
            position=position,
            product_type=product_type,
        )

    def merchants(self, *, limit: int, position: str | None) -> MerchantPage:
        return self._store.merchants(limit=limit, position=position)

    def history(
        self, merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> list[HistoryEntry]:
        return self._store.history(
            merchant_id, product_id, limit=limit, before_version=before_version
        )

    def idempotency_record(
        self, merchant_id: str, key: str, now: datetime
    ) -> IdempotencyRecord | None:
        return self._store.idempotency_record(merchant_id, key, now)

    def product_type(self, merchant_id: str, key: str) -> ProductType | None:
        return self._store.product_type(merchant_id, key)

    def product_types(self, merchant_id: str, *, limit: int, position: str | None) -> TypePage:
        return self._store.product_types(merchant_id, limit=limit, position=position)

    def commit_type(self, change: TypeChange) -> None:
        raise NotImplementedError("a job's rows change products, not product types")

    def channel_requirements(self) -> RequirementsSet:
        return self._store.channel_requirements()

    def commit_requirements(self, change: RequirementsChange) -> None:
        raise NotImplementedError("a job's rows change products, not requirements")

    # ----------------------------------------------------------------- internals

    def _held(self, merchant_id: str, sku: str) -> bool:
        key = (merchant_id, sku)
        if key in self._skus:
            return self._skus[key] is not None
        return False

    def _index(self, change: Change) -> None:
        product = change.product
        merchant_id = product.merchant_id
        # The change's own product, not a copy: it is the very object commit_rows will write,
        # and a use case never touches a product once committed (it returns it); `get`
        # hands out copies, since a use case changes what it reads.
        self._products[(merchant_id, product.id)] = product
        if change.expected_version == 0:
            self._skus[(merchant_id, product.sku)] = SkuOwner(product.sku, product.id)
        for sku in change.skus_released:
            self._skus[(merchant_id, sku)] = None
        for claim in change.skus_claimed:
            self._skus[(merchant_id, claim.sku)] = claim

    def _reindex(self) -> None:
        self._products.clear()
        self._skus.clear()
        for change in self.changes:
            self._index(change)
