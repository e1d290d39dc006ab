"""Building HTTP responses: product views with their ETag, and the OpenAPI fragments that
document problems and hand-read request bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from catalog.domain.product import Product
from catalog.entrypoints.api.presenters import etag, product_view
from catalog.entrypoints.api.problems import PROBLEM_JSON
from catalog.service.ports import AssetStore

_PROBLEM_DESCRIPTIONS = {
    400: "Malformed body, header or cursor",
    401: "Missing, invalid or expired bearer token",
    403: "The principal may read but not change this merchant's products",
    404: "No such product (or one the principal may not see)",
    409: "Conflict with the product's current state",
    412: "If-Match names a version that is no longer current",
    413: "Body larger than the limit",
    415: "Unsupported content type",
    422: "Invalid field(s), named as JSON pointers",
}


def product_response(
    product: Product,
    assets: AssetStore,
    *,
    status_code: int = 200,
    channel: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    all_headers = {"ETag": etag(product, channel)}
    if headers:
        all_headers.update(headers)
    return JSONResponse(
        product_view(product, assets, channel), status_code=status_code, headers=all_headers
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problem documents a route may answer with."""
    return {
        status: {
            "description": _PROBLEM_DESCRIPTIONS.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def request_body(model: type[BaseModel], *media_types: str) -> dict[str, Any]:
    """`openapi_extra=` documenting a body the route reads by hand (see deps.json_body_reader).
    The model itself is added to the components by openapi.build_openapi."""
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {media: {"schema": reference} for media in media_types},
        }
    }
