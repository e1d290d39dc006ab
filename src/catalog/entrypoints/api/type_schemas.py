"""Pydantic schemas of product types for the OpenAPI document (DESIGN.md section 9).

As in schemas.py, bodies are parsed by the domain (domain/product_types.py) through the
service's commands, not by these models; the limits stated here are the domain's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from catalog.domain import limits
from catalog.domain.product_types import (
    ATTRIBUTE_NAME_PATTERN,
    MAX_ENUM_VALUE_LENGTH,
    MAX_ENUM_VALUES,
    MAX_TYPE_ATTRIBUTES,
    TYPE_KEY_PATTERN,
    AttributeType,
)
from catalog.entrypoints.api.schemas import ChannelSlug, Name

_IN = ConfigDict(extra="forbid", defer_build=True)

TypeKey = Annotated[
    str,
    StringConstraints(pattern=TYPE_KEY_PATTERN.pattern),
    Field(description="Unique per merchant; never changes.", examples=["apparel"]),
]
EXAMPLE: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "max_length": 60, "required": True},
        "size": {"type": "enum", "values": ["S", "M", "L"], "variant_axis": True},
        "condition": {"type": "enum", "values": ["new", "used"], "required_on": ["mercadolibre"]},
        "weight_grams": {"type": "integer", "minimum": 1},
    },
    "additional_attributes": True,
}


class AttributeDefinition(BaseModel):
    """One attribute of a type. Members that do not apply to its `type` are refused."""

    model_config = _IN

    type: AttributeType
    label: Annotated[str, StringConstraints(max_length=200)] | None = None
    values: (
        Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=MAX_ENUM_VALUE_LENGTH)]],
            Field(min_length=1, max_length=MAX_ENUM_VALUES),
        ]
        | None
    ) = Field(None, description="enum only: the choices, in order, each once.")
    minimum: float | None = Field(None, description="integer and number only.")
    maximum: float | None = Field(None, description="integer and number only; >= minimum.")
    max_length: Annotated[int, Field(ge=1, le=limits.MAX_ATTRIBUTE_STRING_LENGTH)] | None = Field(
        None, description="string and url only."
    )
    required: bool = Field(False, description="Needed for READY.")
    required_on: list[ChannelSlug] = Field(
        default_factory=list, description="Channels that need it to publish."
    )
    variant_axis: bool = Field(False, description="string and enum only: may be a variant option.")


AttributeName = Annotated[str, StringConstraints(pattern=ATTRIBUTE_NAME_PATTERN.pattern)]
Definitions = Annotated[
    dict[AttributeName, AttributeDefinition],
    Field(
        max_length=MAX_TYPE_ATTRIBUTES,
        description="Definitions by attribute name.",
        examples=[EXAMPLE["attributes"]],
    ),
]
DefinitionPatch = Annotated[
    dict[str, Any],
    Field(examples=[{"values": ["S", "M", "L", "XL"], "required": None}]),
]


class ProductTypeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", defer_build=True, json_schema_extra={"examples": [EXAMPLE]}
    )

    key: TypeKey
    name: Name
    attributes: Definitions = Field(default_factory=dict)
    additional_attributes: bool = Field(
        True, description="Whether products may carry attributes the type does not define."
    )


class ProductTypeUpdate(BaseModel):
    """A JSON merge patch (RFC 7396): `null` removes an attribute or a definition's member;
    the result is validated whole."""

    model_config = _IN

    name: Name | None = None
    attributes: (
        Annotated[
            dict[AttributeName, DefinitionPatch | None],
            Field(examples=[{"size": {"values": ["S", "M", "L", "XL"]}, "weight_grams": None}]),
        ]
        | None
    ) = None
    additional_attributes: bool | None = None


class ProductTypeView(BaseModel):
    model_config = ConfigDict(
        defer_build=True, json_schema_extra={"examples": [{**EXAMPLE, "version": 1}]}
    )

    key: str
    merchant_id: str
    name: str
    attributes: Definitions
    additional_attributes: bool
    version: int = Field(description="+1 on every change; the ETag is this number, quoted.")
    created_at: datetime
    updated_at: datetime


class ProductTypePage(BaseModel):
    model_config = ConfigDict(defer_build=True)
    items: list[ProductTypeView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: last.")


REQUEST_BODY_MODELS: tuple[type[BaseModel], ...] = (ProductTypeCreate, ProductTypeUpdate)
