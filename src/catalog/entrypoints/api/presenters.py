"""Domain objects -> the JSON views of the HTTP contract (DESIGN.md section 4).

The one place a view is assembled, from the domain objects and never from a stored document,
so a storage change cannot change the API. Plain dicts, no model validation: GET is the hot
path, and these are serialized straight to the response. Image URLs are computed by the asset store
(`url_for` never calls the storage).
"""

from __future__ import annotations

from typing import Any

from catalog.domain.history import HistoryEntry
from catalog.domain.product import Product
from catalog.domain.product_types import ProductType
from catalog.domain.timestamps import format_time
from catalog.service.ports import AssetStore


def product_view(
    product: Product, assets: AssetStore, channel: str | None = None
) -> dict[str, Any]:
    """The product as the API shows it; with `channel`, that channel's overrides applied."""
    content = product.content_for(channel)
    price = content.price
    return {
        "id": product.id,
        "merchant_id": product.merchant_id,
        "sku": product.sku,
        "product_type": product.product_type,
        "status": product.status.value,
        "version": product.version,
        "name": content.name,
        "description": content.description,
        "price": {"amount": price.amount, "currency": price.currency} if price else None,
        "attributes": content.attributes,
        "options": list(product.options),
        "variants": _variants_view(product, channel),
        "channel_overrides": {c: o.to_json() for c, o in product.channel_overrides.items()},
        "images": [
            {
                "id": image.id,
                "url": assets.url_for(image.key),
                "content_type": image.content_type,
                "width": image.width,
                "height": image.height,
                "bytes": image.bytes,
                "alt": image.alt,
            }
            for image in product.images
        ],
        "listings": {
            c: {
                "state": listing.state,
                "external_id": listing.external_id,
                "external_url": listing.external_url,
                "message": listing.message,
                "updated_at": format_time(listing.updated_at),
            }
            for c, listing in product.listings.items()
        },
        "completeness": product.completeness.to_json(),
        "created_at": format_time(product.created_at),
        "updated_at": format_time(product.updated_at),
    }


def _variants_view(product: Product, channel: str | None) -> list[dict[str, Any]]:
    """Without a channel, each variant as stored (`price` null: it inherits the product's;
    `attributes` its own merge patch over the product's). On a channel, each one's effective
    price and attributes there (Product.variants_for), so an adapter maps them as given.
    A product without variants costs nothing more here (GET is the hot path)."""
    if not product.variants:
        return []
    variants = product.variants_for(channel) if channel else product.variants
    # Built here member by member, as the images are, rather than through Variant.to_json():
    # its generic walk over every member cost ~5 us a variant, ten times this, and a product
    # may have 250. The members and their order are VARIANT_FIELDS', after the id.
    return [
        {
            "id": variant.id,
            "sku": variant.sku,
            "options": variant.options,
            "price": (
                {"amount": variant.price.amount, "currency": variant.price.currency}
                if variant.price
                else None
            ),
            "attributes": variant.attributes,
            "image_ids": list(variant.image_ids),
            "barcode": variant.barcode,
            "stock": variant.stock,
        }
        for variant in variants
    ]


def etag(product: Product, channel: str | None = None) -> str:
    """The version is the entity tag; a channel view is another representation of it."""
    if channel:
        return f'"{product.version};channel={channel}"'
    return f'"{product.version}"'


def history_entry_view(entry: HistoryEntry) -> dict[str, Any]:
    """One version in the product's history, as the API shows it (schemas.HistoryEntryView)."""
    transition = entry.transition
    return {
        "product_id": entry.product_id,
        "version": entry.version,
        "actor": entry.actor,
        "at": format_time(entry.at),
        "changes": [
            {"field": change.field, "old": change.old, "new": change.new}
            for change in entry.changes
        ],
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
        "reason": entry.reason,
        "restored_from": entry.restored_from,
    }


def product_type_view(product_type: ProductType) -> dict[str, Any]:
    return {
        "key": product_type.key,
        "merchant_id": product_type.merchant_id,
        **product_type.content.to_json(),
        "version": product_type.version,
        "created_at": format_time(product_type.created_at),
        "updated_at": format_time(product_type.updated_at),
    }
