"""Pydantic schemas of channel requirements for the OpenAPI document (DESIGN.md section 9).

As in schemas.py, the body is parsed by the domain (completeness.parse_requirements) through the
use case's command, not by these models; the limits stated here are the domain's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from catalog.domain.completeness import MAX_POINTER_LENGTH, MAX_REQUIREMENTS

REQUIRED: list[Any] = ["/description", "/price", "/images", "/attributes/brand"]
_POINTERS = ", ".join(
    ["/name", "/description", "/sku", "/product_type", "/price", "/images", "/attributes/<name>"]
)

Pointer = Annotated[
    str,
    StringConstraints(pattern=r"^/", max_length=MAX_POINTER_LENGTH),
    Field(description=f"A JSON pointer into the channel's view of a product: {_POINTERS}."),
]


class ChannelRequirementsPut(BaseModel):
    """The channel's whole list, replacing the one it had; a pointer given twice counts once."""

    model_config = ConfigDict(
        extra="forbid", defer_build=True, json_schema_extra={"examples": [{"required": REQUIRED}]}
    )

    required: Annotated[
        list[Pointer],
        Field(
            max_length=MAX_REQUIREMENTS,
            description="What a product needs filled, on top of READY's needs, to be published "
            "on the channel (overrides applied); in the order `missing` lists them.",
        ),
    ]


EXAMPLE_VIEW: dict[str, Any] = {
    "channel": "mercadolibre",
    "required": REQUIRED,
    "version": 2,
    "updated_at": "2026-12-02T12:00:00.000Z",
}


class ChannelRequirementsView(BaseModel):
    model_config = ConfigDict(defer_build=True, json_schema_extra={"examples": [EXAMPLE_VIEW]})

    channel: str
    required: list[str]
    version: int = Field(
        description="+1 on every change of this channel's list; 0: never declared (nothing "
        "required beyond READY). The ETag is this number, quoted."
    )
    updated_at: datetime | None = Field(description="null: never declared.")


REQUEST_BODY_MODELS: tuple[type[BaseModel], ...] = (ChannelRequirementsPut,)
