"""Effective product view -> Mercado Libre item (`POST /items`, `PUT /items/{id}`).

The field-by-field table (what comes from where, including what the catalog does not model,
such as `category_id`) is in channel-adapters/README.md, "Mercado Libre mapping". A product
with variants is one item with `variations` (ML's classic model): each variant a variation
with its attribute combination, stock, `SELLER_SKU` and pictures, all at one price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channel_kit import ChannelRejected, Money, ProductView, Variant
from channel_kit.requirements import is_empty, missing, named, of_variants, required

#: Generic product attributes that have a standard Mercado Libre attribute id.
GENERIC_ATTRIBUTES = {
    "brand": "BRAND",
    "model": "MODEL",
    "color": "COLOR",
    "size": "SIZE",
    "gtin": "GTIN",
}

#: Sent on update: category, listing type, buying mode, condition and currency cannot change.
UPDATABLE_FIELDS = ("title", "price", "available_quantity", "pictures", "attributes", "variations")

#: A variation's attribute carrying the variant's SKU (ML: not `seller_custom_field`).
SELLER_SKU = "SELLER_SKU"


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
    field it fills; then what pointers cannot say: the stock must be an integer, and with
    variants, each variation needs its axis values and a stock."""
    found = named(view, missing(view, requirements), FIELD_OF)
    quantity = view.attributes.get("available_quantity")
    if not is_empty(quantity) and not _is_integer(quantity):
        found.append("available_quantity (/attributes/available_quantity, an integer)")
    if view.options:
        found += _variation_gaps(view)
    return found


def _variation_gaps(view: ProductView) -> list[str]:
    if not view.variants:
        return ["variations (/variants): the product has options but no variant"]
    found = []
    for axis in view.options:
        lacking = [v.sku for v in view.variants if is_empty(v.options.get(axis))]
        if lacking:
            found.append(
                f"{attribute_id(axis)} of the attribute combination"
                f" (/variants/<vid>/options/{axis}) of {of_variants(lacking)}"
            )
    unstocked = [v.sku for v in view.variants if stock_of(v) is None]
    if unstocked:
        found.append(
            "available_quantity (/variants/<vid>/stock, or an integer"
            f" /attributes/available_quantity) of {of_variants(unstocked)}"
        )
    return found


def attribute_id(axis: str) -> str:
    """The ML attribute an option axis combines: the standard one (`color` -> COLOR), else
    the axis name in capitals (`voltage` -> VOLTAGE), as ML names its attributes."""
    return GENERIC_ATTRIBUTES.get(axis, axis.upper())


def stock_of(variant: Variant) -> int | None:
    """The variant's stock; when it has none (null), its effective `available_quantity`
    attribute (the product's unless the variant or the channel says otherwise), as a product
    without variants is stocked. None when neither is an integer: ML needs a quantity."""
    if variant.stock is not None:
        return variant.stock
    quantity = variant.attributes.get("available_quantity")
    return quantity if _is_integer(quantity) else None


def one_price(view: ProductView) -> Money | None:
    """The price every variation shares (ML's classic model has one price per item). Raises
    ChannelRejected, before any call, when the variants' effective prices on this channel
    differ: ML would charge the highest for all of them."""
    prices: dict[Money, list[str]] = {}
    for variant in view.variants:
        if variant.price is not None:
            prices.setdefault(variant.price, []).append(variant.sku)
    if len(prices) > 1:
        listed = "; ".join(
            f"{price.formatted()} ({', '.join(skus)})" for price, skus in prices.items()
        )
        raise ChannelRejected(
            "Mercado Libre lists every variation of an item at one price, and the variants"
            f" differ on {view.channel}: {listed}. Give them one price on {view.channel}"
            f" (channel_overrides.{view.channel}.variants.<vid>.price)"
        )
    return next(iter(prices), None)


@dataclass(frozen=True)
class ItemMapping:
    item: dict[str, Any]
    missing: list[str]


def map_item(view: ProductView, defaults: Mapping[str, Any]) -> ItemMapping:
    """The item for `POST /items`; `missing` names what it lacks (no call should be made).
    Raises ChannelRejected when variants differ in price (`one_price`)."""
    attributes = view.attributes
    item: dict[str, Any] = {}

    def put(field: str, value: Any) -> None:
        if not is_empty(value):
            item[field] = value

    put("title", view.name)
    put("category_id", attributes.get("category_id"))
    price = one_price(view) if view.variants else view.price
    if price is not None:
        item["price"] = _number(price)
        item["currency_id"] = price.currency
    quantity = attributes.get("available_quantity")
    put("available_quantity", quantity if _is_integer(quantity) else None)
    for field in DEFAULTABLE:
        value = attributes.get(field)
        put(field, defaults.get(field) if is_empty(value) else value)
    put("pictures", [{"source": image.url} for image in view.images])
    item["attributes"] = _ml_attributes(attributes)
    if view.variants:
        variations = [_variation(view, variant, price) for variant in view.variants]
        item["variations"] = variations
        # ML's item quantity is its variations' sum.
        quantities = [v.get("available_quantity") for v in variations]
        put("available_quantity", sum(q for q in quantities if q is not None))
        # What varies is said per variation, not for the item.
        varying = {attribute_id(axis) for axis in view.options}
        if any(variant.barcode for variant in view.variants):
            varying.add("GTIN")
        item["attributes"] = [a for a in item["attributes"] if a["id"] not in varying]
    if view.description:
        item["description"] = {"plain_text": view.description}
    item["seller_custom_field"] = view.sku
    return ItemMapping(item, missing_fields(view, requirements_for(defaults)))


def _variation(view: ProductView, variant: Variant, price: Money | None) -> dict[str, Any]:
    attributes = [{"id": SELLER_SKU, "value_name": variant.sku}]
    if variant.barcode:
        attributes.append({"id": "GTIN", "value_name": variant.barcode})
    variation: dict[str, Any] = {
        "attribute_combinations": [
            {"id": attribute_id(axis), "value_name": variant.options[axis]}
            for axis in view.options
            if not is_empty(variant.options.get(axis))
        ],
        # Its own images, else the product's: ML shows a variation with its pictures, which
        # must be among the item's (`picture_ids` may name them by source URL).
        "picture_ids": [image.url for image in view.images_of(variant) or view.images],
        "attributes": attributes,
    }
    if price is not None:
        variation["price"] = _number(price)
    quantity = stock_of(variant)
    if quantity is not None:
        variation["available_quantity"] = quantity
    return variation


def _number(price: Money) -> int | float:
    """Major units as a JSON number: 11999 USD cents -> 119.99; zero-decimal currencies as
    integers."""
    major = price.major()
    return int(major) if price.exponent == 0 else float(major)


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
