"""Products: register, read, list, merge-patch, change status, deactivate.

Writes are plain `def`: they block on the store (SQLite commits, boto3), so FastAPI runs them
in its thread pool. Reads are `async def` and go through deps.run_read, which answers on the
event loop when the store is local. Routes return ready-made responses built by the
presenter, so no response model is validated on the way out; `response_model` is there for
the OpenAPI document only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.exceptions import RequestValidationError

from catalog.domain import limits
from catalog.domain.lifecycle import Status
from catalog.domain.product_types import TYPE_KEY_PATTERN
from catalog.entrypoints.api.conditional import none_match
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    MERGE_PATCH_MEDIA,
    IdempotencyKey,
    IfMatch,
    JsonBody,
    MerchantReader,
    MerchantWriter,
    MergePatchBody,
    ProductWriter,
    read_product,
    run_read,
)
from catalog.entrypoints.api.presenters import etag, product_view
from catalog.entrypoints.api.responses import ViewResponse, product_response, request_body
from catalog.entrypoints.api.routing import HandReadRoute, resource_router
from catalog.entrypoints.api.schemas import (
    ProductCreate,
    ProductPage,
    ProductStatus,
    ProductUpdate,
    ProductView,
    StatusChange,
)
from catalog.service import products as use_cases
from catalog.service.commands import (
    ChangeStatus,
    DeactivateProduct,
    GetProduct,
    ListProducts,
    PatchProduct,
    RegisterProduct,
)

router = resource_router(prefix="/v1/merchants/{merchant_id}/products", tags=["products"])

_ETAG_HEADER = {
    "ETag": {"description": 'The product version, quoted: "3".', "schema": {"type": "string"}}
}


_BAD_CHANNEL = "must be a channel slug: 2 to 40 of a-z, 0-9 and '-'"
_GET_PARAMETERS = [
    {
        "name": "channel",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "pattern": limits.CHANNEL_PATTERN.pattern},
        "description": "Channel slug: the view with that channel's overrides applied.",
    },
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": 'ETag(s) the client holds, e.g. "3"; 304 when one is current.',
    },
]


def _location(request: Request, merchant_id: str, product_id: str) -> str:
    root = request.scope.get("root_path", "")
    return f"{root}/v1/merchants/{merchant_id}/products/{product_id}"


async def get_product(request: Request) -> Response:
    # The hot path, so nothing is declared for FastAPI to solve: each dependency or parameter
    # costs more than the lookup itself. The access check is the ProductReader dependency's,
    # called directly; `channel` and `If-None-Match` are documented through openapi_extra.
    access = await read_product(request)
    # Most reads carry no query string: parsing an empty one is not free.
    channel = request.query_params.get("channel") if request.scope["query_string"] else None
    if channel is not None and not limits.CHANNEL_PATTERN.fullmatch(channel):
        raise RequestValidationError(
            [{"type": "string_pattern_mismatch", "loc": ("query", "channel"), "msg": _BAD_CHANNEL}]
        )
    if_none_match = request.headers.get("if-none-match")
    ctx = access.ctx
    query = GetProduct(access.merchant_id, access.product_id)
    product = await run_read(request, use_cases.get_product, ctx, access.principal, query)
    current = etag(product, channel)
    # private: the view depends on who asks; no-cache: revalidate with If-None-Match.
    headers = {"ETag": current, "Cache-Control": "private, no-cache"}
    if if_none_match is not None and none_match(if_none_match, current):
        return Response(status_code=304, headers=headers)
    return ViewResponse(product_view(product, ctx.assets, channel), headers=headers)


# Registered first, so it is matched first: the hottest route. A HandReadRoute: the endpoint
# reads the request itself, and FastAPI's parameter machinery is skipped (docs/performance.md).
router.add_api_route(
    "/{product_id}",
    get_product,
    methods=["GET"],
    route_class_override=HandReadRoute,
    response_model=ProductView,
    summary="Get a product",
    description=(
        "The aggregated view with image URLs resolved. `If-None-Match` with the current ETag "
        "answers 304. `?channel=` returns the content as that channel sees it (its overrides "
        'applied), with its own ETag such as `"3;channel=instagram"`.'
    ),
    responses={
        200: {"description": "The product", "headers": _ETAG_HEADER},
        304: {"description": "Not modified: the ETag still matches"},
    },
    openapi_extra={"parameters": _GET_PARAMETERS},
)


@router.post(
    "",
    status_code=201,
    response_model=ProductView,
    summary="Register a product",
    description=(
        "Creates a DRAFT product at version 1. Images are added afterwards (`POST "
        ".../images`); with a description, a price and an image the product can be made "
        "READY. With an `Idempotency-Key`, a retry of the same request returns the first "
        "response (201, header `Idempotent-Replayed: true`) and creates nothing."
    ),
    responses={
        201: {
            "description": "Registered (or replayed)",
            "headers": {
                **_ETAG_HEADER,
                "Location": {"description": "URL of the product", "schema": {"type": "string"}},
                "Idempotent-Replayed": {
                    "description": "`true` when this is the stored response of an earlier try",
                    "schema": {"type": "string"},
                },
            },
        },
    },
    openapi_extra=request_body(ProductCreate, JSON_MEDIA),
)
def register_product(
    request: Request,
    access: MerchantWriter,
    body: JsonBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    command = RegisterProduct.from_json(access.merchant_id, body, idempotency_key)
    outcome = use_cases.register_product(access.ctx, access.principal, command)
    headers = {"Location": _location(request, access.merchant_id, outcome.product.id)}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return product_response(outcome.product, access.ctx.assets, status_code=201, headers=headers)


@router.get(
    "",
    response_model=ProductPage,
    summary="List products",
    description=(
        "Products of the merchant in id (creation) order, one page at a time, keeping those "
        "that match every filter given. Pass `next_cursor` back as `cursor` with the same "
        "filters; a cursor only works for the merchant and filters it was issued for (400 "
        "otherwise). A page combining filters may hold fewer than `limit` products, even "
        "none, and still carry a `next_cursor`: the list ends only where `next_cursor` is "
        "null."
    ),
)
async def list_products(
    request: Request,
    access: MerchantReader,
    status: Annotated[
        ProductStatus | None,
        Query(description="Only products in this status."),
    ] = None,
    channel: Annotated[
        str | None,
        Query(
            pattern=limits.CHANNEL_PATTERN.pattern,
            description="Only products listed (pending, published or unpublishing) there.",
        ),
    ] = None,
    product_type: Annotated[
        str | None,
        Query(
            pattern=TYPE_KEY_PATTERN.pattern,
            description="Only products of this product type (its key); untyped products "
            "are in no type's list. A key the merchant has no type for lists nothing.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=limits.MAX_PAGE_SIZE)] = limits.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
) -> Response:
    query = ListProducts(
        access.merchant_id,
        Status(status) if status else None,
        channel,
        limit,
        cursor,
        product_type=product_type,
    )
    page = await run_read(request, use_cases.list_products, access.ctx, access.principal, query)
    items = [product_view(product, access.ctx.assets) for product in page.items]
    return ViewResponse({"items": items, "next_cursor": page.next_cursor})


@router.patch(
    "/{product_id}",
    response_model=ProductView,
    summary="Update a product (JSON merge patch)",
    description=(
        "Applies a JSON merge patch (RFC 7396) to name, description, price, attributes and "
        "channel_overrides; `null` removes a member. Send `If-Match` with the ETag you read to "
        "be told (412) when someone else changed the product first; without it the change is "
        "applied to the latest version. A READY product patched into incompleteness returns "
        "to DRAFT (recorded in history)."
    ),
    responses={
        200: {"description": "The updated product", "headers": _ETAG_HEADER},
    },
    openapi_extra=request_body(ProductUpdate, MERGE_PATCH_MEDIA, JSON_MEDIA),
)
def update_product(
    access: ProductWriter,
    if_match: IfMatch,
    body: MergePatchBody,
) -> Response:
    command = PatchProduct.from_json(access.merchant_id, access.product_id, body, if_match)
    product = use_cases.update_product(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)


@router.post(
    "/{product_id}/status",
    response_model=ProductView,
    summary="Change the status",
    description=(
        "DRAFT -> READY (only when complete: name, description, price and an image; else 422 "
        "listing `missing`), READY -> DRAFT, any -> INACTIVE, INACTIVE -> DRAFT. Any other "
        "change is a 409 naming `current_status`. Asking for the current status changes "
        "nothing and returns the product."
    ),
    responses={
        200: {"description": "The product in its new status", "headers": _ETAG_HEADER},
    },
    openapi_extra=request_body(StatusChange, JSON_MEDIA),
)
def change_status(
    access: ProductWriter,
    if_match: IfMatch,
    body: JsonBody,
) -> Response:
    command = ChangeStatus.from_json(access.merchant_id, access.product_id, body, if_match)
    product = use_cases.change_status(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)


@router.delete(
    "/{product_id}",
    response_model=ProductView,
    summary="Deactivate a product (soft delete)",
    description=(
        "Moves the product to INACTIVE and requests unpublication everywhere it is listed. "
        "Idempotent: repeating it returns the INACTIVE product without a new version. "
        '`POST .../status {"status": "DRAFT"}` reactivates it.'
    ),
    responses={
        200: {"description": "The INACTIVE product", "headers": _ETAG_HEADER},
    },
)
def deactivate_product(
    access: ProductWriter,
    if_match: IfMatch,
) -> Response:
    command = DeactivateProduct(access.merchant_id, access.product_id, if_match)
    product = use_cases.deactivate_product(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)
