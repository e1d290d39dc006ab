"""Pydantic schemas of the HTTP contract: request bodies (validated) and views (documented).

Request bodies are checked here first so a client gets every problem of its request at once,
each named by a JSON pointer; the domain parsers then check again (they are the authority, and
the only check for rules a schema cannot express, such as attribute nesting). The limits come
from domain/limits.py so the OpenAPI document states the same numbers the domain enforces.

Views are not built through these models on the hot path (the presenter builds plain dicts);
they document the responses in OpenAPI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from catalog.domain import limits
from catalog.domain.values import CURRENCY_PATTERN

_IN = ConfigDict(extra="forbid")

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
    Field(description="ISO 4217 currency code.", examples=["USD"]),
]
ChannelSlug = Annotated[str, StringConstraints(pattern=limits.CHANNEL_PATTERN.pattern)]
Attributes = Annotated[
    dict[str, Any],
    Field(
        max_length=limits.MAX_ATTRIBUTES,
        description=(
            "Free-form JSON object (any vertical). At most "
            f"{limits.MAX_ATTRIBUTES} keys counted over every level, nesting at most "
            f"{limits.MAX_ATTRIBUTE_DEPTH} levels, keys of at most "
            f"{limits.MAX_ATTRIBUTE_KEY_LENGTH} characters, strings of at most "
            f"{limits.MAX_ATTRIBUTE_STRING_LENGTH} characters, arrays of at most "
            f"{limits.MAX_ATTRIBUTE_ARRAY_LENGTH} items."
        ),
        examples=[{"color": "red", "size": 42}],
    ),
]
Reason = Annotated[str, StringConstraints(max_length=limits.MAX_REASON_LENGTH)]
StatusName = Literal["DRAFT", "READY", "ACTIVE", "INACTIVE"]

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


class ProductCreate(BaseModel):
    """Registers a product. It starts as DRAFT at version 1."""

    model_config = _IN

    sku: Sku
    name: Name
    description: Description | None = None
    price: Money | None = None
    attributes: Attributes | None = None
    channel_overrides: Annotated[
        dict[ChannelSlug, ChannelOverride | None] | None,
        Field(
            max_length=limits.MAX_CHANNEL_OVERRIDES,
            description="Keyed by channel slug (2 to 40 of a-z, 0-9 and '-').",
            examples=[{"mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}}],
        ),
    ] = None


class MoneyPatch(BaseModel):
    model_config = _IN

    amount: Amount | None = None
    currency: Currency | None = None


class ChannelOverridePatch(BaseModel):
    model_config = _IN

    name: Name | None = None
    description: Description | None = None
    price: MoneyPatch | None = None
    attributes: dict[str, Any] | None = None


class ProductUpdate(BaseModel):
    """A JSON merge patch (RFC 7396) of the editable fields: members present replace, objects
    merge recursively, `null` removes (an attribute, an override, the description, the price).
    The result must still be a valid product; a READY product left incomplete returns to DRAFT.
    """

    model_config = ConfigDict(
        extra="forbid",
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

    name: Name | None = None
    description: Description | None = None
    price: MoneyPatch | None = None
    attributes: dict[str, Any] | None = None
    channel_overrides: dict[ChannelSlug, ChannelOverridePatch | None] | None = None


class StatusChange(BaseModel):
    """A requested status change. ACTIVE is never requested: it follows from publication."""

    model_config = _IN

    status: Literal["READY", "DRAFT", "INACTIVE"]
    reason: Reason | None = None


class ListingOutcomeReport(BaseModel):
    """What a channel adapter reports about a listing (PUT .../channels/{c}/listing)."""

    model_config = _IN

    state: Literal["PUBLISHED", "FAILED", "UNPUBLISHED"]
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
    amount: int
    currency: str


class ChannelOverrideView(BaseModel):
    name: str | None = None
    description: str | None = None
    price: MoneyView | None = None
    attributes: dict[str, Any] | None = None


class ImageView(BaseModel):
    id: str
    url: str = Field(description="Where the image is served; computed, valid for a while.")
    content_type: str
    width: int
    height: int
    bytes: int
    alt: str | None


class ListingView(BaseModel):
    state: str = Field(description="PENDING, PUBLISHED, FAILED, UNPUBLISHING or UNPUBLISHED.")
    external_id: str | None
    external_url: str | None
    message: str | None
    updated_at: datetime


class ProductView(BaseModel):
    id: str = Field(examples=["01JD8X5J9ZK8Q5W6V2C3N4M5P6"])
    merchant_id: str
    sku: str
    status: StatusName
    version: int = Field(description="+1 on every change; the ETag is this number, quoted.")
    name: str
    description: str | None
    price: MoneyView | None
    attributes: dict[str, Any]
    channel_overrides: dict[str, ChannelOverrideView]
    images: list[ImageView]
    listings: dict[str, ListingView]
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: last.")


class FieldChangeView(BaseModel):
    field: str = Field(description="JSON pointer into the product, e.g. /attributes/color.")
    old: Any
    new: Any


class TransitionView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: StatusName | None = Field(alias="from")
    to: StatusName
    reason: str | None


class HistoryEntryView(BaseModel):
    product_id: str
    version: int
    actor: str = Field(description="Subject of the principal that made the change.")
    at: datetime
    changes: list[FieldChangeView]
    transition: TransitionView | None
    events: list[str] = Field(description="Names of the domain events this version emitted.")


class HistoryPage(BaseModel):
    items: list[HistoryEntryView]
    next_cursor: str | None


class Health(BaseModel):
    status: Literal["ok"]


class FieldError(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(description="JSON pointer into the body, or the parameter's name.")
    in_: Literal["body", "query", "path", "header", "cookie"] = Field(alias="in")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/validation-error"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="Invalid fields (400, 422).")
    missing: list[str] | None = Field(None, description="What keeps the product from READY.")
    current_status: StatusName | None = None
    current_version: int | None = None


# Request bodies read by hand (to keep the raw JSON for merge patches and idempotency
# fingerprints) are added to the OpenAPI components under these names.
REQUEST_BODY_MODELS: tuple[type[BaseModel], ...] = (ProductCreate, ProductUpdate, StatusChange)

_MESSAGES = {
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "extra_forbidden": "is not a known field",
    "missing": "is required",
}


def body_errors(error: ValidationError) -> list[dict[str, Any]]:
    """pydantic errors located in the body, in the shape RequestValidationError carries."""
    return [
        {
            "type": item["type"],
            "loc": ("body", *item["loc"]),
            "msg": _MESSAGES.get(item["type"], item["msg"]),
            "input": None,
        }
        for item in error.errors(include_url=False, include_context=False, include_input=False)
    ]
