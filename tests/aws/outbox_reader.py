"""Test-only: the committed events of a DynamoDB table, read from its stream.

On AWS the outbox is read by DynamoDB Streams (docs/dynamodb.md), not through the Outbox
port. Suites that inspect committed events (the product store contract, the API tests) read
them here instead: every INSERT of an `EVENT` item on the table's stream, in the order moto
wrote them, which is commit order. No Scan: the stream is what production reads too.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.event_documents import event_from_document
from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
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
from tests.aws.stream_support import stream_records


class StreamOutboxReader:
    """`read_after` of the Outbox port over a table's stream; seq n is the n-th event."""

    def __init__(self, dynamodb: Any, streams: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._streams = streams
        self._table = table_name

    def read_after(self, seq: int, limit: int) -> list[OutboxRecord]:
        events = self._events()
        return [
            OutboxRecord(seq + offset + 1, event)
            for offset, event in enumerate(events[seq : seq + limit])
        ]

    def _events(self) -> list[Any]:
        events = []
        for record in stream_records(self._dynamodb, self._streams, self._table):
            image = record["dynamodb"].get("NewImage", {})
            if record["eventName"] == "INSERT" and image.get("item_type") == {"S": "EVENT"}:
                events.append(event_from_document(json.loads(image["event"]["S"])))
        return events


class DynamoDbStoreWithStreamOutbox:
    """A DynamoDbStore plus the stream reader: what the shared suites call a CatalogStore.

    Offsets belong to the embedded relay; on AWS, Lambda checkpoints the stream itself, so
    the Outbox contract and relay suites do not run here and these two refuse to pretend.
    """

    def __init__(self, store: DynamoDbStore, reader: StreamOutboxReader) -> None:
        self.store = store
        self._reader = reader

    def get(self, merchant_id: str, product_id: str) -> Product | None:
        return self.store.get(merchant_id, product_id)

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
        return self.store.page(
            merchant_id,
            status=status,
            channel=channel,
            limit=limit,
            position=position,
            product_type=product_type,
        )

    def merchants(self, *, limit: int, position: str | None) -> MerchantPage:
        return self.store.merchants(limit=limit, position=position)

    def history(
        self, merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> list[HistoryEntry]:
        return self.store.history(
            merchant_id, product_id, limit=limit, before_version=before_version
        )

    def idempotency_record(
        self, merchant_id: str, key: str, now: datetime
    ) -> IdempotencyRecord | None:
        return self.store.idempotency_record(merchant_id, key, now)

    def commit(self, change: Change) -> None:
        self.store.commit(change)

    def sku_owner(self, merchant_id: str, sku: str) -> SkuOwner | None:
        return self.store.sku_owner(merchant_id, sku)

    def product_type(self, merchant_id: str, key: str) -> ProductType | None:
        return self.store.product_type(merchant_id, key)

    def product_types(self, merchant_id: str, *, limit: int, position: str | None) -> TypePage:
        return self.store.product_types(merchant_id, limit=limit, position=position)

    def commit_type(self, change: TypeChange) -> None:
        self.store.commit_type(change)

    def channel_requirements(self) -> RequirementsSet:
        return self.store.channel_requirements()

    def commit_requirements(self, change: RequirementsChange) -> None:
        self.store.commit_requirements(change)

    def product_rules(
        self, merchant_id: str, type_key: str | None, *, fresh: bool = False
    ) -> ProductRules:
        return self.store.product_rules(merchant_id, type_key, fresh=fresh)

    def read_after(self, seq: int, limit: int) -> list[OutboxRecord]:
        return self._reader.read_after(seq, limit)

    def offset(self, sink: str) -> int:
        raise NotImplementedError("on AWS, the stream's consumer (Lambda) keeps its position")

    def save_offset(self, sink: str, seq: int) -> None:
        raise NotImplementedError("on AWS, the stream's consumer (Lambda) keeps its position")
