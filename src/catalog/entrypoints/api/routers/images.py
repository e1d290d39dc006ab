"""Product images: multipart upload of one image, a merge patch of its alt text, removal of a
reference.

The form is parsed by hand after authentication, so an anonymous client cannot make the
server parse an upload. Memory stays bounded: BodySizeLimit caps the whole request, the
multipart parser spools the file to disk past 1 MiB, and at most MAX_IMAGE_BYTES + 1 bytes
of it are ever read into memory.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from msgspec import Struct
from starlette.datastructures import UploadFile

from catalog.domain import limits
from catalog.domain.errors import InvalidField
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    MERGE_PATCH_MEDIA,
    IdempotencyKey,
    IfMatch,
    ImageId,
    MergePatchBody,
    ProductWriter,
)
from catalog.entrypoints.api.problems import ApiProblem
from catalog.entrypoints.api.responses import product_response, request_body
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.schemas import ImagePatch, ProductView
from catalog.service import images as use_cases
from catalog.service.commands import AddImage, ChangeImageAlt, RemoveImage

router = resource_router(prefix="/v1/merchants/{merchant_id}/products", tags=["images"])

MULTIPART_MEDIA = "multipart/form-data"
# Room for the multipart framing and the alt field around the largest accepted image.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_UPLOAD_BODY_BYTES = limits.MAX_IMAGE_BYTES + MULTIPART_OVERHEAD_BYTES
UPLOAD_PATH_PATTERN = r"/products/[^/]+/images$"

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            MULTIPART_MEDIA: {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": (
                                f"The image, at most {limits.MAX_IMAGE_BYTES} bytes. The type "
                                "is read from the bytes, not from the file name."
                            ),
                        },
                        "alt": {
                            "type": "string",
                            "maxLength": limits.MAX_ALT_LENGTH,
                            "description": "Alternative text.",
                        },
                    },
                }
            }
        },
    }
}


class Upload(Struct, frozen=True):
    data: bytes
    alt: str | None


def _field_error(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": message}])


async def read_upload(request: Request) -> Upload:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != MULTIPART_MEDIA:
        raise ApiProblem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"upload the image as {MULTIPART_MEDIA} with a `file` part",
        )
    form = await request.form(
        max_files=1, max_fields=4, max_part_size=4 * limits.MAX_ALT_LENGTH + 1024
    )
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise _field_error("file", "is required: a file part named `file`")
        alt = form.get("alt")
        if alt is not None and not isinstance(alt, str):
            raise _field_error("alt", "must be text")
        data = await file.read(limits.MAX_IMAGE_BYTES + 1)
    finally:
        await form.close()
    if len(data) > limits.MAX_IMAGE_BYTES:
        raise ApiProblem(
            413,
            "content-too-large",
            "Content too large",
            f"images are limited to {limits.MAX_IMAGE_BYTES} bytes",
        )
    if not data:
        raise InvalidField("/file", "is empty")
    return Upload(data, alt or None)


ImageUpload = Annotated[Upload, Depends(read_upload)]


@router.post(
    "/{product_id}/images",
    status_code=201,
    response_model=ProductView,
    summary="Upload an image",
    description=(
        "Multipart upload of one image (`file`, optional `alt`). The bytes are checked (type "
        "read from the content: PNG, JPEG, WebP or GIF; SVG and anything else is 415; over "
        f"{limits.MAX_IMAGE_BYTES // (1024 * 1024)} MiB or 50 megapixels is 413), "
        f"stored, and referenced by the product. At most {limits.MAX_IMAGES} images per "
        "product (422). Returns the updated product."
    ),
    responses={
        201: {"description": "The product with the new image"},
    },
    openapi_extra=_UPLOAD_BODY,
)
def upload_image(
    access: ProductWriter,
    if_match: IfMatch,
    upload: ImageUpload,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    command = AddImage.of(
        access.merchant_id, access.product_id, upload.data, upload.alt, if_match, idempotency_key
    )
    added = use_cases.add_image(access.ctx, access.principal, command)
    headers = {"Idempotent-Replayed": "true"} if added.replayed else None
    return product_response(added.product, access.ctx.assets, status_code=201, headers=headers)


@router.patch(
    "/{product_id}/images/{image_id}",
    response_model=ProductView,
    summary="Update an image's alt text (JSON merge patch)",
    description=(
        "Merge patch (RFC 7396) of the image's `alt` (at most "
        f"{limits.MAX_ALT_LENGTH} characters; `null` or an empty string removes it). The same "
        "text changes nothing: no new version. `If-Match` as for the product. Returns the "
        "updated product."
    ),
    openapi_extra=request_body(ImagePatch, MERGE_PATCH_MEDIA, JSON_MEDIA),
)
def update_image(
    access: ProductWriter,
    image_id: ImageId,
    if_match: IfMatch,
    body: MergePatchBody,
) -> Response:
    command = ChangeImageAlt.from_json(
        access.merchant_id, access.product_id, image_id, body, if_match
    )
    product = use_cases.change_image_alt(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)


@router.delete(
    "/{product_id}/images/{image_id}",
    response_model=ProductView,
    summary="Remove an image",
    description="Removes the reference and the stored bytes. Returns the updated product.",
)
def delete_image(
    access: ProductWriter,
    image_id: ImageId,
    if_match: IfMatch,
) -> Response:
    command = RemoveImage(access.merchant_id, access.product_id, image_id, if_match)
    product = use_cases.remove_image(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets)
