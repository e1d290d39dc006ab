"""Use cases of product types: create, read, list, merge-patch, delete (DESIGN.md section 9).

A type belongs to a merchant: whoever may read the merchant's products may read its types, and
whoever may change them may change its types. Every write emits its event with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import Struct

from catalog.domain.errors import PreconditionFailed, ProductTypeNotFound, VersionConflict
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.merge_patch import merge_patch
from catalog.domain.product_types import ProductType, parse_type_content
from catalog.service.commands import (
    CreateProductType,
    DeleteProductType,
    GetProductType,
    ListProductTypes,
    PatchProductType,
)
from catalog.service.context import CatalogContext
from catalog.service.ports import TypeChange
from catalog.service.principals import Principal, require_read, require_write
from catalog.service.products import MAX_CONFLICT_RETRIES, check_limit


class ProductTypePage(Struct, frozen=True):
    items: list[ProductType]
    next_cursor: str | None


def create_product_type(
    ctx: CatalogContext, principal: Principal, command: CreateProductType
) -> ProductType:
    require_write(principal, command.merchant_id)
    created = ProductType.create(command.merchant_id, command.key, command.content, ctx.clock.now())
    event = _event(ctx, EventName.PRODUCT_TYPE_CREATED, created, created.updated_at)
    ctx.store.commit_type(TypeChange(created, 0, (event,)))
    return created


def get_product_type(
    ctx: CatalogContext, principal: Principal, query: GetProductType
) -> ProductType:
    require_read(principal, query.merchant_id)
    return stored_type(ctx, query.merchant_id, query.key)


def stored_type(ctx: CatalogContext, merchant_id: str, key: str) -> ProductType:
    product_type = ctx.store.product_type(merchant_id, key)
    if product_type is None:
        raise ProductTypeNotFound(key)
    return product_type


def list_product_types(
    ctx: CatalogContext, principal: Principal, query: ListProductTypes
) -> ProductTypePage:
    merchant_id = query.merchant_id
    require_read(principal, merchant_id)
    check_limit(query.limit)
    scope = {"q": "product-types"}
    position = ctx.cursors.decode(merchant_id, scope, query.cursor) if query.cursor else None
    page = ctx.store.product_types(merchant_id, limit=query.limit, position=position)
    next_cursor = ctx.cursors.encode(merchant_id, scope, page.position) if page.position else None
    return ProductTypePage(page.items, next_cursor)


def patch_product_type(
    ctx: CatalogContext, principal: Principal, command: PatchProductType
) -> ProductType:
    """Merge-patch the type's content and validate the result whole; a patch that changes
    nothing writes nothing. Without If-Match a concurrent change is re-read and the patch
    applied over it, as for products."""
    require_write(principal, command.merchant_id)
    for _ in range(MAX_CONFLICT_RETRIES):
        current = _current(ctx, command.merchant_id, command.key, command.if_match)
        content = parse_type_content(merge_patch(current.content.to_json(), command.patch))
        now = ctx.clock.now()
        revised, changed = current.revised(content, now)
        if not changed:
            return current
        event = _event(ctx, EventName.PRODUCT_TYPE_UPDATED, revised, now, changed)
        try:
            ctx.store.commit_type(TypeChange(revised, current.version, (event,)))
        except VersionConflict:
            continue
        return revised
    raise VersionConflict(command.key, current.version)


def delete_product_type(
    ctx: CatalogContext, principal: Principal, command: DeleteProductType
) -> None:
    """Delete a type no product has (ProductTypeInUse otherwise). A retried delete finds no
    type: 404, and nothing is emitted twice."""
    require_write(principal, command.merchant_id)
    for _ in range(MAX_CONFLICT_RETRIES):
        current = _current(ctx, command.merchant_id, command.key, command.if_match)
        now = ctx.clock.now()
        gone = ProductType(
            current.merchant_id,
            current.key,
            current.content,
            current.version + 1,
            current.created_at,
            now,
        )
        event = _event(ctx, EventName.PRODUCT_TYPE_DELETED, gone, now)
        try:
            ctx.store.commit_type(TypeChange(gone, current.version, (event,), deleted=True))
        except VersionConflict:
            continue
        return
    raise VersionConflict(command.key, current.version)


def _current(ctx: CatalogContext, merchant_id: str, key: str, if_match: int | None) -> ProductType:
    current = stored_type(ctx, merchant_id, key)
    if if_match is not None and current.version != if_match:
        raise PreconditionFailed(current.version, if_match, what="product type")
    return current


def _event(
    ctx: CatalogContext,
    name: EventName,
    product_type: ProductType,
    at: datetime,
    changed: list[str] | None = None,
) -> DomainEvent:
    data: dict[str, Any] = {}
    if name is not EventName.PRODUCT_TYPE_DELETED:
        data = {
            "name": product_type.content.name,
            "attribute_names": list(product_type.content.attributes),
        }
    if changed:
        data["changed_fields"] = changed
    return DomainEvent(
        id=ctx.ids.new_id(),
        name=name,
        merchant_id=product_type.merchant_id,
        product_id=None,
        version=product_type.version,
        occurred_at=at,
        data=data,
        product_type=product_type.key,
    )
