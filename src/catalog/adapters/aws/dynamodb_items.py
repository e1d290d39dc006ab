"""Keys and items of the catalog table, and their mapping to and from the domain.

docs/dynamodb.md is the map of this module: every key shape and item type is described there.
Items are low-level attribute-value dicts ({"S": ...}, {"N": ...}); documents travel as JSON
strings so numbers keep exactly the value the domain wrote.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct

from catalog.adapters.event_documents import event_to_document
from catalog.adapters.product_documents import (
    history_from_document,
    history_to_document,
    product_from_document,
    product_to_document,
)
from catalog.adapters.requirements_documents import requirements_from_document
from catalog.adapters.stored_values import compact_json, from_micros, micros
from catalog.adapters.type_documents import type_from_document, type_to_document
from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.events import DomainEvent
from catalog.domain.history import HistoryEntry
from catalog.domain.listing import LIVE_STATES
from catalog.domain.product import Product
from catalog.domain.product_types import ProductType
from catalog.service.ports import IdempotencyRecord, SkuOwner

Item = dict[str, Any]  # attribute name -> low-level attribute value

# Attribute names (docs/dynamodb.md). `item_type`, `event` and `ttl` are also read by the
# stream relay: their names and meaning are fixed.
PK, SK = "pk", "sk"
GSI1, GSI1_PK, GSI1_SK = "gsi1", "gsi1pk", "gsi1sk"
GSI2, GSI2_PK, GSI2_SK = "gsi2", "gsi2pk", "gsi2sk"
GSI3, GSI3_PK, GSI3_SK = "gsi3", "gsi3pk", "gsi3sk"
ITEM_TYPE, TTL = "item_type", "ttl"
# On a product type item: how many products have the type (absent: none). Product commits
# maintain it; a type's own writes never set it, and its delete is conditioned on it.
IN_USE = "in_use"


class KeySchema(Struct, frozen=True):
    """The key attributes a Query names: the table's own, or an index's (`Index`)."""

    hash_key: str
    range_key: str


class Index(KeySchema, frozen=True):
    """A global secondary index; it projects every attribute (docs/dynamodb.md)."""

    name: str


TABLE_KEYS = KeySchema(PK, SK)
ALL_PRODUCTS = Index(GSI1_PK, GSI1_SK, GSI1)  # a merchant's products, by id
# The same index, in another partition per merchant: its product types, by key.
ALL_TYPES = ALL_PRODUCTS
BY_STATUS = Index(GSI2_PK, GSI2_SK, GSI2)  # by status; also a channel's listings by status
# Sparse: only typed products carry its keys, so untyped ones are in no type's partition.
BY_TYPE = Index(GSI3_PK, GSI3_SK, GSI3)
INDEXES = (ALL_PRODUCTS, BY_STATUS, BY_TYPE)

PRODUCT_SK = "PRODUCT"
# Every channel's requirements, platform-wide: one item outside every merchant's partitions
# (theirs start with M#), so a product write reads them in the same BatchGetItem as its type.
REQUIREMENTS_PK = "CHANNELS"
REQUIREMENTS_SK = "REQUIREMENTS"
TYPE_SK = "TYPE"
# Every merchant that has products, one item each under one partition outside every
# merchant's (theirs start with M#): the walk of all merchants is a Query, not a Scan.
MERCHANTS_PK = "MERCHANTS"
SKU_SK = "SKU"
IDEMPOTENCY_SK = "IDEM"
HISTORY_PREFIX = "H#"
EVENT_PREFIX = "E#"
VERSION_DIGITS = 10  # zero padding: versions sort as strings

EVENT_RETENTION = timedelta(days=7)  # outbox items outlive the stream's 24 h of records


# ---------------------------------------------------------------------- keys


def part(value: str) -> str:
    """A caller-supplied key part, escaped so a `#` in it can never act as a separator."""
    return value.replace("%", "%25").replace("#", "%23")


def unpart(value: str) -> str:
    """The value `part` escaped (read back from a key DynamoDB returned)."""
    return value.replace("%23", "#").replace("%25", "%")


def merchant_prefix(merchant_id: str) -> str:
    return f"M#{part(merchant_id)}#"


def product_partition(merchant_id: str, product_id: str) -> str:
    return f"{merchant_prefix(merchant_id)}P#{part(product_id)}"


def type_partition(merchant_id: str, key: str) -> str:
    return f"{merchant_prefix(merchant_id)}T#{part(key)}"


def event_partition(event: DomainEvent) -> str:
    """An event is kept in the partition of what it is about: its product or product type,
    or (a channel's requirements) the partition of every channel's requirements."""
    if event.merchant_id is None:
        return REQUIREMENTS_PK
    if event.product_id is not None:
        return product_partition(event.merchant_id, event.product_id)
    assert event.product_type is not None
    return type_partition(event.merchant_id, event.product_type)


def type_key(merchant_id: str, key: str) -> Item:
    return {PK: str_attr(type_partition(merchant_id, key)), SK: str_attr(TYPE_SK)}


def all_types_partition(merchant_id: str) -> str:
    """The gsi1 partition of a merchant's product types."""
    return f"{merchant_prefix(merchant_id)}TYPES"


def product_key(merchant_id: str, product_id: str) -> Item:
    return {PK: str_attr(product_partition(merchant_id, product_id)), SK: str_attr(PRODUCT_SK)}


def all_products_partition(merchant_id: str) -> str:
    return f"{merchant_prefix(merchant_id)}PRODUCTS"


def type_products_partition(merchant_id: str, key: str) -> str:
    """The gsi3 partition of the merchant's products of type `key`."""
    return f"{type_partition(merchant_id, key)}#PRODUCTS"


def merchant_key(merchant_id: str) -> Item:
    return {PK: str_attr(MERCHANTS_PK), SK: str_attr(part(merchant_id))}


def status_partition(merchant_id: str, status: str) -> str:
    return f"{merchant_prefix(merchant_id)}S#{part(status)}"


def channel_partition(merchant_id: str, channel: str) -> str:
    return f"{merchant_prefix(merchant_id)}C#{part(channel)}"


def channel_status_partition(merchant_id: str, channel: str, status: str) -> str:
    return f"{channel_partition(merchant_id, channel)}#S#{part(status)}"


def sku_key(merchant_id: str, sku: str) -> Item:
    return {PK: str_attr(f"{merchant_prefix(merchant_id)}SKU#{part(sku)}"), SK: str_attr(SKU_SK)}


def idempotency_key(merchant_id: str, key: str) -> Item:
    return {
        PK: str_attr(f"{merchant_prefix(merchant_id)}IDEM#{part(key)}"),
        SK: str_attr(IDEMPOTENCY_SK),
    }


def history_sort_key(version: int) -> str:
    return f"{HISTORY_PREFIX}{version:0{VERSION_DIGITS}d}"


def event_sort_key(version: int, index: int) -> str:
    return f"{EVENT_PREFIX}{version:0{VERSION_DIGITS}d}#{index:03d}"


def sortable_id(product_id: str) -> str:
    """A product id as index sort keys hold it (a ULID is unchanged)."""
    return part(product_id)


# ---------------------------------------------------------------------- items


def product_item(product: Product, doc: str | None = None) -> Item:
    """`doc`: the product's document as the store encoded it already (StoredChange)."""
    status = product.status.value
    sort = sortable_id(product.id)
    item = {
        **product_key(product.merchant_id, product.id),
        ITEM_TYPE: str_attr("PRODUCT"),
        "doc": str_attr(doc if doc is not None else compact_json(product_to_document(product))),
        "version": num_attr(product.version),
        "status": str_attr(status),
        GSI1_PK: str_attr(all_products_partition(product.merchant_id)),
        GSI1_SK: str_attr(sort),
        GSI2_PK: str_attr(status_partition(product.merchant_id, status)),
        GSI2_SK: str_attr(sort),
    }
    if product.product_type is not None:
        # Every commit puts the whole item: a product that changes type moves to the new
        # type's partition, one that becomes untyped leaves gsi3.
        item[GSI3_PK] = str_attr(type_products_partition(product.merchant_id, product.product_type))
        item[GSI3_SK] = str_attr(sort)
    return item


def merchant_item(merchant_id: str) -> Item:
    """The registry entry of a merchant that has products; put again by every registration,
    always the same item."""
    return {
        **merchant_key(merchant_id),
        ITEM_TYPE: str_attr("MERCHANT"),
        "merchant_id": str_attr(merchant_id),
    }


def history_item(merchant_id: str, entry: HistoryEntry, doc: str | None = None) -> Item:
    if doc is None:
        doc = compact_json(history_to_document(entry))
    return {
        PK: str_attr(product_partition(merchant_id, entry.product_id)),
        SK: str_attr(history_sort_key(entry.version)),
        ITEM_TYPE: str_attr("HISTORY"),
        "doc": str_attr(doc),
    }


def event_item(event: DomainEvent, index: int, committed_at: datetime) -> Item:
    """The outbox item of one event; the stream relay reads `item_type`, `event` and `ttl`."""
    sort_key = event_sort_key(event.version, index)
    if event.product_id is None:
        # Channels' requirements events share one partition, and two channels may be at the
        # same version: the id keeps each event its own item. So does it for a type:
        # a deleted type's key may be taken again, and the new type's versions start over
        # at 1: its id keeps each event its own item. Otherwise a recreated type's first
        # event would overwrite the old type's (kept 7 days), a MODIFY the relay skips.
        sort_key += f"#{part(event.id)}"
    return {
        PK: str_attr(event_partition(event)),
        SK: str_attr(sort_key),
        ITEM_TYPE: str_attr("EVENT"),
        "event": str_attr(compact_json(event_to_document(event))),
        TTL: num_attr(epoch_seconds(committed_at + EVENT_RETENTION)),
    }


def listing_key(merchant_id: str, channel: str, product_id: str) -> Item:
    return {
        PK: str_attr(channel_partition(merchant_id, channel)),
        SK: str_attr(sortable_id(product_id)),
    }


def listing_item(product: Product, channel: str) -> Item:
    """The index item that puts `product` on its live listing of `channel`."""
    status = product.status.value
    return {
        **listing_key(product.merchant_id, channel, product.id),
        ITEM_TYPE: str_attr("LISTING"),
        "product_id": str_attr(product.id),
        "state": str_attr(str(product.listings[channel].state)),
        "status": str_attr(status),
        GSI2_PK: str_attr(channel_status_partition(product.merchant_id, channel, status)),
        GSI2_SK: str_attr(sortable_id(product.id)),
    }


def type_item(product_type: ProductType) -> Item:
    """A product type as a new item; revisions update these attributes in place (never
    `in_use`, see type_revision)."""
    return {**type_key(product_type.merchant_id, product_type.key), **type_revision(product_type)}


def type_revision(product_type: ProductType) -> Item:
    """Every attribute of a type item a type's own write sets: all but the key and `in_use`."""
    return {
        ITEM_TYPE: str_attr("TYPE"),
        "doc": str_attr(compact_json(type_to_document(product_type))),
        "version": num_attr(product_type.version),
        GSI1_PK: str_attr(all_types_partition(product_type.merchant_id)),
        GSI1_SK: str_attr(part(product_type.key)),
    }


def requirements_key() -> Item:
    return {PK: str_attr(REQUIREMENTS_PK), SK: str_attr(REQUIREMENTS_SK)}


def requirements_item(requirements: RequirementsSet, doc: str) -> Item:
    """The item of every channel's requirements; `doc` is their stored document (JSON) and
    `version` the set's, a write's condition."""
    return {
        **requirements_key(),
        ITEM_TYPE: str_attr("REQUIREMENTS"),
        "doc": str_attr(doc),
        "version": num_attr(requirements.version),
    }


def sku_item(product: Product) -> Item:
    return {
        **sku_key(product.merchant_id, product.sku),
        ITEM_TYPE: str_attr("SKU"),
        "product_id": str_attr(product.id),
    }


def variant_sku_item(merchant_id: str, owner: SkuOwner) -> Item:
    """The guard of a variant's SKU: the same key as a product's, so one holds it at most."""
    assert owner.variant_id is not None
    return {
        **sku_key(merchant_id, owner.sku),
        ITEM_TYPE: str_attr("SKU"),
        "product_id": str_attr(owner.product_id),
        "variant_id": str_attr(owner.variant_id),
    }


def sku_owner_from_item(sku: str, item: Item) -> SkuOwner:
    variant = item.get("variant_id")
    return SkuOwner(sku, item["product_id"]["S"], variant["S"] if variant else None)


def idempotency_item(record: IdempotencyRecord) -> Item:
    return {
        **idempotency_key(record.merchant_id, record.key),
        ITEM_TYPE: str_attr("IDEMPOTENCY"),
        "fingerprint": str_attr(record.fingerprint),
        "product": str_attr(compact_json(product_to_document(record.product))),
        "expires_at": num_attr(micros(record.expires_at)),
        # TTL deletion lags (up to days): reads compare expires_at, the TTL only cleans up.
        TTL: num_attr(epoch_seconds(record.expires_at)),
    }


def is_live_on(product: Product, channel: str) -> bool:
    listing = product.listings.get(channel)
    return listing is not None and listing.state in LIVE_STATES


# ---------------------------------------------------------------------- reading back


def product_from_item(item: Item) -> Product:
    return product_from_document(json.loads(item["doc"]["S"]))


def type_from_item(item: Item) -> ProductType:
    return type_from_document(json.loads(item["doc"]["S"]))


def requirements_from_item(item: Item) -> RequirementsSet:
    return requirements_from_document(json.loads(item["doc"]["S"]))


def history_from_item(item: Item) -> HistoryEntry:
    return history_from_document(json.loads(item["doc"]["S"]))


def idempotency_from_item(merchant_id: str, key: str, item: Item) -> IdempotencyRecord:
    return IdempotencyRecord(
        merchant_id=merchant_id,
        key=key,
        fingerprint=item["fingerprint"]["S"],
        product=product_from_document(json.loads(item["product"]["S"])),
        expires_at=from_micros(int(item["expires_at"]["N"])),
    )


def item_size(item: Item) -> int:
    """An upper bound of DynamoDB's size of an item made of S and N attributes."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        else:  # N: at most one byte per digit, plus one
            size += len(value["N"]) + 1
    return size


# ---------------------------------------------------------------------- values


def epoch_seconds(moment: datetime) -> int:
    return math.ceil(micros(moment) / 1_000_000)


def str_attr(value: str) -> dict[str, str]:
    return {"S": value}


def num_attr(value: int) -> dict[str, str]:
    return {"N": str(value)}
