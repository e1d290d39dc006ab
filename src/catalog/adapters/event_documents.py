"""Domain events as the JSON documents of the outbox (what every store and the dead letters
persist, and the relays read back)."""

from __future__ import annotations

from typing import Any

from catalog.domain.events import DomainEvent, EventName
from catalog.domain.timestamps import format_time, parse_time

Document = dict[str, Any]


def event_to_document(event: DomainEvent) -> Document:
    return {
        "id": event.id,
        "name": event.name.value,
        "merchant_id": event.merchant_id,
        "product_id": event.product_id,
        "version": event.version,
        "occurred_at": format_time(event.occurred_at),
        "data": event.data,
        **({"product_type": event.product_type} if event.product_type is not None else {}),
        **({"channel": event.channel} if event.channel is not None else {}),
        **({"job_id": event.job_id} if event.job_id is not None else {}),
    }


def event_from_document(doc: Document) -> DomainEvent:
    return DomainEvent(
        id=doc["id"],
        name=EventName(doc["name"]),
        merchant_id=doc["merchant_id"],
        product_id=doc["product_id"],
        version=doc["version"],
        occurred_at=parse_time(doc["occurred_at"]),
        data=doc["data"],
        product_type=doc.get("product_type"),
        channel=doc.get("channel"),
        job_id=doc.get("job_id"),
    )
