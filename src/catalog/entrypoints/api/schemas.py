"""Pydantic schemas of the HTTP contract: request bodies and views, for the OpenAPI document.

Request bodies are not validated through these models: the service's commands parse them with
the domain's parsers (service/commands.py), once, for every entrypoint, and report every bad
field at once, each named by a JSON pointer. The limits here come from domain/limits.py, so
the document states the numbers the domain enforces, and tests/api check that what the
schemas accept the API accepts.

Views are not built through these models on the hot path (the presenter builds plain dicts);
they document the responses in OpenAPI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from catalog.domain import limits
from catalog.domain.product_types import ATTRIBUTE_NAME_PATTERN, TYPE_KEY_PATTERN
from catalog.domain.values import CURRENCY_PATTERN

# Every model here is only documented (and checked against the API by tests): request bodies
# are read by the domain's parsers and views are built by the presenters. Their validators are
# built when first used, the OpenAPI document being the first use, which no cold Lambda start
# reaches (routes build their response fields on first use too: routing.DeferredRoute).
_IN = ConfigDict(extra="forbid", defer_build=True)
_VIEW = ConfigDict(defer_build=True)

TypeKey = Annotated[
    str,
    Field(
        pattern=TYPE_KEY_PATTERN.pattern,
        description="The key of one of the merchant's product types: every write checks the"
        " attributes against it (docs/product-types.md); null for none.",
        examples=["apparel"],
    ),
]
Sku = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=limits.MAX_SKU_LENGTH, pattern=limits.SKU_PATTERN.pattern
    ),
    Field(description="Stock keeping unit, unique per merchant.", examples=["TS-1"]),
]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=limits.MAX_NAME_LENGTH),
    Field(examples=["Trail shoe"]),
]
Description = Annotated[str, StringConstraints(max_length=limits.MAX_DESCRIPTION_LENGTH)]
Amount = Annotated[
    int,
    Field(
        ge=0,
        le=limits.MAX_AMOUNT,
        description="Integer amount in minor units of the currency (cents); never a float.",
        examples=[12999],
    ),
]
Currency = Annotated[
    str,
    StringConstraints(pattern=CURRENCY_PATTERN.pattern),
    Field(
        description=(
            "ISO 4217 currency code with minor units (USD 2, JPY 0, KWD 3); funds and metals"
            " without minor units (XAU, XDR, XTS, XXX) are refused."
        ),
        examples=["USD"],
    ),
]
ChannelSlug = Annotated[str, StringConstraints(pattern=limits.CHANNEL_PATTERN.pattern)]
_ATTRIBUTE_LIMITS = (
    f"At most {limits.MAX_ATTRIBUTES} keys counted over every level, nesting at most "
    f"{limits.MAX_ATTRIBUTE_DEPTH} levels, keys of at most "
    f"{limits.MAX_ATTRIBUTE_KEY_LENGTH} characters, strings of at most "
    f"{limits.MAX_ATTRIBUTE_STRING_LENGTH} characters, arrays of at most "
    f"{limits.MAX_ATTRIBUTE_ARRAY_LENGTH} items."
)
ATTRIBUTES_EXAMPLE: dict[str, Any] = {"color": "red", "size": 42, "material": "mesh"}
CHANNEL_OVERRIDES_EXAMPLE: dict[str, Any] = {
    "mercadolibre": {
        "name": "Zapatilla de trail",
        "price": {"amount": 11999, "currency": "USD"},
        "attributes": {"size": None, "talle": "42"},
    }
}

VARIANT_ID_EXAMPLE = "01JE0V1A2B3C4D5E6F7G8H9J0K"
VARIANT_OVERRIDES_EXAMPLE: dict[str, Any] = {
    VARIANT_ID_EXAMPLE: {"price": {"amount": 2300, "currency": "USD"}, "attributes": None}
}

# Named with TypeAliasType so the OpenAPI document holds each once, under components, and
# generated clients get one type (one enum, one map) instead of one per field that uses it.
Attributes = TypeAliasType(
    "Attributes",
    Annotated[
        dict[str, Any],
        Field(
            max_length=limits.MAX_ATTRIBUTES,
            description=f"Free-form JSON object (any vertical). {_ATTRIBUTE_LIMITS}",
            examples=[ATTRIBUTES_EXAMPLE],
        ),
    ],
)
AttributesPatch = TypeAliasType(
    "AttributesPatch",
    Annotated[
        dict[str, Any],
        Field(
            description="A merge patch of the attributes: a member set to `null` is removed.",
            examples=[{"color": None, "material": "mesh"}],
        ),
    ],
)
Reason = Annotated[str, StringConstraints(max_length=limits.MAX_REASON_LENGTH)]
Axis = Annotated[str, StringConstraints(pattern=ATTRIBUTE_NAME_PATTERN.pattern)]
Options = TypeAliasType(
    "Options",
    Annotated[
        list[Axis],
        Field(
            max_length=limits.MAX_OPTIONS,
            description=(
                f"The axes the product's variants differ on, in order: 0 to {limits.MAX_OPTIONS}"
                " distinct attribute names. With a product type, each is an attribute of the"
                " type marked `variant_axis`. Removing an axis drops its value from every"
                " variant; an added one leaves each variant to name a value for it"
                " (completeness reports `/variants/<vid>/options/<axis>`)."
            ),
            examples=[["color", "size"]],
        ),
    ],
)
ProductStatus = TypeAliasType("ProductStatus", Literal["DRAFT", "READY", "ACTIVE", "INACTIVE"])
RequestedStatus = TypeAliasType("RequestedStatus", Literal["READY", "DRAFT", "INACTIVE"])
ListingState = TypeAliasType(
    "ListingState", Literal["PENDING", "PUBLISHED", "FAILED", "UNPUBLISHING", "UNPUBLISHED"]
)
ListingOutcome = TypeAliasType("ListingOutcome", Literal["PUBLISHED", "FAILED", "UNPUBLISHED"])

# ------------------------------------------------------------------ requests


class Money(BaseModel):
    model_config = _IN

    amount: Amount
    currency: Currency


class ChannelOverride(BaseModel):
    """Replacements used on one channel; attributes are merge-patched over the product's."""

    model_config = _IN

    name: Name | None = None
    description: Description | None = None
    price: Money | None = None
    attributes: Attributes | None = None


ChannelOverrides = TypeAliasType(
    "ChannelOverrides",
    Annotated[
        dict[ChannelSlug, ChannelOverride | None],
        Field(
            max_length=limits.MAX_CHANNEL_OVERRIDES,
            description=(
                "Keyed by channel slug (2 to 40 of a-z, 0-9 and '-'); at most "
                f"{limits.MAX_CHANNEL_OVERRIDES} channels."
            ),
            examples=[CHANNEL_OVERRIDES_EXAMPLE],
        ),
    ],
)

PRODUCT_CREATE_EXAMPLE: dict[str, Any] = {
    "sku": "TS-1",
    "name": "Trail shoe",
    "description": "A light shoe for rough trails: grippy sole, breathable mesh upper.",
    "price": {"amount": 12999, "currency": "USD"},
    "attributes": ATTRIBUTES_EXAMPLE,
    "channel_overrides": CHANNEL_OVERRIDES_EXAMPLE,
}


class VariantCreate(BaseModel):
    """One variant of a registration: a value for every axis of the product's `options`, no
    two variants with the same values, a SKU unique per merchant; the server makes its id."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    sku: Sku
    options: dict[str, str] = Field(examples=[{"color": "red", "size": "M"}])
    price: Money | None = None
    attributes: AttributesPatch | None = None
    image_ids: list[str] | None = None
    barcode: str | None = Field(
        None, description="A GTIN (8, 12, 13 or 14 digits with a valid check digit)."
    )
    stock: int | None = Field(None, ge=0)


class ProductCreate(BaseModel):
    """Registers a product. It starts as DRAFT at version 1. Images are added afterwards
    (POST .../images); with a description, a price and an image the product can be READY."""

    model_config = ConfigDict(
        extra="forbid", defer_build=True, json_schema_extra={"examples": [PRODUCT_CREATE_EXAMPLE]}
    )

    sku: Sku
    product_type: TypeKey | None = None
    name: Name
    description: Description | None = None
    price: Money | None = None
    attributes: Attributes | None = None
    options: Options | None = None
    variants: (
        Annotated[
            list[VariantCreate],
            Field(
                max_length=limits.MAX_NEW_VARIANT_SKUS,
                description=(
                    f"At most {limits.MAX_NEW_VARIANT_SKUS} in one registration (each takes a"
                    f" SKU in the same atomic write); a product holds up to {limits.MAX_VARIANTS}."
                ),
            ),
        ]
        | None
    ) = None
    channel_overrides: ChannelOverrides | None = None


class MoneyPatch(BaseModel):
    model_config = _IN

    amount: Amount | None = None
    currency: Currency | None = None


class VariantOverridePatch(BaseModel):
    """One variant on one channel: its price there, and attributes merge-patched over its
    effective attributes there. An override left with neither is dropped."""

    model_config = _IN

    price: MoneyPatch | None = None
    attributes: AttributesPatch | None = None


class VariantUpdate(BaseModel):
    """A JSON merge patch (RFC 7396) of one variant: members present replace, `null` removes
    (its price then inherits the product's; an attribute falls back to the product's). The
    result must still be a valid variant: every axis, a combination no other variant has, a
    SKU no other product or variant of the merchant holds."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={"examples": [{"price": {"amount": 2300}, "stock": 12}]},
    )

    sku: Sku | None = None
    options: Annotated[dict[str, str], Field(examples=[{"size": "L"}])] | None = None
    price: MoneyPatch | None = None
    attributes: AttributesPatch | None = None
    image_ids: list[str] | None = None
    barcode: str | None = Field(
        None, description="A GTIN (8, 12, 13 or 14 digits with a valid check digit)."
    )
    stock: int | None = Field(None, ge=0)


class ImagePatch(BaseModel):
    """A JSON merge patch (RFC 7396) of one image: its alternative text, `null` (or an empty
    string) to remove it. The bytes cannot change: upload another image for that."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={"examples": [{"alt": "Trail shoe, side view"}]},
    )

    alt: Annotated[str, StringConstraints(max_length=limits.MAX_ALT_LENGTH)] | None = None


class ChannelOverridePatch(BaseModel):
    model_config = _IN

    name: Name | None = None
    description: Description | None = None
    price: MoneyPatch | None = None
    attributes: AttributesPatch | None = None
    variants: (
        Annotated[
            dict[str, VariantOverridePatch | None],
            Field(
                max_length=limits.MAX_VARIANTS,
                description=(
                    "Overrides of single variants on this channel, by variant id (a variant the"
                    " product does not have is a 422); a variant set to `null` drops its"
                    " override."
                ),
                examples=[{VARIANT_ID_EXAMPLE: {"price": {"amount": 2300}}}],
            ),
        ]
        | None
    ) = None


ChannelOverridesPatch = TypeAliasType(
    "ChannelOverridesPatch",
    Annotated[
        dict[ChannelSlug, ChannelOverridePatch | None],
        Field(
            description="A merge patch of the overrides: a channel set to `null` drops its "
            "overrides.",
            examples=[{"instagram": {"name": "Trail shoe (IG)"}, "mercadolibre": None}],
        ),
    ],
)


class ProductUpdate(BaseModel):
    """A JSON merge patch (RFC 7396) of the editable fields: members present replace, objects
    merge recursively, `null` removes (an attribute, an override, the description, the price).
    The result must still be a valid product; a READY product left incomplete returns to DRAFT.
    """

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={
            "examples": [
                {
                    "price": {"amount": 10999},
                    "attributes": {"color": None, "material": "mesh"},
                    "channel_overrides": {"instagram": {"name": "Trail shoe (IG)"}},
                }
            ]
        },
    )

    product_type: TypeKey | None = None
    name: Name | None = None
    description: Description | None = None
    price: MoneyPatch | None = None
    attributes: AttributesPatch | None = None
    options: Options | None = None
    channel_overrides: ChannelOverridesPatch | None = None


class StatusChange(BaseModel):
    """A requested status change. ACTIVE is never requested: it follows from publication."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={"examples": [{"status": "READY", "reason": "approved by the buyer"}]},
    )

    status: RequestedStatus
    reason: Reason | None = None


class ListingOutcomeReport(BaseModel):
    """What a channel adapter reports about a listing (PUT .../channels/{c}/listing)."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={
            "examples": [
                {
                    "state": "PUBLISHED",
                    "product_version": 5,
                    "external_id": "MLA123",
                    "external_url": "https://articulo.mercadolibre.com.ar/MLA-123",
                }
            ]
        },
    )

    state: ListingOutcome
    product_version: int = Field(
        ge=1,
        description=(
            "The product version the adapter acted on (the event's, or the fetched view's). "
            "Outcomes older than the listing's current request are ignored."
        ),
    )
    external_id: str | None = Field(
        default=None, max_length=200, description="The channel's id; required for PUBLISHED."
    )
    external_url: str | None = Field(default=None, max_length=2000)
    message: str | None = Field(
        default=None, max_length=2000, description="Why; required for FAILED."
    )


# ------------------------------------------------------------------ views


class MoneyView(BaseModel):
    model_config = _VIEW
    amount: int
    currency: str


class VariantOverrideView(BaseModel):
    model_config = _VIEW
    price: MoneyView | None
    attributes: AttributesPatch | None


class ChannelOverrideView(BaseModel):
    model_config = _VIEW
    name: str | None = None
    description: str | None = None
    price: MoneyView | None = None
    attributes: AttributesPatch | None = None
    variants: (
        Annotated[
            dict[str, VariantOverrideView],
            Field(
                description="Overrides of single variants on this channel, by variant id.",
                examples=[VARIANT_OVERRIDES_EXAMPLE],
            ),
        ]
        | None
    ) = None


ChannelOverridesView = TypeAliasType(
    "ChannelOverridesView",
    Annotated[
        dict[str, ChannelOverrideView],
        Field(description="Keyed by channel slug.", examples=[CHANNEL_OVERRIDES_EXAMPLE]),
    ],
)


class VariantView(BaseModel):
    """One variant. In the product's own view, as stored: `price` null inherits the product's
    price and `attributes` are merged over the product's (a `null` removes one for this
    variant). In the `?channel=c` view, the effective ones on c: `price` is the variant's
    override on c, else its own, else the product's effective price on c (null only when none
    has one), and `attributes` the product's effective attributes on c merged with the
    variant's own and its override's."""

    model_config = _VIEW

    id: str = Field(description="A ULID the server made.", examples=[VARIANT_ID_EXAMPLE])
    sku: str = Field(description="Unique per merchant across product and variant SKUs.")
    options: dict[str, str] = Field(
        description="A value for every axis of the product's `options`, by axis.",
        examples=[{"color": "red", "size": "M"}],
    )
    price: MoneyView | None
    attributes: AttributesPatch
    image_ids: list[str] = Field(description="Ids of the product's images this variant shows.")
    barcode: str | None = Field(
        description="A GTIN (8, 12, 13 or 14 digits with a valid check digit)."
    )
    stock: int | None = Field(description="The quantity channels may offer; null: not said.")


class SkuView(BaseModel):
    """What holds a SKU: a product, or one variant of it."""

    model_config = _VIEW

    sku: str = Field(examples=["TS-1-RED-M"])
    product_id: str = Field(examples=["01JD8X5J9ZK8Q5W6V2C3N4M5P6"])
    variant_id: str | None = Field(
        description="The variant holding the SKU; null when it is the product's own SKU.",
        examples=[VARIANT_ID_EXAMPLE],
    )


class ImageView(BaseModel):
    model_config = _VIEW
    id: str
    url: str = Field(description="Where the image is served; computed, valid for a while.")
    content_type: str
    width: int
    height: int
    bytes: int
    alt: str | None


class ListingView(BaseModel):
    model_config = _VIEW
    state: ListingState
    external_id: str | None = Field(description="The channel's id of the listing.")
    external_url: str | None
    message: str | None = Field(description="The adapter's explanation (FAILED).")
    updated_at: datetime


LISTINGS_EXAMPLE: dict[str, Any] = {
    "mercadolibre": {
        "state": "PUBLISHED",
        "external_id": "MLA123",
        "external_url": "https://articulo.mercadolibre.com.ar/MLA-123",
        "message": None,
        "updated_at": "2026-11-30T12:05:00.000Z",
    }
}
Listings = TypeAliasType(
    "Listings",
    Annotated[
        dict[str, ListingView],
        Field(description="One listing per channel, keyed by slug.", examples=[LISTINGS_EXAMPLE]),
    ],
)

PRODUCT_VIEW_EXAMPLE: dict[str, Any] = {
    "id": "01JD8X5J9ZK8Q5W6V2C3N4M5P6",
    "merchant_id": "acme",
    "sku": "TS-1",
    "product_type": "shoes",
    "status": "ACTIVE",
    "version": 6,
    "name": "Trail shoe",
    "description": "A light shoe for rough trails: grippy sole, breathable mesh upper.",
    "price": {"amount": 12999, "currency": "USD"},
    "attributes": ATTRIBUTES_EXAMPLE,
    "options": ["size"],
    "variants": [
        {
            "id": VARIANT_ID_EXAMPLE,
            "sku": "TS-1-42",
            "options": {"size": "42"},
            # Not null: the document drops nulls from examples (FastAPI's exclude_none).
            "price": {"amount": 13999, "currency": "USD"},
            "attributes": {"size": 42},
            "image_ids": ["01JD8X6B2Q3R4S5T6V7W8X9Y0Z"],
            "barcode": "4006381333931",
            "stock": 12,
        }
    ],
    "channel_overrides": CHANNEL_OVERRIDES_EXAMPLE,
    "images": [
        {
            "id": "01JD8X6B2Q3R4S5T6V7W8X9Y0Z",
            "url": "http://127.0.0.1:8000/assets/acme/01JD8X5J9ZK8Q5W6V2C3N4M5P6/"
            "01JD8X6B2Q3R4S5T6V7W8X9Y0Z.png?expires=1796083200&signature=3q2-7w",
            "content_type": "image/png",
            "width": 800,
            "height": 800,
            "bytes": 10240,
            "alt": "Side view",
        }
    ],
    "listings": LISTINGS_EXAMPLE,
    "completeness": {
        "ready": {"complete": True, "missing": []},
        "channels": {channel: {"complete": True, "missing": []} for channel in LISTINGS_EXAMPLE},
    },
    "created_at": "2026-11-30T12:00:00.000Z",
    "updated_at": "2026-11-30T12:05:00.000Z",
}


class MissingFields(BaseModel):
    model_config = _VIEW
    complete: bool
    missing: list[str] = Field(
        description="JSON pointers into this view that hold no value, e.g. /description, "
        "/images, /attributes/brand."
    )


class CompletenessView(BaseModel):
    """What READY needs and what each channel needs (DESIGN.md section 9), as of this
    version: `channels` has an entry per channel the product is listed on."""

    model_config = _VIEW

    ready: MissingFields
    channels: dict[str, MissingFields] = Field(
        examples=[{"mercadolibre": {"complete": False, "missing": ["/attributes/brand"]}}]
    )


class ProductView(BaseModel):
    model_config = ConfigDict(
        defer_build=True, json_schema_extra={"examples": [PRODUCT_VIEW_EXAMPLE]}
    )

    id: str = Field(examples=["01JD8X5J9ZK8Q5W6V2C3N4M5P6"])
    merchant_id: str
    sku: str
    product_type: str | None = Field(description="The key of the product's type, or null.")
    status: ProductStatus
    version: int = Field(description="+1 on every change; the ETag is this number, quoted.")
    name: str
    description: str | None
    price: MoneyView | None
    attributes: Attributes
    options: Options
    variants: list[VariantView] = Field(
        description=f"At most {limits.MAX_VARIANTS}, in creation order; empty without options."
    )
    channel_overrides: ChannelOverridesView
    images: list[ImageView]
    listings: Listings
    completeness: CompletenessView
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    model_config = _VIEW
    items: list[ProductView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: last.")


class FieldChangeView(BaseModel):
    model_config = _VIEW
    field: str = Field(description="JSON pointer into the product, e.g. /attributes/color.")
    old: Any
    new: Any


class TransitionView(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True)

    from_: ProductStatus | None = Field(alias="from")
    to: ProductStatus
    reason: str | None


class HistoryEntryView(BaseModel):
    model_config = _VIEW
    product_id: str
    version: int
    actor: str = Field(description="Subject of the principal that made the change.")
    at: datetime
    changes: list[FieldChangeView]
    transition: TransitionView | None
    events: list[str] = Field(description="Names of the domain events this version emitted.")
    reason: str | None = Field(
        description="Why the system made this version (actor `system`): the product type or"
        " channel requirements change that re-evaluated it, e.g. `product type apparel v3`;"
        " null for a principal's own change."
    )
    restored_from: int | None = Field(
        description="The earlier version whose content this version brought back (POST"
        " .../history/{version}/restore); null for every other change."
    )


class HistoryPage(BaseModel):
    model_config = _VIEW
    items: list[HistoryEntryView]
    next_cursor: str | None


class Health(BaseModel):
    model_config = _VIEW
    status: Literal["ok"]


class FieldError(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    field: str = Field(description="JSON pointer into the body, or the parameter's name.")
    in_: Literal["body", "query", "path", "header", "cookie"] = Field(alias="in")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    type: str = Field(
        description="`/problems/<slug>`: what kind of failure; stable, for clients to branch on.",
        examples=["/problems/validation-error"],
    )
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="Invalid fields (400, 422).")
    missing: list[str] | None = Field(None, description="What keeps the product from READY.")
    current_status: ProductStatus | None = None
    current_version: int | None = None


# Request bodies read by hand (to keep the raw JSON for merge patches and idempotency
# fingerprints) are added to the OpenAPI components under these names.
REQUEST_BODY_MODELS: tuple[type[BaseModel], ...] = (
    ProductCreate,
    ProductUpdate,
    VariantCreate,
    VariantUpdate,
    ImagePatch,
    StatusChange,
    ListingOutcomeReport,
)
