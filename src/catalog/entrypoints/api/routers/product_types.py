"""Product types: a merchant's kinds of product and the attributes each carries (DESIGN.md
section 9). Create, read, list, merge-patch (If-Match) and delete (409 while in use)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from catalog.domain import limits
from catalog.domain.errors import ProductTypeNotFound
from catalog.domain.product_types import TYPE_KEY_PATTERN, ProductType
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    MERGE_PATCH_MEDIA,
    IfMatch,
    JsonBody,
    MerchantReader,
    MerchantWriter,
    MergePatchBody,
    run_read,
)
from catalog.entrypoints.api.presenters import product_type_view
from catalog.entrypoints.api.responses import ViewResponse, request_body
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.type_schemas import (
    ProductTypeCreate,
    ProductTypePage,
    ProductTypeUpdate,
    ProductTypeView,
)
from catalog.service import product_types as use_cases
from catalog.service.commands import (
    CreateProductType,
    DeleteProductType,
    GetProductType,
    ListProductTypes,
    PatchProductType,
)

router = resource_router(prefix="/v1/merchants/{merchant_id}/product-types", tags=["product-types"])

_ETAG_HEADER = {
    "ETag": {"description": 'The type\'s version, quoted: "3".', "schema": {"type": "string"}}
}


async def type_key(request: Request) -> str:
    """A key that cannot exist is the 404 of an absent type."""
    key: str = request.path_params["key"]
    if not TYPE_KEY_PATTERN.fullmatch(key):
        raise ProductTypeNotFound(key)
    return key


TypeKey = Annotated[str, Depends(type_key)]


def _response(product_type: ProductType, status_code: int = 200, **headers: str) -> Response:
    return ViewResponse(
        product_type_view(product_type),
        status_code=status_code,
        headers={"ETag": f'"{product_type.version}"', **headers},
    )


@router.post(
    "",
    status_code=201,
    response_model=ProductTypeView,
    summary="Create a product type",
    description=(
        "A kind of product the merchant sells and the attributes it carries: each attribute's "
        "`type` (string, integer, number, boolean, enum, url) and bounds, whether READY needs "
        "it (`required`), which channels need it (`required_on`) and whether it can be a "
        "variant option (`variant_axis`). Every bad member is reported at once."
    ),
    responses={
        201: {
            "description": "Created",
            "headers": {
                **_ETAG_HEADER,
                "Location": {"description": "URL of the type", "schema": {"type": "string"}},
            },
        }
    },
    openapi_extra=request_body(ProductTypeCreate, JSON_MEDIA),
)
def create_product_type(request: Request, access: MerchantWriter, body: JsonBody) -> Response:
    command = CreateProductType.from_json(access.merchant_id, body)
    created = use_cases.create_product_type(access.ctx, access.principal, command)
    root = request.scope.get("root_path", "")
    location = f"{root}/v1/merchants/{access.merchant_id}/product-types/{created.key}"
    return _response(created, 201, Location=location)


@router.get(
    "",
    response_model=ProductTypePage,
    summary="List product types",
    description="The merchant's product types in key order, one page at a time.",
)
async def list_product_types(
    request: Request,
    access: MerchantReader,
    limit: Annotated[int, Query(ge=1, le=limits.MAX_PAGE_SIZE)] = limits.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
) -> Response:
    query = ListProductTypes(access.merchant_id, limit, cursor)
    page = await run_read(
        request, use_cases.list_product_types, access.ctx, access.principal, query
    )
    items = [product_type_view(item) for item in page.items]
    return ViewResponse({"items": items, "next_cursor": page.next_cursor})


@router.get(
    "/{key}",
    response_model=ProductTypeView,
    summary="Get a product type",
    responses={200: {"description": "The product type", "headers": _ETAG_HEADER}},
)
async def get_product_type(request: Request, access: MerchantReader, key: TypeKey) -> Response:
    query = GetProductType(access.merchant_id, key)
    found = await run_read(request, use_cases.get_product_type, access.ctx, access.principal, query)
    return _response(found)


@router.patch(
    "/{key}",
    response_model=ProductTypeView,
    summary="Update a product type (JSON merge patch)",
    description=(
        "Merges the patch into the type's name, attributes and additional_attributes (`null` "
        "removes an attribute, or a member of a definition) and validates the result whole. "
        "Send `If-Match` with the ETag you read to be told (412) when someone changed it first."
    ),
    responses={200: {"description": "The updated type", "headers": _ETAG_HEADER}},
    openapi_extra=request_body(ProductTypeUpdate, MERGE_PATCH_MEDIA, JSON_MEDIA),
)
def update_product_type(
    access: MerchantWriter, key: TypeKey, if_match: IfMatch, body: MergePatchBody
) -> Response:
    command = PatchProductType.from_json(access.merchant_id, key, body, if_match)
    return _response(use_cases.patch_product_type(access.ctx, access.principal, command))


@router.delete(
    "/{key}",
    status_code=204,
    summary="Delete a product type",
    description=(
        "Only a type no product has: otherwise 409 `product-type-in-use`. A retried delete "
        "answers 404."
    ),
    responses={204: {"description": "Deleted"}},
)
def delete_product_type(access: MerchantWriter, key: TypeKey, if_match: IfMatch) -> Response:
    command = DeleteProductType(access.merchant_id, key, if_match)
    use_cases.delete_product_type(access.ctx, access.principal, command)
    return Response(status_code=204)
