"""The effective product view an adapter publishes: `GET .../products/{id}?channel=<c>`.

The catalog has already applied the channel's overrides (name, description, price replaced,
attributes merge-patched), so an adapter maps this view and nothing else. Only the fields of
the public contract (docs/api.md) are read; unknown fields are kept in `raw` and ignored.

Variants (DESIGN.md section 10): in the channel's view each variant's `price` and `attributes`
are already the effective ones on that channel (its override, else its own, else the
product's), so an adapter maps them as given. A product without options has `options: []` and
`variants: []`; a catalog older than variants has neither member, read the same way.
This package cannot import the catalog, so the catalog's suite holds the contract test
(tests/api/test_channel_view_contract.py): every field read here is a member its OpenAPI
document names, and reads the value the catalog answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# ISO 4217 minor-unit exponents that are not 2. The catalog stores integer minor units; the
# channels want major units (Mercado Libre a JSON number, Meta "12.99 USD").
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            *("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX"),
            *("UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


@dataclass(frozen=True)
class Money:
    amount: int  # minor units, as the catalog stores it
    currency: str  # ISO 4217

    @property
    def exponent(self) -> int:
        return _EXPONENTS.get(self.currency, 2)

    def major(self) -> Decimal:
        """The amount in major units, exact (12999 USD cents -> Decimal('129.99'))."""
        return Decimal(self.amount).scaleb(-self.exponent)

    def formatted(self) -> str:
        """`<major with its minor digits> <code>`, e.g. '129.99 USD' or '15000 CLP'."""
        return f"{self.major():.{self.exponent}f} {self.currency}"


@dataclass(frozen=True)
class Image:
    id: str
    url: str
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    alt: str | None = None


@dataclass(frozen=True)
class Variant:
    """One variant as the channel's view gives it: `price` and `attributes` effective on the
    channel (`price` None only when neither the variant nor the product has one)."""

    id: str
    sku: str
    options: Mapping[str, str]  # axis -> value, one per axis of the product's `options`
    price: Money | None
    attributes: Mapping[str, Any]
    image_ids: tuple[str, ...]  # ids of the product's images, in the variant's order
    barcode: str | None = None  # a GTIN with its check digit
    stock: int | None = None  # the quantity channels may offer; None: not said

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Variant:
        stock = document.get("stock")
        return cls(
            id=str(document["id"]),
            sku=str(document["sku"]),
            options={str(k): str(v) for k, v in (document.get("options") or {}).items()},
            price=_money(document.get("price")),
            attributes=dict(document.get("attributes") or {}),
            image_ids=tuple(str(i) for i in document.get("image_ids") or []),
            barcode=document.get("barcode"),
            stock=None if stock is None else int(stock),
        )


@dataclass(frozen=True)
class Listing:
    """This channel's listing as the catalog records it (docs/channels.md)."""

    state: str  # PENDING | PUBLISHED | FAILED | UNPUBLISHING | UNPUBLISHED
    external_id: str | None = None
    external_url: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ProductView:
    id: str
    merchant_id: str
    sku: str
    status: str
    version: int
    channel: str
    name: str | None
    description: str | None
    price: Money | None
    attributes: Mapping[str, Any]
    images: tuple[Image, ...]
    listing: Listing | None
    #: The variant axes, in order (`["color", "size"]`); empty for a product without variants.
    options: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def images_of(self, variant: Variant) -> tuple[Image, ...]:
        """The variant's own images (its `image_ids` resolved among the product's), in its
        order; empty when it names none."""
        by_id = {image.id: image for image in self.images}
        return tuple(by_id[i] for i in variant.image_ids if i in by_id)

    @classmethod
    def from_json(cls, document: Mapping[str, Any], channel: str) -> ProductView:
        price = document.get("price")
        listing = (document.get("listings") or {}).get(channel)
        return cls(
            id=str(document["id"]),
            merchant_id=str(document["merchant_id"]),
            sku=str(document["sku"]),
            status=str(document["status"]),
            version=int(document["version"]),
            channel=channel,
            name=document.get("name"),
            description=document.get("description"),
            price=_money(price),
            attributes=dict(document.get("attributes") or {}),
            images=tuple(
                Image(
                    id=str(image["id"]),
                    url=str(image["url"]),
                    content_type=image.get("content_type"),
                    width=image.get("width"),
                    height=image.get("height"),
                    alt=image.get("alt"),
                )
                for image in document.get("images") or []
            ),
            listing=(
                Listing(
                    state=str(listing["state"]),
                    external_id=listing.get("external_id"),
                    external_url=listing.get("external_url"),
                    message=listing.get("message"),
                )
                if listing
                else None
            ),
            options=tuple(str(axis) for axis in document.get("options") or []),
            variants=tuple(Variant.from_json(v) for v in document.get("variants") or []),
            raw=document,
        )


def _money(document: Mapping[str, Any] | None) -> Money | None:
    if not document:
        return None
    return Money(int(document["amount"]), str(document["currency"]))
