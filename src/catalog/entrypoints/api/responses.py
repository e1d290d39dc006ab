"""Building HTTP responses: product views with their ETag, and the OpenAPI fragment that
documents hand-read request bodies (problems are declared in operations.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from catalog.domain.product import Product
from catalog.entrypoints.api.presenters import etag, product_view
from catalog.service.ports import AssetStore


class ViewResponse(JSONResponse):
    """A JSON view encoded by orjson: the same JSON as JSONResponse (compact, UTF-8), in a
    fraction of the time. Integers beyond 64 bits, which attributes may hold, fall back to
    the standard library."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)


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
    return ViewResponse(
        product_view(product, assets, channel), status_code=status_code, headers=all_headers
    )


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
