"""Channel requirements: the pointers a channel needs filled to publish a product (DESIGN.md
section 9). Platform-wide, so outside every merchant's paths: any valid token reads them; the
platform or the channel itself (role `channel:<channel>`) replaces them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from msgspec import Struct

from catalog.domain import limits
from catalog.domain.channel_requirements import ChannelRequirements
from catalog.domain.timestamps import format_time
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    IfMatch,
    JsonBody,
    catalog_of,
    current_principal,
    run_read,
)
from catalog.entrypoints.api.problems import ApiProblem
from catalog.entrypoints.api.requirements_schemas import (
    ChannelRequirementsPut,
    ChannelRequirementsView,
)
from catalog.entrypoints.api.responses import ViewResponse, request_body
from catalog.entrypoints.api.routing import resource_router
from catalog.service import channel_requirements as use_cases
from catalog.service.channel_requirements import GetChannelRequirements, PutChannelRequirements
from catalog.service.context import CatalogContext
from catalog.service.principals import Principal, require_channel_admin

router = resource_router(
    prefix="/v1/channels/{channel}/requirements", tags=["channel-requirements"]
)

_ETAG_HEADER = {
    "ETag": {
        "description": 'The channel\'s requirements version, quoted: "3" ("0": never declared).',
        "schema": {"type": "string"},
    }
}
# The path parameter, read from the request by the access dependencies below.
_CHANNEL_PARAMETER: dict[str, Any] = {
    "parameters": [
        {
            "name": "channel",
            "in": "path",
            "required": True,
            "description": "Channel slug: 2 to 40 of a-z, 0-9 and '-'.",
            "schema": {"type": "string", "pattern": limits.CHANNEL_PATTERN.pattern},
        }
    ]
}


class ChannelAccess(Struct, frozen=True):
    ctx: CatalogContext
    principal: Principal
    channel: str


async def _channel_access(request: Request) -> ChannelAccess:
    """Authentication (401), then the path: a slug that cannot be a channel is a 404."""
    principal = await current_principal(request)
    channel: str = request.path_params["channel"]
    if not limits.CHANNEL_PATTERN.fullmatch(channel):
        raise ApiProblem(404, "not-found", "Not found", f"no channel {channel[:64]}")
    return ChannelAccess(catalog_of(request), principal, channel)


async def read_channel(request: Request) -> ChannelAccess:
    return await _channel_access(request)


async def administer_channel(request: Request) -> ChannelAccess:
    """The use case decides again; asked here first so that a client sees 403 before any
    problem with its headers or body."""
    access = await _channel_access(request)
    require_channel_admin(access.principal, access.channel)
    return access


ChannelReader = Annotated[ChannelAccess, Depends(read_channel)]
ChannelAdmin = Annotated[ChannelAccess, Depends(administer_channel)]


def requirements_view(requirements: ChannelRequirements) -> dict[str, Any]:
    updated_at = requirements.updated_at
    return {
        "channel": requirements.channel,
        "required": list(requirements.required),
        "version": requirements.version,
        "updated_at": format_time(updated_at) if updated_at else None,
    }


def _response(requirements: ChannelRequirements) -> Response:
    return ViewResponse(
        requirements_view(requirements), headers={"ETag": f'"{requirements.version}"'}
    )


@router.get(
    "",
    response_model=ChannelRequirementsView,
    summary="Get a channel's requirements",
    description=(
        "What the channel needs filled, on top of READY's needs, to publish a product. Any "
        "valid token may read them. A channel that declared none answers `required: []` at "
        "version 0."
    ),
    responses={200: {"description": "The channel's requirements", "headers": _ETAG_HEADER}},
    openapi_extra=_CHANNEL_PARAMETER,
)
async def get_channel_requirements(request: Request, access: ChannelReader) -> Response:
    query = GetChannelRequirements(access.channel)
    found = await run_read(
        request, use_cases.get_channel_requirements, access.ctx, access.principal, query
    )
    return _response(found)


@router.put(
    "",
    response_model=ChannelRequirementsView,
    summary="Replace a channel's requirements",
    description=(
        "Role `platform`, or `channel:<channel>` for that channel (403 otherwise, merchants "
        "included). The list replaces the channel's whole list; the same list again changes "
        "nothing and keeps the version. Send `If-Match` with the ETag you read to be told "
        '(412) when someone changed it first; `If-Match: "0"` declares only if none are.'
    ),
    responses={200: {"description": "The channel's requirements", "headers": _ETAG_HEADER}},
    openapi_extra={**_CHANNEL_PARAMETER, **request_body(ChannelRequirementsPut, JSON_MEDIA)},
)
def put_channel_requirements(access: ChannelAdmin, if_match: IfMatch, body: JsonBody) -> Response:
    command = PutChannelRequirements.from_json(access.channel, body, if_match)
    return _response(use_cases.put_channel_requirements(access.ctx, access.principal, command))
