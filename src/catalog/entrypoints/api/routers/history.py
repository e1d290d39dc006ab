"""A product's history: one entry per version, newest first; and restoring a version."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, Response

from catalog.domain import limits
from catalog.entrypoints.api.deps import IfMatch, ProductReader, ProductWriter, run_read
from catalog.entrypoints.api.presenters import history_entry_view
from catalog.entrypoints.api.responses import ViewResponse, product_response
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.schemas import HistoryPage, ProductView
from catalog.service import history_restore
from catalog.service import products as use_cases
from catalog.service.commands import ReadHistory

router = resource_router(prefix="/v1/merchants/{merchant_id}/products", tags=["history"])


@router.get(
    "/{product_id}/history",
    response_model=HistoryPage,
    summary="Product history",
    description=(
        "Every version newest first: who (`actor`), when (`at`), which fields changed with "
        "their old and new values (JSON pointers), the status transition if any and the "
        "events emitted. Paginated like the product list."
    ),
)
async def product_history(
    request: Request,
    access: ProductReader,
    limit: Annotated[int, Query(ge=1, le=limits.MAX_PAGE_SIZE)] = limits.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
) -> Response:
    query = ReadHistory(access.merchant_id, access.product_id, limit, cursor)
    page = await run_read(request, use_cases.product_history, access.ctx, access.principal, query)
    items = [history_entry_view(entry) for entry in page.items]
    return ViewResponse({"items": items, "next_cursor": page.next_cursor})


@router.post(
    "/{product_id}/history/{version}/restore",
    response_model=ProductView,
    summary="Restore a version",
    description=(
        "A new version whose `name`, `description`, `price`, `attributes`, "
        "`channel_overrides`, `product_type`, `options` and `variants` (with their ids) are "
        "those of `version`; `status`, `listings` and `images` stay as they are, and a "
        "variant's `image_ids` keep only the images the product still has. It is a change "
        "like any other: validated against the product type as it is now (422 naming the "
        "fields), refused if it would leave a listed product incomplete (422 "
        "`product-incomplete`), a variant SKU another product took since is a 409 "
        "`duplicate-sku`; its history entry has `restored_from`, and it emits "
        "`ProductUpdated`. A version the product never had is a 404. Restoring the current "
        "version, or one whose content is the current one, changes nothing (no new version)."
    ),
)
def restore_version(
    access: ProductWriter,
    version: Annotated[int, Path(description="The version to restore (see the history).")],
    if_match: IfMatch,
) -> Response:
    command = history_restore.RestoreVersion(
        access.merchant_id, access.product_id, version, if_match
    )
    product = history_restore.restore_version(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)
