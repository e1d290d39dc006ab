"""ProductStore on one DynamoDB table, for the AWS deployment.

Semantics are those of the in-memory reference store (adapters/memory/store.py); the shared
contract suite (tests/contract) holds this one to them too. docs/dynamodb.md describes the
table, the items and the calls each operation spends: get 1 GetItem, a page 1 Query (plus 1
BatchGetItem with a channel filter), a commit 1 TransactWriteItems; the same for product types
(1 GetItem, 1 Query, 1 TransactWriteItems); a page of merchants 1 Query. Nothing here ever
scans.

The outbox is written here (one item per event, in the commit's transaction) but read by the
table's stream, not through the Outbox port: see "Why DynamoDbStore is not an Outbox" in the doc.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from msgspec import Struct
from tenacity import RetryCallState, retry_if_exception, retry_if_result

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_items import (
    ALL_PRODUCTS,
    ALL_TYPES,
    BY_STATUS,
    BY_TYPE,
    IN_USE,
    PK,
    SK,
    TABLE_KEYS,
    TYPE_SK,
    Index,
    Item,
    KeySchema,
    num_attr,
    str_attr,
)
from catalog.adapters.aws.exceptions import (
    DynamoDbTransactionFailed,
    ItemTooLarge,
    TransactionTooLarge,
    UnprocessedKeys,
)
from catalog.adapters.product_documents import StoredChange, stored_change
from catalog.adapters.requirements_documents import stored_requirements
from catalog.adapters.retries import Backoff, last_result
from catalog.adapters.stored_values import micros
from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.errors import (
    DuplicateProductType,
    DuplicateSku,
    IdempotencyKeyRaced,
    InvalidField,
    ProductTypeInUse,
    VersionConflict,
)
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product
from catalog.domain.product_types import ProductType
from catalog.service.ports import (
    Change,
    IdempotencyRecord,
    MerchantPage,
    ProductRules,
    RequirementsChange,
    SkuOwner,
    StoredPage,
    TypeChange,
    TypePage,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

MAX_TRANSACTION_ITEMS = 100
MAX_ITEM_BYTES = 400 * 1024
MAX_BATCH_GET_KEYS = 100
# Cancellations caused only by other transactions touching the same items are retried this
# many times; every retry evaluates all conditions again.
CONFLICT_RETRIES = 3
# The store's retries wait with full jitter (adapters/retries.py): the n-th retry at most
# this times 2**n, so 0.04 s, 0.08 s, ...
CONFLICT_BACKOFF_SECONDS = 0.02
# BatchGetItem calls per chunk of keys while some come back unprocessed (throttled), with
# full-jitter backoff between them; then the page is a 503 the client may retry.
BATCH_GET_ATTEMPTS = 5
_MAX_BACKOFF_SECONDS = 1.0
_COMMIT_BACKOFF = Backoff(CONFLICT_RETRIES + 1, 2 * CONFLICT_BACKOFF_SECONDS, _MAX_BACKOFF_SECONDS)
_BATCH_GET_BACKOFF = Backoff(BATCH_GET_ATTEMPTS, 2 * CONFLICT_BACKOFF_SECONDS, _MAX_BACKOFF_SECONDS)

# The roles of the items of one transaction, so cancellation reasons map back to domain errors.
_PRODUCT, _SKU, _IDEMPOTENCY, _OTHER = "product", "sku", "idempotency", "other"
_TYPE = "type"
_REQUIREMENTS = "requirements"
_TYPE_TAKEN = "type taken"  # the type item of the type a product takes (its in_use count)

# Maps a cancelled transaction's reasons to the domain error a failed condition means;
# returns when no condition failed.
_RaiseDomainError = Callable[[Sequence[dict[str, Any]]], None]


class _Filter(Struct, frozen=True):
    """A Query's FilterExpression and the names and values it uses."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]


class _Write(Struct, frozen=True):
    role: str
    action: dict[str, Any]  # one TransactItems entry: {"Put": ...} or {"Delete": ...}
    sku: str | None = None  # the SKU a guard write is about (its DuplicateSku)


# One item of a transaction, as `change_writes` gives it: for a store that writes product
# changes inside a transaction of its own (DynamoDbJobStore, a batch of a job's rows).
TransactionWrite = _Write


class DynamoDbStore:
    """Products, product types, history, outbox items, sku guards and idempotency records of
    every merchant.

    `client` is a low-level boto3 DynamoDB client, built and owned by the caller; the store
    keeps no other state, so one instance serves any number of threads.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        requirements_max_age: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._table = table_name
        # Product writes judge completeness by every channel's requirements, one item that
        # every write of every merchant would otherwise read: each process keeps the set it
        # read last for this many seconds (product_rules). Reads of the set itself are fresh.
        self._requirements_max_age = requirements_max_age
        self._monotonic = monotonic
        self._requirements_read: tuple[float, RequirementsSet] | None = None
        # Merchants whose registry entry this process has committed: their later creations
        # leave the entry out, so parallel creations of one merchant (an import) do not all
        # contend for that one item in their transactions.
        self._registered: set[str] = set()

    # ----------------------------------------------------------------- ProductStore

    def get(self, merchant_id: str, product_id: str) -> Product | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=items.product_key(merchant_id, product_id),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return items.product_from_item(item) if item else None

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
        if channel is not None:
            return self._channel_page(merchant_id, channel, status, product_type, limit, position)
        if product_type is not None:
            return self._type_page(merchant_id, product_type, status, limit, position)
        if status is None:
            index, partition = ALL_PRODUCTS, items.all_products_partition(merchant_id)
        else:
            index, partition = BY_STATUS, items.status_partition(merchant_id, status.value)
        found, cut_short = self._query_after(index, partition, limit, position)
        products = [items.product_from_item(item) for item in found]
        return _page_of(products, limit, cut_short)

    def merchants(self, *, limit: int, position: str | None) -> MerchantPage:
        """One Query of the registry partition (`MERCHANTS`), in id order."""
        found, cut_short = self._query_after(TABLE_KEYS, items.MERCHANTS_PK, limit, position)
        ids = [item["merchant_id"]["S"] for item in found]
        if len(ids) > limit:
            ids = ids[:limit]
        elif not (cut_short and ids):
            return MerchantPage(ids, None)
        return MerchantPage(ids, ids[-1])

    def history(
        self, merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> list[HistoryEntry]:
        partition = items.product_partition(merchant_id, product_id)
        if before_version is None:
            condition = "#pk = :pk AND begins_with(#sk, :prefix)"
            values = {":prefix": str_attr(items.HISTORY_PREFIX)}
        elif before_version <= 1:
            return []
        else:
            condition = "#pk = :pk AND #sk BETWEEN :first AND :last"
            values = {
                ":first": str_attr(items.history_sort_key(1)),
                ":last": str_attr(items.history_sort_key(before_version - 1)),
            }
        if limit < 1:
            return []
        # History is not in the cost contract: it reads on past DynamoDB's 1 MB per Query so
        # the caller always gets `limit` entries when there are that many. botocore's
        # paginator follows LastEvaluatedKey and stops at MaxItems: pagination, not a retry.
        # It is bounded: without a filter every page but the last holds at least one item
        # (an item is at most 400 KB), so `limit` entries take at most `limit` Queries, and
        # nearly always one (a page of `limit` entries is far below 1 MB).
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#pk": PK, "#sk": SK},
            ExpressionAttributeValues={":pk": str_attr(partition), **values},
            ScanIndexForward=False,
            ConsistentRead=True,
            PaginationConfig={"MaxItems": limit, "PageSize": limit},
        )
        return [items.history_from_item(item) for item in pages.build_full_result()["Items"]]

    def idempotency_record(
        self, merchant_id: str, key: str, now: datetime
    ) -> IdempotencyRecord | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=items.idempotency_key(merchant_id, key),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return None
        record = items.idempotency_from_item(merchant_id, key, item)
        # TTL deletes lag behind expiry: an expired record is ignored, not trusted.
        return record if record.expires_at > now else None

    def commit(self, change: Change) -> None:
        writes = self._writes(change, stored_change(change))
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLarge(change.product.id, len(writes), MAX_TRANSACTION_ITEMS)

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            _raise_domain_error(change, writes, reasons)

        self._commit_writes(writes, raise_domain_error, change.product.id)
        if change.expected_version == 0:
            self._registered.add(change.product.merchant_id)

    # ----------------------------------------------------------------- shared transactions

    # DynamoDbJobStore writes a batch of a job's rows (many changes) and the job's progress in
    # one transaction: these give it the items `commit` would write for each change, the
    # call `commit` makes, and what `commit` remembers once a change is written.

    @property
    def client(self) -> DynamoDBClient:
        return self._client

    @property
    def table_name(self) -> str:
        return self._table

    def change_writes(self, change: Change) -> list[TransactionWrite]:
        """The items `commit(change)` writes, in its order, each checked against the item
        size (ProductTooLarge); nothing is written."""
        return self._writes(change, stored_change(change))

    @staticmethod
    def raise_change_error(
        change: Change, writes: Sequence[TransactionWrite], reasons: Sequence[dict[str, Any]]
    ) -> None:
        """Raise the domain error `commit` raises when the conditions of `writes` (the
        change's, one cancellation reason each) failed; returns when none of them did."""
        _raise_domain_error(change, writes, reasons)

    def commit_transaction(
        self,
        writes: Sequence[TransactionWrite],
        raise_domain_error: Callable[[Sequence[dict[str, Any]]], None],
        subject: str,
    ) -> None:
        """One TransactWriteItems of `writes`, retried on conflicts as `commit` is;
        `raise_domain_error` gets the cancellation reasons, one per write in order."""
        self._commit_writes(writes, raise_domain_error, subject)

    def changes_committed(self, changes: Sequence[Change]) -> None:
        """What `commit` remembers of the changes it wrote: the merchants whose registry
        entry is now written, so later creations leave it out."""
        for change in changes:
            if change.expected_version == 0:
                self._registered.add(change.product.merchant_id)

    # ----------------------------------------------------------------- product types

    def product_type(self, merchant_id: str, key: str) -> ProductType | None:
        response = self._client.get_item(
            TableName=self._table, Key=items.type_key(merchant_id, key), ConsistentRead=True
        )
        item = response.get("Item")
        return items.type_from_item(item) if item else None

    def product_types(self, merchant_id: str, *, limit: int, position: str | None) -> TypePage:
        """One Query of the merchant's types partition of gsi1, in key order."""
        partition = items.all_types_partition(merchant_id)
        found, cut_short = self._query_after(ALL_TYPES, partition, limit, position)
        types = [items.type_from_item(item) for item in found]
        if len(types) > limit:
            types = types[:limit]
        elif not (cut_short and types):
            return TypePage(types, None)
        return TypePage(types, types[-1].key)

    def commit_type(self, change: TypeChange) -> None:
        """One TransactWriteItems: the type item (Put, Update or Delete, conditioned) and
        its events."""
        product_type = change.product_type
        writes = [_Write(_TYPE, self._type_action(change))]
        for index, event in enumerate(change.events):
            event_item = items.event_item(event, index, product_type.updated_at)
            what = f"event {event.id} of product type {product_type.key}"
            writes.append(
                _Write(
                    _OTHER,
                    {"Put": {"TableName": self._table, "Item": self._sized(event_item, what)}},
                )
            )

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            _raise_type_error(change, reasons)

        # "type k": DynamoDbTransactionFailed then reads "transaction for product type k".
        self._commit_writes(writes, raise_domain_error, f"type {product_type.key}")

    def _type_action(self, change: TypeChange) -> dict[str, Any]:
        product_type = change.product_type
        key = items.type_key(product_type.merchant_id, product_type.key)
        expected = {":expected": num_attr(change.expected_version)}
        common: dict[str, Any] = {
            "TableName": self._table,
            # The old item tells a version that moved from a type in use (deletes).
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if change.deleted:
            return {
                "Delete": {
                    **common,
                    "Key": key,
                    "ConditionExpression": "#version = :expected"
                    " AND (attribute_not_exists(#in_use) OR #in_use = :zero)",
                    "ExpressionAttributeNames": {"#version": "version", "#in_use": IN_USE},
                    "ExpressionAttributeValues": {**expected, ":zero": num_attr(0)},
                }
            }
        what = f"product type {product_type.key}"
        if change.expected_version == 0:
            return {
                "Put": {
                    **common,
                    "Item": self._sized(items.type_item(product_type), what),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": PK},
                }
            }
        # An Update, not a Put: a Put would replace the item whole and lose `in_use`, which
        # product commits maintain on this item between the type's own writes.
        self._sized(items.type_item(product_type), what)
        revision = items.type_revision(product_type)
        names = {f"#a{n}": name for n, name in enumerate(revision)}
        values = {f":a{n}": value for n, value in enumerate(revision.values())}
        assignments = ", ".join(f"#a{n} = :a{n}" for n in range(len(revision)))
        return {
            "Update": {
                **common,
                "Key": key,
                "UpdateExpression": f"SET {assignments}",
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {**names, "#version": "version"},
                "ExpressionAttributeValues": {**values, **expected},
            }
        }

    # ----------------------------------------------------------------- channel requirements

    def channel_requirements(self) -> RequirementsSet:
        """One GetItem: every channel's requirements are one item."""
        response = self._client.get_item(
            TableName=self._table, Key=items.requirements_key(), ConsistentRead=True
        )
        item = response.get("Item")
        return self._remember(items.requirements_from_item(item) if item else RequirementsSet())

    def product_rules(
        self, merchant_id: str, type_key: str | None, *, fresh: bool = False
    ) -> ProductRules:
        """At most one read: the type alone (GetItem) while the requirements read last are
        younger than `requirements_max_age`, else the type and the requirements together
        (one BatchGetItem), or the requirements alone (GetItem) for an untyped product; an
        untyped product with remembered requirements costs no read at all."""
        remembered = None if fresh else self._remembered_requirements()
        if type_key is None:
            return ProductRules(None, remembered or self.channel_requirements())
        if remembered is not None:
            return ProductRules(self.product_type(merchant_id, type_key), remembered)
        type_key_item = items.type_key(merchant_id, type_key)
        found = self._batch_get_items([type_key_item, items.requirements_key()])
        product_type, requirements = None, RequirementsSet()
        for item in found:
            if item[SK]["S"] == TYPE_SK:
                product_type = items.type_from_item(item)
            else:
                requirements = items.requirements_from_item(item)
        return ProductRules(product_type, self._remember(requirements))

    def _remembered_requirements(self) -> RequirementsSet | None:
        read = self._requirements_read
        if read is None or self._monotonic() - read[0] >= self._requirements_max_age:
            return None
        return read[1]

    def _remember(self, requirements: RequirementsSet) -> RequirementsSet:
        self._requirements_read = (self._monotonic(), requirements)
        return requirements

    def commit_requirements(self, change: RequirementsChange) -> None:
        """One TransactWriteItems: the set's item, conditioned on its version, and the
        change's events (ChannelRequirementsChanged)."""
        item = items.requirements_item(change.requirements, stored_requirements(change))
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ExpressionAttributeNames": {"#version": "version"},
        }
        if change.expected_version == 0:
            put["ConditionExpression"] = "attribute_not_exists(#version)"
        else:
            put["ConditionExpression"] = "#version = :expected"
            put["ExpressionAttributeValues"] = {":expected": num_attr(change.expected_version)}
        writes = [_Write(_REQUIREMENTS, {"Put": put})]
        at = change.requirements.of(change.channel).updated_at
        for index, event in enumerate(change.events):
            event_item = items.event_item(event, index, at or event.occurred_at)
            what = f"event {event.id} of the requirements of {change.channel}"
            writes.append(
                _Write(
                    _OTHER,
                    {"Put": {"TableName": self._table, "Item": self._sized(event_item, what)}},
                )
            )

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise VersionConflict(change.channel, change.expected_version)

        self._commit_writes(writes, raise_domain_error, f"requirements of {change.channel}")
        self._remember(change.requirements)

    # ----------------------------------------------------------------- transactions

    def _commit_writes(
        self, writes: Sequence[_Write], raise_domain_error: _RaiseDomainError, subject: str
    ) -> None:
        """One TransactWriteItems of `writes`, retried while it meets nothing but other
        transactions; past the attempts the last DynamoDbTransactionFailed propagates, reasons
        attached."""

        def log_conflict(_: RetryCallState) -> None:
            logger.info("transaction conflict on product %s; retrying", subject)

        retrying = _COMMIT_BACKOFF.retrying(
            retry_if_exception(_conflicts_only), before_sleep=log_conflict
        )
        retrying(self._transact, writes, raise_domain_error, subject)

    def _transact(
        self, writes: Sequence[_Write], raise_domain_error: _RaiseDomainError, subject: str
    ) -> None:
        """One TransactWriteItems of `writes`: a failed condition raises its domain error,
        any other cancellation DynamoDbTransactionFailed."""
        request: dict[str, Any] = {
            "TransactItems": [write.action for write in writes],
            # botocore retries a failed request with the same token; DynamoDB then answers a
            # retry of a transaction that did succeed with success instead of applying it
            # twice. Each call here has its own: it is a new transaction, not a repeat of the
            # cancelled one.
            "ClientRequestToken": str(uuid.uuid4()),
        }
        try:
            self._client.transact_write_items(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [dict(r) for r in error.response.get("CancellationReasons", [])]
            raise_domain_error(reasons)
            raise DynamoDbTransactionFailed(subject, reasons) from error

    # ----------------------------------------------------------------- internals

    def _variant_sku_writes(self, change: Change) -> list[_Write]:
        """A Put of each SKU a variant takes (free: `attribute_not_exists`), a Delete of each
        one given up (held by this product); a SKU in both moves within the product: one Put
        conditioned on this product holding it (one transaction cannot write an item twice)."""
        product = change.product
        writes: list[_Write] = []
        claimed = {claim.sku: claim for claim in change.skus_claimed}
        for sku in sorted(set(change.skus_released) - set(claimed)):
            delete = {
                "TableName": self._table,
                "Key": items.sku_key(product.merchant_id, sku),
                "ConditionExpression": "product_id = :product",
                "ExpressionAttributeValues": {":product": str_attr(product.id)},
            }
            writes.append(_Write(_OTHER, {"Delete": delete}, sku))
        for sku, claim in claimed.items():
            put: dict[str, Any] = {
                "TableName": self._table,
                "Item": items.variant_sku_item(product.merchant_id, claim),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            if sku in change.skus_released:
                put["ConditionExpression"] = "product_id = :product"
                put["ExpressionAttributeValues"] = {":product": str_attr(product.id)}
            else:
                put["ConditionExpression"] = "attribute_not_exists(#pk)"
                put["ExpressionAttributeNames"] = {"#pk": PK}
            writes.append(_Write(_SKU, {"Put": put}, sku))
        return writes

    def sku_owner(self, merchant_id: str, sku: str) -> SkuOwner | None:
        """One GetItem of the SKU's guard, strongly consistent."""
        response = self._client.get_item(
            TableName=self._table, Key=items.sku_key(merchant_id, sku), ConsistentRead=True
        )
        item = response.get("Item")
        return items.sku_owner_from_item(sku, item) if item else None

    def _writes(self, change: Change, stored: StoredChange) -> list[_Write]:
        """Every item of the change's transaction, in the order docs/dynamodb.md gives."""
        product = change.product
        merchant_id = product.merchant_id
        product_put: dict[str, Any] = {
            "TableName": self._table,
            "Item": self._sized(
                items.product_item(product, stored.product_text), f"product {product.id}"
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if change.expected_version == 0:
            product_put["ConditionExpression"] = "attribute_not_exists(#pk)"
            product_put["ExpressionAttributeNames"] = {"#pk": PK}
        else:
            product_put["ConditionExpression"] = "#version = :expected"
            product_put["ExpressionAttributeNames"] = {"#version": "version"}
            product_put["ExpressionAttributeValues"] = {
                ":expected": num_attr(change.expected_version)
            }
        writes = [
            _Write(_PRODUCT, {"Put": product_put}),
            _Write(
                _OTHER,
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": self._sized(
                            items.history_item(merchant_id, change.history, stored.history_text),
                            f"history entry {change.history.version} of product {product.id}",
                        ),
                    }
                },
            ),
        ]
        for index, event in enumerate(change.events):
            event_item = items.event_item(event, index, change.history.at)
            what = f"event {event.id} of product {product.id}"
            writes.append(
                _Write(
                    _OTHER,
                    {"Put": {"TableName": self._table, "Item": self._sized(event_item, what)}},
                )
            )
        for channel in sorted(_moved_listings(change)):
            if items.is_live_on(product, channel):
                action: dict[str, Any] = {
                    "Put": {"TableName": self._table, "Item": items.listing_item(product, channel)}
                }
            else:
                key = items.listing_key(merchant_id, channel, product.id)
                action = {"Delete": {"TableName": self._table, "Key": key}}
            writes.append(_Write(_OTHER, action))
        if change.expected_version == 0:
            writes.append(
                _Write(
                    _SKU,
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": items.sku_item(product),
                            "ConditionExpression": "attribute_not_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": PK},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                )
            )
        writes += self._variant_sku_writes(change)
        if change.expected_version == 0 and merchant_id not in self._registered:
            # The merchant has a product from now on: its registry entry, the same item each
            # time (unconditioned, so a repeat is harmless), written with the product it
            # vouches for so the walk of merchants never misses one. Entries are never
            # removed, so once this process has committed one it need not write it again.
            writes.append(
                _Write(
                    _OTHER,
                    {"Put": {"TableName": self._table, "Item": items.merchant_item(merchant_id)}},
                )
            )
        record = change.idempotency
        if record is not None:
            writes.append(
                _Write(
                    _IDEMPOTENCY,
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._sized(
                                items.idempotency_item(record), f"idempotency record {record.key!r}"
                            ),
                            # Free, or held by a record that expired (TTL not yet run): the
                            # same instant as the embedded store's check, the change's time.
                            "ConditionExpression": (
                                "attribute_not_exists(#pk) OR #expires_at <= :now"
                            ),
                            "ExpressionAttributeNames": {"#pk": PK, "#expires_at": "expires_at"},
                            "ExpressionAttributeValues": {
                                ":now": num_attr(micros(change.history.at))
                            },
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                )
            )
        writes += self._type_counts(change)
        return writes

    def _type_counts(self, change: Change) -> list[_Write]:
        """The `in_use` counts of the types the product leaves and takes in this change, kept
        in its transaction so a type's delete and a product taking the type are serialized.
        Both are conditioned on the type item existing: an ADD on a missing item would create
        one. The type it leaves cannot be missing while it counts the product."""
        left, taken = _type_move(change)
        merchant_id = change.product.merchant_id
        moves = ((_OTHER, left, -1), (_TYPE_TAKEN, taken, 1))
        return [
            _Write(
                role,
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": items.type_key(merchant_id, key),
                        "UpdateExpression": "ADD #in_use :step",
                        "ConditionExpression": "attribute_exists(#pk)",
                        "ExpressionAttributeNames": {"#in_use": IN_USE, "#pk": PK},
                        "ExpressionAttributeValues": {":step": num_attr(step)},
                    }
                },
            )
            for role, key, step in moves
            if key is not None
        ]

    @staticmethod
    def _sized(item: Item, what: str) -> Item:
        size = items.item_size(item)
        if size > MAX_ITEM_BYTES:
            raise ItemTooLarge(what, size, MAX_ITEM_BYTES)
        return item

    def _query_after(
        self,
        keys: KeySchema,
        partition: str,
        limit: int,
        position: str | None,
    ) -> tuple[list[Item], bool]:
        """One Query for up to `limit + 1` items after `position`, in id order. Also tells
        whether DynamoDB stopped short of that (its 1 MB cap) with more items left."""
        response = self._client.query(**self._range_after(keys, partition, limit, position))
        found = response.get("Items", [])
        cut_short = len(found) <= limit and "LastEvaluatedKey" in response
        return found, cut_short

    def _query_filtered(
        self, keys: Index, partition: str, limit: int, position: str | None, kept: _Filter
    ) -> tuple[list[Item], str | None]:
        """One Query reading up to `limit + 1` items after `position`, in id order: the items
        `kept` keeps, and the id of the last item read when more may follow (None: the
        partition ends there)."""
        request = self._range_after(keys, partition, limit, position)
        request["FilterExpression"] = kept.expression
        request["ExpressionAttributeNames"].update(kept.names)
        request["ExpressionAttributeValues"].update(kept.values)
        response = self._client.query(**request)
        last = response.get("LastEvaluatedKey")
        # The index's sort key is the product id, escaped as every key part is.
        last_read = items.unpart(last[keys.range_key]["S"]) if last else None
        return response.get("Items", []), last_read

    def _range_after(
        self, keys: KeySchema, partition: str, limit: int, position: str | None
    ) -> dict[str, Any]:
        """The Query request of up to `limit + 1` items of `partition` after `position`."""
        condition = "#hk = :hk"
        names = {"#hk": keys.hash_key}
        values = {":hk": str_attr(partition)}
        if position is not None:
            condition += " AND #rk > :after"
            names["#rk"] = keys.range_key
            values[":after"] = str_attr(items.sortable_id(position))
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": limit + 1,
        }
        if isinstance(keys, Index):
            request["IndexName"] = keys.name  # GSIs only read eventually consistent data
        else:
            request["ConsistentRead"] = True
        return request

    def _type_page(
        self,
        merchant_id: str,
        product_type: str,
        status: Status | None,
        limit: int,
        position: str | None,
    ) -> StoredPage:
        """One Query of the type's gsi3 partition; with a status, filtered on it."""
        partition = items.type_products_partition(merchant_id, product_type)
        if status is None:
            found, cut_short = self._query_after(BY_TYPE, partition, limit, position)
            return _page_of([items.product_from_item(i) for i in found], limit, cut_short)
        # DynamoDB filters the items a Query read (`Limit` of them at most), after reading
        # them: the page may be short, even empty, while more follow. It continues after the
        # last product read, kept or not, so none is skipped and none is read twice.
        of_status = _Filter(
            "#status = :status", {"#status": "status"}, {":status": str_attr(status.value)}
        )
        found, last_read = self._query_filtered(BY_TYPE, partition, limit, position, of_status)
        products = [items.product_from_item(item) for item in found]
        if len(products) > limit:
            products = products[:limit]
            return StoredPage(products, products[-1].id)
        return StoredPage(products, last_read)

    def _channel_page(
        self,
        merchant_id: str,
        channel: str,
        status: Status | None,
        product_type: str | None,
        limit: int,
        position: str | None,
    ) -> StoredPage:
        """One Query of the channel's live-listing items, one BatchGetItem of their products
        (then kept when of `product_type`, if given)."""
        if status is None:
            partition = items.channel_partition(merchant_id, channel)
            found, cut_short = self._query_after(TABLE_KEYS, partition, limit, position)
        else:
            partition = items.channel_status_partition(merchant_id, channel, status.value)
            found, cut_short = self._query_after(BY_STATUS, partition, limit, position)
        more = len(found) > limit or cut_short
        ids = [item["product_id"]["S"] for item in found[:limit]]
        by_id = {product.id: product for product in self._batch_get(merchant_id, ids)}
        # A listing item outlives its listing only if the listing vanished from the document
        # (docs/dynamodb.md); such products are not live on the channel and are skipped.
        products = [
            by_id[product_id]
            for product_id in ids
            if product_id in by_id
            and items.is_live_on(by_id[product_id], channel)
            and (status is None or by_id[product_id].status is status)
            and (product_type is None or by_id[product_id].product_type == product_type)
        ]
        # The position follows the index, not the products kept, so skipped ones are passed.
        return StoredPage(products, ids[-1] if more and ids else None)

    def _batch_get(self, merchant_id: str, product_ids: Sequence[str]) -> list[Product]:
        products: list[Product] = []
        for start in range(0, len(product_ids), MAX_BATCH_GET_KEYS):
            chunk = product_ids[start : start + MAX_BATCH_GET_KEYS]
            keys = [items.product_key(merchant_id, p) for p in chunk]
            products += [items.product_from_item(item) for item in self._batch_get_items(keys)]
        return products

    def _batch_get_items(self, keys: list[Item]) -> list[Item]:
        """The items of up to 100 keys: BatchGetItem again for the keys it leaves
        unprocessed (over its 16 MB answer cap, or throttled), BATCH_GET_ATTEMPTS calls at
        most; then UnprocessedKeys (a 503 the client may retry)."""
        found_items: list[Item] = []
        pending: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}

        def read_pending() -> int:
            """One BatchGetItem of the pending keys; returns how many it left pending."""
            nonlocal pending
            response = self._client.batch_get_item(RequestItems=pending)
            found_items.extend(response.get("Responses", {}).get(self._table, []))
            pending = dict(response.get("UnprocessedKeys") or {})
            return len(pending.get(self._table, {}).get("Keys", []))

        retrying = _BATCH_GET_BACKOFF.retrying(retry_if_result(bool), on_exhausted=last_result)
        left: int = retrying(read_pending)
        if left:
            raise UnprocessedKeys(left, BATCH_GET_ATTEMPTS)
        return found_items


def _page_of(products: list[Product], limit: int, cut_short: bool) -> StoredPage:
    if len(products) > limit:
        kept = products[:limit]
        return StoredPage(kept, kept[-1].id)
    if cut_short and products:
        return StoredPage(products, products[-1].id)
    return StoredPage(products, None)


def _raise_domain_error(
    change: Change, writes: Sequence[_Write], reasons: Sequence[dict[str, Any]]
) -> None:
    """Raise the domain error a failed condition means, in the embedded store's precedence:
    version, then idempotency key, then sku, then the type taken. Returns when no condition
    failed."""
    failed_writes = [
        write
        for write, reason in zip(writes, reasons, strict=False)
        if reason.get("Code") == "ConditionalCheckFailed"
    ]
    failed = {write.role for write in failed_writes}
    product = change.product
    if _PRODUCT in failed:
        raise VersionConflict(product.id, change.expected_version)
    if _IDEMPOTENCY in failed:
        assert change.idempotency is not None
        raise IdempotencyKeyRaced(change.idempotency.key)
    if _SKU in failed:
        sku = next(write.sku for write in failed_writes if write.role == _SKU)
        raise DuplicateSku(sku or product.sku)
    if _TYPE_TAKEN in failed:
        # Deleted since the use case read it: what the use case says of an unknown type.
        raise InvalidField(
            "/product_type", f"the merchant has no product type {product.product_type}"
        )


def _type_move(change: Change) -> tuple[str | None, str | None]:
    """The type the product leaves and the type it takes in this change (None for each when
    it keeps its type): `type_before`, the type of the version it replaces, and its own."""
    left, taken = change.type_before, change.product.product_type
    return (None, None) if left == taken else (left, taken)


def _raise_type_error(change: TypeChange, reasons: Sequence[dict[str, Any]]) -> None:
    """Raise the domain error of a failed type condition, in MemoryStore's precedence: key
    taken, version moved, type in use. Returns when no condition failed."""
    reason = reasons[0] if reasons else {}
    if reason.get("Code") != "ConditionalCheckFailed":
        return
    key = change.product_type.key
    if change.expected_version == 0:
        raise DuplicateProductType(key)
    old = reason.get("Item")
    version_held = old is not None and int(old["version"]["N"]) == change.expected_version
    if change.deleted and version_held:
        raise ProductTypeInUse(key)
    raise VersionConflict(key, change.expected_version)


def _conflicts_only(error: BaseException) -> bool:
    """Whether a cancelled transaction met nothing but other transactions on its items."""
    if not isinstance(error, DynamoDbTransactionFailed):
        return False
    codes = {reason.get("Code", "None") for reason in error.reasons} - {"None"}
    return codes == {"TransactionConflict"}


def _moved_listings(change: Change) -> set[str]:
    """Channels whose index item may differ from the stored one: those whose state moved,
    and every live one when the product's status moved (the item carries both). Every
    listing when the previous state is unknown."""
    product, before = change.product, change.listings_before
    if before is None:
        return set(product.listings)
    moved = {c for c, lst in product.listings.items() if before.states.get(c) != lst.state}
    if before.status is not product.status:
        moved |= {c for c in product.listings if items.is_live_on(product, c)}
    return moved
