"""Effective product view -> Meta catalog item (`items_batch`, `item_type=PRODUCT_ITEM`).

One Meta catalog feeds both Facebook and Instagram shops, so one adapter serves both. The
field-by-field table is in channel-adapters/README.md, "Meta mapping".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channel_kit import ProductView


@dataclass(frozen=True)
class ItemMapping:
    retailer_id: str
    data: dict[str, Any]
    missing: list[str]


def map_item(view: ProductView) -> ItemMapping:
    attributes = view.attributes
    retailer_id = str(attributes.get("retailer_id") or view.sku)
    data: dict[str, Any] = {"id": retailer_id}
    missing: list[str] = []

    def need(field: str, value: Any, source: str) -> None:
        if value is None or value == "":
            missing.append(f"{field} ({source})")
        else:
            data[field] = value

    need("title", view.name, "/name")
    need("description", view.description, "/description")
    need(
        "availability",
        attributes.get("availability") or _availability(attributes.get("available_quantity")),
        "/attributes/availability or /attributes/available_quantity",
    )
    need("condition", attributes.get("condition"), "/attributes/condition")
    need("price", view.price.formatted() if view.price else None, "/price")
    need("link", attributes.get("link"), "/attributes/link")
    need("image_link", view.images[0].url if view.images else None, "/images")
    if len(view.images) > 1:
        data["additional_image_link"] = [image.url for image in view.images[1:]]
    need("brand", attributes.get("brand"), "/attributes/brand")
    return ItemMapping(retailer_id, data, missing)


def _availability(quantity: Any) -> str | None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return None
    return "in stock" if quantity > 0 else "out of stock"
