"""Find anything by SKU: the product, and the variant, holding it (one storage read)."""

from __future__ import annotations

from fastapi import Request, Response

from catalog.entrypoints.api.deps import MerchantReader, run_read
from catalog.entrypoints.api.responses import ViewResponse
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.schemas import SkuView
from catalog.service import variants as use_cases
from catalog.service.commands import FindSku

router = resource_router(prefix="/v1/merchants/{merchant_id}/skus", tags=["skus"])


@router.get(
    "/{sku:path}",
    response_model=SkuView,
    summary="Find a SKU",
    description=(
        "The product holding `sku`, as its own SKU or one of its variants'; 404 when no "
        "product or variant of the merchant holds it. Then `GET .../products/{product_id}`."
    ),
)
async def find_sku(request: Request, access: MerchantReader) -> Response:
    query = FindSku(access.merchant_id, request.path_params["sku"])
    owner = await run_read(request, use_cases.find_sku, access.ctx, access.principal, query)
    view = {"sku": owner.sku, "product_id": owner.product_id, "variant_id": owner.variant_id}
    return ViewResponse(view, headers={"Cache-Control": "private, no-cache"})
