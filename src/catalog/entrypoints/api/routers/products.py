"""Products: register, read, list, merge-patch, change status, deactivate.

Routes are plain `def`: the stores block (SQLite, boto3), so FastAPI runs them in its thread
pool. They return ready-made responses built by the presenter, so no response model is
validated on the way out; `response_model` is there for the OpenAPI document only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from catalog.domain import limits
from catalog.domain.lifecycle import Status
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    MERGE_PATCH_MEDIA,
    Actor,
    Catalog,
    IdempotencyKey,
    IfMatch,
    JsonBody,
    MergePatchBody,
    ProductId,
    ReadableMerchant,
    WritableMerchant,
    check_body,
)
from catalog.entrypoints.api.presenters import etag, product_view
from catalog.entrypoints.api.responses import problem_responses, product_response, request_body
from catalog.entrypoints.api.schemas import (
    ProductCreate,
    ProductPage,
    ProductUpdate,
    ProductView,
    StatusChange,
)
from catalog.service import products as use_cases

router = APIRouter(prefix="/v1/merchants/{merchant_id}/products", tags=["products"])

_ETAG_HEADER = {
    "ETag": {"description": 'The product version, quoted: "3".', "schema": {"type": "string"}}
}

ChannelQuery = Annotated[
    str | None,
    Query(
        pattern=limits.CHANNEL_PATTERN.pattern,
        description="Channel slug: apply that channel's overrides to the view.",
    ),
]


def _location(request: Request, merchant_id: str, product_id: str) -> str:
    root = request.scope.get("root_path", "")
    return f"{root}/v1/merchants/{merchant_id}/products/{product_id}"


@router.post(
    "",
    status_code=201,
    response_model=ProductView,
    summary="Register a product",
    description=(
        "Creates a DRAFT product at version 1. With an `Idempotency-Key`, a retry of the same "
        "request returns the first response (201, header `Idempotent-Replayed: true`) and "
        "creates nothing."
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
        **problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    },
    openapi_extra=request_body(ProductCreate, JSON_MEDIA),
)
def register_product(
    request: Request,
    ctx: Catalog,
    merchant_id: WritableMerchant,
    actor: Actor,
    body: JsonBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    check_body(ProductCreate, body)
    outcome = use_cases.register_product(ctx, merchant_id, body, actor, idempotency_key)
    headers = {"Location": _location(request, merchant_id, outcome.product.id)}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return product_response(outcome.product, ctx.assets, status_code=201, headers=headers)


def _none_match(if_none_match: str, current: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list against the current ETag."""
    if if_none_match.strip() == "*":
        return True
    bare = current.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


@router.get(
    "/{product_id}",
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
        **problem_responses(401, 404, 422),
    },
)
def get_product(
    ctx: Catalog,
    merchant_id: ReadableMerchant,
    product_id: ProductId,
    channel: ChannelQuery = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    product = use_cases.get_product(ctx, merchant_id, product_id)
    current = etag(product, channel)
    if if_none_match is not None and _none_match(if_none_match, current):
        return Response(status_code=304, headers={"ETag": current})
    return JSONResponse(product_view(product, ctx.assets, channel), headers={"ETag": current})


@router.get(
    "",
    response_model=ProductPage,
    summary="List products",
    description=(
        "Products of the merchant in id (creation) order, one page at a time. Pass "
        "`next_cursor` back as `cursor` with the same filters; a cursor only works for the "
        "merchant and filters it was issued for (400 otherwise)."
    ),
    responses=problem_responses(400, 401, 404, 422),
)
def list_products(
    ctx: Catalog,
    merchant_id: ReadableMerchant,
    status: Annotated[
        Literal["DRAFT", "READY", "ACTIVE", "INACTIVE"] | None,
        Query(description="Only products in this status."),
    ] = None,
    channel: Annotated[
        str | None,
        Query(
            pattern=limits.CHANNEL_PATTERN.pattern,
            description="Only products listed (pending, published or unpublishing) there.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=limits.MAX_PAGE_SIZE)] = limits.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
) -> Response:
    page = use_cases.list_products(
        ctx,
        merchant_id,
        status=Status(status) if status else None,
        channel=channel,
        limit=limit,
        cursor=cursor,
    )
    items = [product_view(product, ctx.assets) for product in page.items]
    return JSONResponse({"items": items, "next_cursor": page.next_cursor})


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
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    },
    openapi_extra=request_body(ProductUpdate, MERGE_PATCH_MEDIA, JSON_MEDIA),
)
def update_product(
    ctx: Catalog,
    merchant_id: WritableMerchant,
    product_id: ProductId,
    actor: Actor,
    if_match: IfMatch,
    body: MergePatchBody,
) -> Response:
    check_body(ProductUpdate, body)
    product = use_cases.update_product(ctx, merchant_id, product_id, body, actor, if_match)
    return product_response(product, ctx.assets)


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
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    },
    openapi_extra=request_body(StatusChange, JSON_MEDIA),
)
def change_status(
    ctx: Catalog,
    merchant_id: WritableMerchant,
    product_id: ProductId,
    actor: Actor,
    if_match: IfMatch,
    body: JsonBody,
) -> Response:
    check_body(StatusChange, body)
    product = use_cases.change_status(
        ctx,
        merchant_id,
        product_id,
        Status(body["status"]),
        actor,
        body.get("reason"),
        if_match,
    )
    return product_response(product, ctx.assets)


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
        **problem_responses(400, 401, 403, 404, 412),
    },
)
def deactivate_product(
    ctx: Catalog,
    merchant_id: WritableMerchant,
    product_id: ProductId,
    actor: Actor,
    if_match: IfMatch,
) -> Response:
    product = use_cases.deactivate_product(ctx, merchant_id, product_id, actor, if_match)
    return product_response(product, ctx.assets)
