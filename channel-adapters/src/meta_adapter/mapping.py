"""Effective product view -> Meta catalog items (`items_batch`, `item_type=PRODUCT_ITEM`).

One Meta catalog feeds both Facebook and Instagram shops, so one adapter serves both. A
product without variants is one item; a product with variants is one item per variant, all
sharing `item_group_id` (Meta has no parent item: the group is the product). The
field-by-field table is in channel-adapters/README.md, "Meta mapping".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channel_kit import Image, ProductView, Variant
from channel_kit.requirements import is_empty, missing, named, of_variants, required

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

#: Meta's own variant fields; any other axis goes into `additional_variant_attribute`.
VARIANT_FIELDS = ("color", "size", "gender", "pattern", "material", "age_group")

_AVAILABILITY_SOURCES = "/attributes/availability or /attributes/available_quantity"
_IDENTIFIER_SOURCES = "/attributes/brand, or /attributes/gtin or /attributes/mpn"


@dataclass(frozen=True)
class ItemMapping:
    retailer_id: str
    data: dict[str, Any]
    missing: list[str]


@dataclass(frozen=True)
class ListingMapping:
    """What the listing is on Meta: one item, or one per variant in a group."""

    #: The listing's external id: the item's retailer id, or the group's `item_group_id`.
    external_id: str
    #: The items' fields, each with its retailer id as `id`, in the product's variant order.
    items: list[dict[str, Any]]
    missing: list[str]

    @property
    def retailer_ids(self) -> list[str]:
        return [str(item["id"]) for item in self.items]


def missing_fields(view: ProductView, requirements: Sequence[str]) -> list[str]:
    """The declared pointers the view misses, as the catalog finds them, each with the item
    field it fills; then the adapter-side either-or rules (availability, brand or GTIN),
    on the product or, with variants, on each variant (naming the variants that miss)."""
    found = named(view, missing(view, requirements), FIELD_OF)
    if view.options:
        found += _variant_gaps(view)
        return found
    attributes = view.attributes
    if _availability(attributes) is None:
        found.append(f"availability ({_AVAILABILITY_SOURCES})")
    if not _identifiers(attributes, None):
        found.append(f"brand ({_IDENTIFIER_SOURCES})")
    return found


def _variant_gaps(view: ProductView) -> list[str]:
    if not view.variants:
        return ["variants (/variants): the product has options but no variant"]
    found = []
    for axis in view.options:
        lacking = [v.sku for v in view.variants if is_empty(v.options.get(axis))]
        if lacking:
            found.append(f"{axis} (/variants/<vid>/options/{axis}) of {of_variants(lacking)}")
    unavailable = [v.sku for v in view.variants if _variant_availability(v) is None]
    if unavailable:
        found.append(
            f"availability (/variants/<vid>/stock, or {_AVAILABILITY_SOURCES}) "
            f"of {of_variants(unavailable)}"
        )
    unidentified = [v.sku for v in view.variants if not _identifiers(v.attributes, v.barcode)]
    if unidentified:
        found.append(
            f"brand ({_IDENTIFIER_SOURCES}, or /variants/<vid>/barcode)"
            f" of {of_variants(unidentified)}"
        )
    return found


def map_listing(view: ProductView) -> ListingMapping:
    """Every item the listing is on Meta."""
    gaps = missing_fields(view, REQUIREMENTS)
    if not view.options:
        single = map_item(view)
        return ListingMapping(single.retailer_id, [single.data], gaps)
    group = item_group_id(view)
    return ListingMapping(group, [map_variant(view, v, group) for v in view.variants], gaps)


def item_group_id(view: ProductView) -> str:
    """The product's SKU groups its variants' items (Meta: "typically the parent SKU")."""
    return view.sku


def map_item(view: ProductView) -> ItemMapping:
    """The one item of a product without variants."""
    attributes = view.attributes
    retailer_id = str(attributes.get("retailer_id") or view.sku)
    data: dict[str, Any] = {"id": retailer_id}
    _put_common(data, view, attributes)
    _put(data, "availability", _availability(attributes))
    _put(data, "price", view.price.formatted() if view.price else None)
    _put_images(data, view.images)
    _put_identifiers(data, attributes, None)
    return ItemMapping(retailer_id, data, missing_fields(view, REQUIREMENTS))


def map_variant(view: ProductView, variant: Variant, group: str) -> dict[str, Any]:
    """One variant's item: every field of the product (title, description, link... from the
    variant's effective attributes), its own price, availability, images and option values."""
    attributes = variant.attributes
    data: dict[str, Any] = {"id": variant.sku, "item_group_id": group}
    _put_common(data, view, attributes)
    _put(data, "availability", _variant_availability(variant))
    _put(data, "price", variant.price.formatted() if variant.price else None)
    _put_images(data, view.images_of(variant) or view.images)
    _put_identifiers(data, attributes, variant.barcode)
    custom = []
    for axis in view.options:
        value = variant.options.get(axis)
        if axis in VARIANT_FIELDS:
            _put(data, axis, value)
        elif not is_empty(value):
            custom.append(f"{axis}:{value}")
    if custom:
        data["additional_variant_attribute"] = ",".join(custom)
    return data


def _put(data: dict[str, Any], field: str, value: Any) -> None:
    if not is_empty(value):
        data[field] = value


def _put_common(data: dict[str, Any], view: ProductView, attributes: Mapping[str, Any]) -> None:
    _put(data, "title", view.name)
    _put(data, "description", view.description)
    _put(data, "condition", attributes.get("condition"))
    _put(data, "link", attributes.get("link"))


def _put_images(data: dict[str, Any], images: Sequence[Image]) -> None:
    _put(data, "image_link", images[0].url if images else None)
    if len(images) > 1:
        data["additional_image_link"] = [image.url for image in images[1:]]


def _put_identifiers(
    data: dict[str, Any], attributes: Mapping[str, Any], barcode: str | None
) -> None:
    for name, value in _identifiers(attributes, barcode).items():
        data[name] = value


def _identifiers(attributes: Mapping[str, Any], barcode: str | None) -> dict[str, Any]:
    """brand, gtin, mpn that have a value; a variant's barcode is its GTIN."""
    found = {name: attributes.get(name) for name in IDENTIFIERS}
    if not is_empty(barcode):
        found["gtin"] = barcode
    return {name: value for name, value in found.items() if not is_empty(value)}


def _variant_availability(variant: Variant) -> str | None:
    """From the variant's stock; when it has none (null), from its effective attributes, as
    a product without variants."""
    if variant.stock is not None:
        return _from_stock(variant.stock)
    return _availability(variant.attributes)


def _availability(attributes: Mapping[str, Any]) -> str | None:
    explicit = attributes.get("availability")
    if not is_empty(explicit):
        return str(explicit)
    return _from_stock(attributes.get("available_quantity"))


def _from_stock(quantity: Any) -> str | None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return None
    return "in stock" if quantity > 0 else "out of stock"
