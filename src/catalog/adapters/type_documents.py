"""Product types as the JSON documents every store keeps (versioned like product documents,
so a later shape can upgrade what is stored)."""

from __future__ import annotations

from typing import Any

from catalog.domain.product_types import ProductType, parse_type_content
from catalog.domain.timestamps import format_time, parse_time

Document = dict[str, Any]
TYPE_SCHEMA_VERSION = 1


def type_to_document(product_type: ProductType) -> Document:
    return {
        "schema": TYPE_SCHEMA_VERSION,
        "merchant_id": product_type.merchant_id,
        "key": product_type.key,
        "version": product_type.version,
        **product_type.content.to_json(),
        "created_at": format_time(product_type.created_at),
        "updated_at": format_time(product_type.updated_at),
    }


def type_from_document(doc: Document) -> ProductType:
    content = parse_type_content(
        {name: doc[name] for name in ("name", "attributes", "additional_attributes")}
    )
    return ProductType(
        merchant_id=doc["merchant_id"],
        key=doc["key"],
        content=content,
        version=doc["version"],
        created_at=parse_time(doc["created_at"]),
        updated_at=parse_time(doc["updated_at"]),
    )
