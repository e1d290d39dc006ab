"""JSON documents for products, history entries and events: the shape every store persists.

Both backends and the idempotency records use these, so a product reads back identically
wherever it was stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalog.domain.events import DomainEvent, EventName
from catalog.domain.history import FieldChange, HistoryEntry, StatusTransition
from catalog.domain.lifecycle import Status
from catalog.domain.listing import Listing, ListingState
from catalog.domain.product import Product, image_json
from catalog.domain.values import ChannelOverride, ImageRef, Money

Document = dict[str, Any]


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z suffix and millisecond precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _money(raw: Document | None) -> Money | None:
    return Money(raw["amount"], raw["currency"]) if raw else None


def product_to_document(product: Product) -> Document:
    return {
        "id": product.id,
        "merchant_id": product.merchant_id,
        "sku": product.sku,
        "status": product.status.value,
        "version": product.version,
        "name": product.name,
        "description": product.description,
        "price": product.price.to_json() if product.price else None,
        "attributes": product.attributes,
        "channel_overrides": {c: o.to_json() for c, o in product.channel_overrides.items()},
        "images": [image_json(image) for image in product.images],
        "listings": {c: listing_to_document(v) for c, v in product.listings.items()},
        "created_at": format_time(product.created_at),
        "updated_at": format_time(product.updated_at),
    }


def product_from_document(doc: Document) -> Product:
    return Product(
        id=doc["id"],
        merchant_id=doc["merchant_id"],
        sku=doc["sku"],
        name=doc["name"],
        description=doc["description"],
        price=_money(doc["price"]),
        attributes=doc["attributes"],
        channel_overrides={
            channel: ChannelOverride(
                name=raw.get("name"),
                description=raw.get("description"),
                price=_money(raw.get("price")),
                attributes=raw.get("attributes"),
            )
            for channel, raw in doc["channel_overrides"].items()
        },
        images=[ImageRef(**raw) for raw in doc["images"]],
        listings={c: listing_from_document(raw) for c, raw in doc.get("listings", {}).items()},
        status=Status(doc["status"]),
        version=doc["version"],
        created_at=parse_time(doc["created_at"]),
        updated_at=parse_time(doc["updated_at"]),
    )


def listing_to_document(listing: Listing) -> Document:
    return {
        "state": listing.state,
        "external_id": listing.external_id,
        "external_url": listing.external_url,
        "message": listing.message,
        "requested_version": listing.requested_version,
        "updated_at": format_time(listing.updated_at),
        "extra": listing.extra,
    }


def listing_from_document(raw: Document) -> Listing:
    return Listing(
        state=ListingState(raw["state"]),
        external_id=raw.get("external_id"),
        external_url=raw.get("external_url"),
        message=raw.get("message"),
        requested_version=raw["requested_version"],
        updated_at=parse_time(raw["updated_at"]),
        extra=raw.get("extra") or {},
    )


def history_to_document(entry: HistoryEntry) -> Document:
    transition = entry.transition
    return {
        "product_id": entry.product_id,
        "version": entry.version,
        "actor": entry.actor,
        "at": format_time(entry.at),
        "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in entry.changes],
        "transition": (
            {
                "from": transition.from_status,
                "to": transition.to_status,
                "reason": transition.reason,
            }
            if transition
            else None
        ),
        "events": list(entry.events),
    }


def history_from_document(doc: Document) -> HistoryEntry:
    transition = doc["transition"]
    return HistoryEntry(
        product_id=doc["product_id"],
        version=doc["version"],
        actor=doc["actor"],
        at=parse_time(doc["at"]),
        changes=tuple(FieldChange(c["field"], c["old"], c["new"]) for c in doc["changes"]),
        transition=(
            StatusTransition(transition["from"], transition["to"], transition["reason"])
            if transition
            else None
        ),
        events=tuple(doc["events"]),
    )


def event_to_document(event: DomainEvent) -> Document:
    return {
        "id": event.id,
        "name": event.name.value,
        "merchant_id": event.merchant_id,
        "product_id": event.product_id,
        "version": event.version,
        "occurred_at": format_time(event.occurred_at),
        "data": event.data,
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
    )
