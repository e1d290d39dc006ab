"""Channel orchestration: publication requests (merchants) and listing outcomes (adapters)."""

from __future__ import annotations

from fastapi import Response

from catalog.entrypoints.api.deps import IfMatch, JsonBody, ProductReader, ProductWriter
from catalog.entrypoints.api.responses import product_response, request_body
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.schemas import ListingOutcomeReport, ProductView
from catalog.service import channels as use_cases
from catalog.service.commands import ReportOutcome, RequestPublication, RequestUnpublication
from catalog.service.principals import require_report

JSON_MEDIA = "application/json"
router = resource_router(
    prefix="/v1/merchants/{merchant_id}/products/{product_id}/channels/{channel}",
    tags=["channels"],
)


@router.post(
    "/publish",
    status_code=202,
    response_model=ProductView,
    summary="Request publication on a channel",
    description=(
        "The listing becomes PENDING and ProductPublicationRequested is emitted; the channel's "
        "adapter publishes and reports back. Needs a READY or ACTIVE product (409 "
        "`not-publishable` otherwise). A listing already PENDING or PUBLISHED is left alone."
    ),
)
def request_publication(access: ProductWriter, channel: str, if_match: IfMatch) -> Response:
    command = RequestPublication(access.merchant_id, access.product_id, channel, if_match)
    product = use_cases.request_publication(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets, status_code=202)


@router.post(
    "/unpublish",
    status_code=202,
    response_model=ProductView,
    summary="Request withdrawal from a channel",
    description=(
        "A PENDING or PUBLISHED listing becomes UNPUBLISHING and "
        "ProductUnpublicationRequested is emitted; otherwise nothing changes."
    ),
)
def request_unpublication(access: ProductWriter, channel: str, if_match: IfMatch) -> Response:
    command = RequestUnpublication(access.merchant_id, access.product_id, channel, if_match)
    product = use_cases.request_unpublication(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets, status_code=202)


@router.put(
    "/listing",
    response_model=ProductView,
    summary="Report a listing outcome (channel adapters)",
    description=(
        "Only a principal with role `channel:<channel>` may report (403 otherwise). PUBLISHED "
        "(with `external_id`), FAILED (with `message`) or UNPUBLISHED, for the product version "
        "the adapter acted on. Idempotent. An outcome older than the listing's current request "
        "is ignored: 200 with header `Outcome-Ignored: stale` and nothing written."
    ),
    openapi_extra=request_body(ListingOutcomeReport, JSON_MEDIA),
)
def report_listing(access: ProductReader, channel: str, body: JsonBody) -> Response:
    # Asked before the body is read, so that a client sees 403 before any problem with it.
    require_report(access.principal, access.merchant_id, access.product_id, channel)
    command = ReportOutcome.from_json(access.merchant_id, access.product_id, channel, body)
    reported = use_cases.report_outcome(access.ctx, access.principal, command)
    headers = None if reported.applied else {"Outcome-Ignored": "stale"}
    return product_response(reported.product, access.ctx.assets, headers=headers)
