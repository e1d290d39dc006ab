"""Variants of a product (DESIGN.md section 10): add one, merge-patch one, remove one. Each
answers the whole product view, as the product's own writes do."""

from __future__ import annotations

from fastapi import Response

from catalog.domain import limits
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    MERGE_PATCH_MEDIA,
    IdempotencyKey,
    IfMatch,
    JsonBody,
    MergePatchBody,
    ProductWriter,
    VariantId,
)
from catalog.entrypoints.api.responses import product_response, request_body
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.schemas import ProductView, VariantCreate, VariantUpdate
from catalog.service import variants as use_cases
from catalog.service.commands import AddVariant, PatchVariant, RemoveVariant

router = resource_router(prefix="/v1/merchants/{merchant_id}/products", tags=["variants"])


@router.post(
    "/{product_id}/variants",
    status_code=201,
    response_model=ProductView,
    summary="Add a variant",
    description=(
        "Adds one variant after the others (it is the last of `variants` in the answer): a "
        "value for every axis of the product's `options`, a combination no other variant has "
        "(409 `duplicate-variant`), a SKU no product or variant of the merchant holds (409 "
        f"`duplicate-sku`). At most {limits.MAX_VARIANTS} variants per product (422). With an "
        "`Idempotency-Key`, a retry of the same request returns the first response (header "
        "`Idempotent-Replayed: true`) and adds nothing."
    ),
    responses={201: {"description": "The product with the new variant (or the replay)"}},
    openapi_extra=request_body(VariantCreate, JSON_MEDIA),
)
def add_variant(
    access: ProductWriter,
    if_match: IfMatch,
    body: JsonBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ctx = access.ctx
    command = AddVariant.from_json(
        access.merchant_id,
        access.product_id,
        ctx.ids.new_id(),
        body,
        if_match,
        idempotency_key,
    )
    added = use_cases.add_variant(ctx, access.principal, command)
    headers = {"Idempotent-Replayed": "true"} if added.replayed else None
    return product_response(added.product, ctx.assets, status_code=201, headers=headers)


@router.patch(
    "/{product_id}/variants/{variant_id}",
    response_model=ProductView,
    summary="Update a variant (JSON merge patch)",
    description=(
        "Merge patch (RFC 7396) of `sku`, `options`, `price`, `attributes`, `image_ids`, "
        "`barcode` and `stock`; `null` removes (a price then inherits the product's). The "
        "same rules as adding one hold for the result. `If-Match` as for the product."
    ),
    openapi_extra=request_body(VariantUpdate, MERGE_PATCH_MEDIA, JSON_MEDIA),
)
def update_variant(
    access: ProductWriter,
    variant_id: VariantId,
    if_match: IfMatch,
    body: MergePatchBody,
) -> Response:
    command = PatchVariant.from_json(
        access.merchant_id, access.product_id, variant_id, body, if_match
    )
    product = use_cases.patch_variant(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)


@router.delete(
    "/{product_id}/variants/{variant_id}",
    response_model=ProductView,
    summary="Remove a variant",
    description=(
        "Removes the variant, its SKU (free for another product or variant at once) and its "
        "channel overrides; channels stop offering it. A variant already removed is a 404."
    ),
)
def delete_variant(
    access: ProductWriter,
    variant_id: VariantId,
    if_match: IfMatch,
) -> Response:
    command = RemoveVariant(access.merchant_id, access.product_id, variant_id, if_match)
    product = use_cases.remove_variant(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)
