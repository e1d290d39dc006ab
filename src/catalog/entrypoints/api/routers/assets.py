"""Serves image bytes of the embedded deployment behind signed URLs (LocalAssetStore.url_for).

Included in the app only when the embedded asset store is in use; on AWS the URLs point at
S3 or the CDN and this route does not exist.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from catalog.adapters.embedded.local_assets import AssetUnavailable, LocalAssetStore
from catalog.entrypoints.api.problems import problem_response

router = APIRouter()


def get_local_assets(request: Request) -> LocalAssetStore:
    store: LocalAssetStore = request.app.state.local_assets
    return store


LocalAssets = Annotated[LocalAssetStore, Depends(get_local_assets)]


def _not_found(request: Request) -> JSONResponse:
    return problem_response(
        request,
        404,
        slug="not-found",
        title="Not found",
        # One answer for a missing object, a bad signature and an expired URL, so a URL
        # cannot be used to probe which keys exist.
        detail="no asset at this URL, or the URL has expired",
        headers={"Cache-Control": "no-store"},
    )


def _is_timestamp(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 12


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list against the current ETag."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


@router.get("/assets/{key:path}", response_class=FileResponse, summary="Image bytes (signed URL)")
def get_asset(
    key: str,
    request: Request,
    assets: LocalAssets,
    # Read as text: a missing or malformed parameter is a 404 like any other bad URL, not a 422.
    expires: str | None = None,
    signature: str | None = None,
) -> Response:
    if expires is None or signature is None or not _is_timestamp(expires):
        return _not_found(request)
    expiry = int(expires)
    try:
        path, content_type = assets.open(key, expiry, signature)
        stat = os.stat(path)
    except (AssetUnavailable, FileNotFoundError):
        return _not_found(request)
    headers = {
        # Private: the URL is a capability; shared caches should not hold it past its owner.
        # Immutable: bytes never change under a key (every upload gets a new image id).
        "Cache-Control": f"private, max-age={assets.seconds_left(expiry)}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    response = FileResponse(path, media_type=content_type, headers=headers, stat_result=stat)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, response.headers["etag"]):
        not_modified = {
            name: response.headers[name] for name in ("etag", "cache-control", "last-modified")
        }
        return Response(status_code=304, headers=not_modified)
    return response


# HEAD answers like GET without the body (FileResponse knows how); kept out of the schema so
# the operation is listed once.
router.add_api_route(
    "/assets/{key:path}",
    get_asset,
    methods=["HEAD"],
    include_in_schema=False,
    response_class=FileResponse,
)
