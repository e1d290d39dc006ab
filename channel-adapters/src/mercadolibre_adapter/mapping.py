"""Effective product view -> Mercado Libre item (`POST /items`, `PUT /items/{id}`).

The field-by-field table (what comes from where, including what the catalog does not model,
such as `category_id`) is in channel-adapters/README.md, "Mercado Libre mapping".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channel_kit import ProductView
from channel_kit.requirements import is_empty, missing, required

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


#: Filled by the adapter when the product does not say: `MercadoLibreSettings.defaults`.
DEFAULTABLE = ("buying_mode", "listing_type_id", "condition")

#: The item field each declared pointer fills, to name both in a FAILED message.
FIELD_OF = {
    "/name": "title",
    "/price": "price and currency_id",
    "/images": "pictures",
    "/attributes/category_id": "category_id",
    "/attributes/available_quantity": "available_quantity",
    "/attributes/buying_mode": "buying_mode",
    "/attributes/listing_type_id": "listing_type_id",
    "/attributes/condition": "condition",
    "/attributes/brand": "BRAND attribute",
}


def requirements_for(defaults: Mapping[str, Any]) -> tuple[str, ...]:
    """What `POST /items` needs, as pointers into the view (README, "Mercado Libre mapping").

    READY's needs come first, in the catalog's order, so both list what is missing alike. A
    field with an adapter default is not required of the product. BRAND is required by most
    categories' attributes; which ones depends on the category, which pointers cannot say,
    so it is declared for every product and ML still checks the rest of the category's."""
    return required(
        "/name",
        "/price",
        "/images",
        "/attributes/category_id",
        "/attributes/available_quantity",
        *(f"/attributes/{name}" for name in DEFAULTABLE if is_empty(defaults.get(name))),
        "/attributes/brand",
    )


def missing_fields(view: ProductView, requirements: Sequence[str]) -> list[str]:
    """The declared pointers the view misses, as the catalog finds them, each with the item
    field it fills; then what pointers cannot say: the stock must be an integer."""
    found = [
        f"{FIELD_OF.get(pointer, pointer)} ({pointer})" for pointer in missing(view, requirements)
    ]
    quantity = view.attributes.get("available_quantity")
    if not is_empty(quantity) and not _is_integer(quantity):
        found.append("available_quantity (/attributes/available_quantity, an integer)")
    return found


@dataclass(frozen=True)
class ItemMapping:
    item: dict[str, Any]
    missing: list[str]


def map_item(view: ProductView, defaults: Mapping[str, Any]) -> ItemMapping:
    """The item for `POST /items`; `missing` names what it lacks (no call should be made)."""
    attributes = view.attributes
    item: dict[str, Any] = {}

    def put(field: str, value: Any) -> None:
        if not is_empty(value):
            item[field] = value

    put("title", view.name)
    put("category_id", attributes.get("category_id"))
    if view.price is not None:
        major = view.price.major()
        item["price"] = int(major) if view.price.exponent == 0 else float(major)
        item["currency_id"] = view.price.currency
    quantity = attributes.get("available_quantity")
    put("available_quantity", quantity if _is_integer(quantity) else None)
    for field in DEFAULTABLE:
        value = attributes.get(field)
        put(field, defaults.get(field) if is_empty(value) else value)
    put("pictures", [{"source": image.url} for image in view.images])
    item["attributes"] = _ml_attributes(attributes)
    if view.description:
        item["description"] = {"plain_text": view.description}
    item["seller_custom_field"] = view.sku
    return ItemMapping(item, missing_fields(view, requirements_for(defaults)))


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ml_attributes(attributes: Mapping[str, Any]) -> list[dict[str, str]]:
    explicit = attributes.get("category_attributes")
    values: dict[str, str] = {}
    for name, attribute_id in GENERIC_ATTRIBUTES.items():
        if attributes.get(name) not in (None, ""):
            values[attribute_id] = str(attributes[name])
    if isinstance(explicit, Mapping):
        values.update({str(k): str(v) for k, v in explicit.items() if v is not None})
    return [{"id": key, "value_name": value} for key, value in values.items()]
