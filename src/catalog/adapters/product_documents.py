"""Products and history entries as the JSON documents every store persists.

Both backends, the in-memory store and the idempotency records use these, so a product reads
back identically wherever it was stored. A product document carries the version of its shape
(`schema`); documents written before it was added have none and are version 1. Reading
upgrades an older document step by step to the current shape, so stored data never needs a
migration before a deploy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import Struct

from catalog.adapters.stored_values import compact_json
from catalog.domain import limits
from catalog.domain.completeness import completeness_from_json
from catalog.domain.errors import ProductTooLarge
from catalog.domain.history import FieldChange, HistoryEntry, StatusTransition
from catalog.domain.lifecycle import Status
from catalog.domain.listing import Listing, ListingState
from catalog.domain.product import Product
from catalog.domain.timestamps import format_time, parse_time
from catalog.domain.values import ChannelOverride, ImageRef, Money, VariantOverride
from catalog.domain.variants import variant_from_json
from catalog.service.ports import Change

Document = dict[str, Any]

SCHEMA = 3  # the shape product_to_document writes


def _v1_to_v2(doc: Document) -> Document:
    """Version 2 added product types: a version 1 product has none, and its completeness (not
    stored then) is computed when it is read (product_from_document)."""
    return {**doc, "schema": 2, "product_type": None, "completeness": None}


def _v2_to_v3(doc: Document) -> Document:
    """Version 3 added variants: an earlier product has no options and no variants (nor
    channel overrides of variants), so its stored completeness stands as it is."""
    return {**doc, "schema": 3, "options": [], "variants": []}


# How a document of version n becomes version n + 1. Changing the shape is: bump SCHEMA, add
# the step from the previous version here, and keep its test document (tests/contract).
UPGRADES: dict[int, Callable[[Document], Document]] = {1: _v1_to_v2, 2: _v2_to_v3}


class UnknownDocumentSchema(Exception):
    """A document written by a newer release (a rollback): this code cannot read it safely."""

    def __init__(self, schema: object) -> None:
        super().__init__(f"product document schema {schema!r}; this release reads up to {SCHEMA}")
        self.schema = schema


def upgrade(doc: Document) -> Document:
    """The document in the current shape."""
    version = doc.get("schema", 1)
    if not isinstance(version, int) or not 1 <= version <= SCHEMA:
        raise UnknownDocumentSchema(version)
    while version < SCHEMA:
        doc = UPGRADES[version](doc)
        version += 1
    return doc


def _money(raw: Document | None) -> Money | None:
    return Money(raw["amount"], raw["currency"]) if raw else None


def product_to_document(product: Product) -> Document:
    return {
        "schema": SCHEMA,
        "id": product.id,
        "merchant_id": product.merchant_id,
        "sku": product.sku,
        "product_type": product.product_type,
        "status": product.status.value,
        "version": product.version,
        "name": product.name,
        "description": product.description,
        "price": product.price.to_json() if product.price else None,
        "attributes": product.attributes,
        "options": list(product.options),
        "channel_overrides": {c: o.to_json() for c, o in product.channel_overrides.items()},
        "variants": [variant.to_json() for variant in product.variants],
        "images": [image.to_json() for image in product.images],
        "listings": {c: listing_to_document(v) for c, v in product.listings.items()},
        "completeness": product.completeness.to_json(),
        "created_at": format_time(product.created_at),
        "updated_at": format_time(product.updated_at),
    }


def product_from_document(stored: Document) -> Product:
    doc = upgrade(stored)
    product = Product(
        id=doc["id"],
        merchant_id=doc["merchant_id"],
        sku=doc["sku"],
        product_type=doc["product_type"],
        name=doc["name"],
        description=doc["description"],
        price=_money(doc["price"]),
        attributes=doc["attributes"],
        options=tuple(doc["options"]),
        channel_overrides={
            channel: ChannelOverride(
                name=raw.get("name"),
                description=raw.get("description"),
                price=_money(raw.get("price")),
                attributes=raw.get("attributes"),
                variants={
                    variant_id: VariantOverride(
                        price=_money(override.get("price")),
                        attributes=override.get("attributes"),
                    )
                    for variant_id, override in (raw.get("variants") or {}).items()
                },
            )
            for channel, raw in doc["channel_overrides"].items()
        },
        variants=[variant_from_json(raw) for raw in doc["variants"]],
        images=[ImageRef(**raw) for raw in doc["images"]],
        listings={c: listing_from_document(raw) for c, raw in doc.get("listings", {}).items()},
        status=Status(doc["status"]),
        version=doc["version"],
        created_at=parse_time(doc["created_at"]),
        updated_at=parse_time(doc["updated_at"]),
    )
    completeness = doc["completeness"]
    # Upgraded from version 1: untyped, so its completeness needs nothing but the document.
    product.completeness = (
        completeness_from_json(completeness) if completeness else product.evaluated()
    )
    return product


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
        # Only on the versions the system made: earlier entries read back as they were.
        **({"reason": entry.reason} if entry.reason is not None else {}),
        # Only on restores: every other entry reads back as before (no schema change).
        **({"restored_from": entry.restored_from} if entry.restored_from is not None else {}),
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
        reason=doc.get("reason"),  # absent from entries written before re-evaluation
        restored_from=doc.get("restored_from"),  # absent but from restores
    )


class StoredChange(Struct, frozen=True):
    """A change's product and history entry as the stores write them, encoded once: the same
    text is measured against the limit and then written (an import encodes thousands)."""

    product_document: dict[str, Any]
    product_text: str
    history_text: str


def stored_change(change: Change) -> StoredChange:
    """Every store calls this first in commit, so every backend refuses the same oversized
    products (a DynamoDB item holds 400 KB; the limit leaves room for its keys): the product
    document and the history record of the change, as stored, within MAX_DOCUMENT_BYTES."""
    document = product_to_document(change.product)
    stored = StoredChange(
        document, compact_json(document), compact_json(history_to_document(change.history))
    )
    texts = (
        ("the product", stored.product_text),
        ("the record of this change", stored.history_text),
    )
    for what, text in texts:
        size = len(text.encode())
        if size > limits.MAX_DOCUMENT_BYTES:
            raise ProductTooLarge(what, size, limits.MAX_DOCUMENT_BYTES)
    return stored
