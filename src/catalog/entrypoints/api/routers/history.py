"""A product's history: one entry per version, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from catalog.domain import limits
from catalog.entrypoints.api.deps import ProductReader, run_read
from catalog.entrypoints.api.presenters import history_entry_view
from catalog.entrypoints.api.responses import ViewResponse
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.schemas import HistoryPage
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
