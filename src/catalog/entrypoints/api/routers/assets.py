"""Serves image bytes of the embedded deployment behind signed URLs (AssetStore.url_for), and
receives direct uploads made with a signed upload ticket (DirectUploads.presign_upload), both
through the container's SignedAssetFiles port.

Included in the app only when the embedded asset store is in use; on AWS the URLs point at
S3 or the CDN, uploads go to S3 itself, and these routes do not exist.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from catalog.domain import limits
from catalog.entrypoints.api.conditional import none_match
from catalog.entrypoints.api.problems import problem_response
from catalog.entrypoints.api.routing import resource_router
from catalog.service.ports import AssetUnavailable, SignedAssetFiles, UploadRefused

router = resource_router(tags=["assets"])

# For BodySizeLimit: a direct upload carries up to one image plus the form framing.
UPLOAD_PATH_PATTERN = r"^/assets$"
# The largest ticket (an import file's); each ticket's own limit is checked as the file is
# stored. The form's framing gets a little room on top.
MAX_UPLOAD_BODY_BYTES = limits.MAX_IMPORT_UPLOAD_BYTES + 64 * 1024
_POLICY_FIELDS = ("key", "Content-Type", "policy", "signature")


def get_local_assets(request: Request) -> SignedAssetFiles:
    store: SignedAssetFiles = request.app.state.local_assets
    return store


LocalAssets = Annotated[SignedAssetFiles, Depends(get_local_assets)]


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
    if if_none_match is not None and none_match(if_none_match, response.headers["etag"]):
        not_modified = {
            name: response.headers[name] for name in ("etag", "cache-control", "last-modified")
        }
        return Response(status_code=304, headers=not_modified)
    return response


_UPLOAD_TITLES = {400: "Bad request", 403: "Upload refused", 413: "Content too large"}
_UPLOAD_SLUGS = {400: "upload-refused", 403: "upload-refused", 413: "content-too-large"}


def _refused(request: Request, refusal: UploadRefused) -> JSONResponse:
    return problem_response(
        request,
        refusal.status,
        slug=_UPLOAD_SLUGS[refusal.status],
        title=_UPLOAD_TITLES[refusal.status],
        detail=refusal.reason,
    )


@router.post(
    "/assets",
    status_code=204,
    summary="Direct upload (signed ticket)",
    description=(
        "Where an upload ticket of `POST .../images/uploads` sends the file on the embedded "
        "deployment, like a presigned POST to S3: a `multipart/form-data` form with the "
        "ticket's `fields` unchanged and the bytes in a `file` part. No bearer token: the "
        "signed ticket is the permission. Then confirm the upload to reference the image. A "
        "ticket is single-use: once its upload was confirmed or rejected, it is refused (403)."
    ),
    response_class=Response,
    responses={
        204: {"description": "Stored"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [*_POLICY_FIELDS, "file"],
                        "properties": {
                            **{name: {"type": "string"} for name in _POLICY_FIELDS},
                            "file": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def receive_upload(request: Request, assets: LocalAssets) -> Response:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "multipart/form-data":
        return _refused(request, UploadRefused(400, "send the upload as multipart/form-data"))
    form = await request.form(max_files=1, max_fields=8, max_part_size=8192)
    try:
        fields = {
            name: value for name in _POLICY_FIELDS if isinstance(value := form.get(name), str)
        }
        file = form.get("file")
        try:
            # The policy is checked before a byte of the file is read into memory.
            policy = assets.verify_upload(fields)
            if not isinstance(file, UploadFile):
                raise UploadRefused(400, "the form has no `file` part")
            # The form parser spooled the file to disk; it is copied in chunks (an import's
            # file may be a gigabyte), off the event loop.
            await run_in_threadpool(assets.store_upload, policy, file.file)
        except UploadRefused as refusal:
            return _refused(request, refusal)
    finally:
        await form.close()
    return Response(status_code=204)
