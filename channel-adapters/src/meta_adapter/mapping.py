"""Effective product view -> Meta catalog item (`items_batch`, `item_type=PRODUCT_ITEM`).

One Meta catalog feeds both Facebook and Instagram shops, so one adapter serves both. The
field-by-field table is in channel-adapters/README.md, "Meta mapping".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channel_kit import ProductView
from channel_kit.requirements import is_empty, missing, required

#: What Meta requires of every item that pointers can say (README, "Meta mapping"), READY's
#: needs first in the catalog's order, so both list what is missing alike. Declared to the
#: catalog; the either-or rules below are not (a pointer is required, with no alternative).
REQUIREMENTS = required(
    "/name",
    "/description",
    "/price",
    "/images",
    "/attributes/condition",
    "/attributes/link",
)

#: The item field each declared pointer fills, to name both in a FAILED message.
FIELD_OF = {
    "/name": "title",
    "/description": "description",
    "/price": "price",
    "/images": "image_link",
    "/attributes/condition": "condition",
    "/attributes/link": "link",
}

#: Meta identifies the product by its brand or by a global or manufacturer part number: any
#: one of them will do, which the catalog's all-required pointers cannot express.
IDENTIFIERS = ("brand", "gtin", "mpn")


@dataclass(frozen=True)
class ItemMapping:
    retailer_id: str
    data: dict[str, Any]
    missing: list[str]


def missing_fields(view: ProductView, requirements: Sequence[str]) -> list[str]:
    """The declared pointers the view misses, as the catalog finds them, each with the item
    field it fills; then the adapter-side either-or rules (availability, brand or GTIN)."""
    attributes = view.attributes
    found = [
        f"{FIELD_OF.get(pointer, pointer)} ({pointer})" for pointer in missing(view, requirements)
    ]
    if _availability(attributes) is None:
        found.append("availability (/attributes/availability or /attributes/available_quantity)")
    if all(is_empty(attributes.get(name)) for name in IDENTIFIERS):
        found.append("brand (/attributes/brand, or /attributes/gtin or /attributes/mpn)")
    return found


def map_item(view: ProductView) -> ItemMapping:
    attributes = view.attributes
    retailer_id = str(attributes.get("retailer_id") or view.sku)
    data: dict[str, Any] = {"id": retailer_id}

    def put(field: str, value: Any) -> None:
        if not is_empty(value):
            data[field] = value

    put("title", view.name)
    put("description", view.description)
    put("availability", _availability(attributes))
    put("condition", attributes.get("condition"))
    put("price", view.price.formatted() if view.price else None)
    put("link", attributes.get("link"))
    put("image_link", view.images[0].url if view.images else None)
    if len(view.images) > 1:
        data["additional_image_link"] = [image.url for image in view.images[1:]]
    for name in IDENTIFIERS:
        put(name, attributes.get(name))
    return ItemMapping(retailer_id, data, missing_fields(view, REQUIREMENTS))


def _availability(attributes: Mapping[str, Any]) -> str | None:
    explicit = attributes.get("availability")
    if not is_empty(explicit):
        return str(explicit)
    return _from_stock(attributes.get("available_quantity"))


def _from_stock(quantity: Any) -> str | None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return None
    return "in stock" if quantity > 0 else "out of stock"
