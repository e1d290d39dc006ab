"""Effective product view -> Mercado Libre item (`POST /items`, `PUT /items/{id}`).

The field-by-field table (what comes from where, including what the catalog does not model,
such as `category_id`) is in channel-adapters/README.md, "Mercado Libre mapping".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channel_kit import ProductView

#: Generic product attributes that have a standard Mercado Libre attribute id.
GENERIC_ATTRIBUTES = {
    "brand": "BRAND",
    "model": "MODEL",
    "color": "COLOR",
    "size": "SIZE",
    "gtin": "GTIN",
}

#: Sent on update: category, listing type, buying mode, condition and currency cannot change.
UPDATABLE_FIELDS = ("title", "price", "available_quantity", "pictures", "attributes")


@dataclass(frozen=True)
class ItemMapping:
    item: dict[str, Any]
    missing: list[str]


def map_item(view: ProductView, defaults: Mapping[str, Any]) -> ItemMapping:
    attributes = view.attributes
    item: dict[str, Any] = {}
    missing: list[str] = []

    def need(field: str, value: Any, source: str) -> None:
        if value is None or value == "" or value == []:
            missing.append(f"{field} ({source})")
        else:
            item[field] = value

    need("title", view.name, "/name")
    need("category_id", attributes.get("category_id"), "/attributes/category_id")
    if view.price is None:
        missing.extend(["price (/price)", "currency_id (/price/currency)"])
    else:
        major = view.price.major()
        item["price"] = int(major) if view.price.exponent == 0 else float(major)
        item["currency_id"] = view.price.currency
    quantity = attributes.get("available_quantity")
    need(
        "available_quantity",
        quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None,
        "/attributes/available_quantity, an integer",
    )
    for field in ("buying_mode", "listing_type_id", "condition"):
        need(field, attributes.get(field, defaults.get(field)), f"/attributes/{field}")
    need("pictures", [{"source": image.url} for image in view.images], "/images")
    item["attributes"] = _ml_attributes(attributes)
    if view.description:
        item["description"] = {"plain_text": view.description}
    item["seller_custom_field"] = view.sku
    return ItemMapping(item, missing)


def _ml_attributes(attributes: Mapping[str, Any]) -> list[dict[str, str]]:
    explicit = attributes.get("category_attributes")
    values: dict[str, str] = {}
    for name, attribute_id in GENERIC_ATTRIBUTES.items():
        if attributes.get(name) not in (None, ""):
            values[attribute_id] = str(attributes[name])
    if isinstance(explicit, Mapping):
        values.update({str(k): str(v) for k, v in explicit.items() if v is not None})
    return [{"id": key, "value_name": value} for key, value in values.items()]
