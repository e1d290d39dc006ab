"""Direct uploads: a ticket to send a large image straight to object storage, then the
confirmation that checks it and adds it to the product (service/uploads.py).

The bytes never pass through the API (on AWS, neither through Lambda nor API Gateway and its
payload limits): the ticket is a presigned POST to S3, or its twin served by the embedded
server (POST /assets).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from catalog.domain import limits
from catalog.domain.errors import ImageNotFound
from catalog.domain.limits import ULID_PATTERN
from catalog.domain.timestamps import format_time
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    IfMatch,
    JsonBody,
    ProductWriter,
    json_body_reader,
)
from catalog.entrypoints.api.responses import product_response
from catalog.entrypoints.api.routing import resource_router
from catalog.entrypoints.api.schemas import ProductView
from catalog.service import uploads as use_cases
from catalog.service.commands import ConfirmUpload, RequestUpload

router = resource_router(prefix="/v1/merchants/{merchant_id}/products", tags=["images"])


class UploadTicketRequest(BaseModel):
    """The image the client is about to upload."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    content_type: Literal["image/png", "image/jpeg", "image/webp", "image/gif"] = Field(
        description="The image's type; the upload must declare exactly this Content-Type."
    )
    size: int = Field(
        ge=1,
        le=limits.MAX_IMAGE_BYTES,
        description="The file's size in bytes: the most the storage will accept.",
    )


class UploadConfirmation(BaseModel):
    """Optional body of the confirmation."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    alt: str | None = Field(
        default=None, max_length=limits.MAX_ALT_LENGTH, description="Alternative text."
    )


class UploadTicketView(BaseModel):
    """Where and how to upload: POST a `multipart/form-data` form to `url` with every entry
    of `fields` unchanged, then the file as a part named `file` (last), before `expires_at`.
    Then POST `confirm_url`."""

    model_config = ConfigDict(defer_build=True)

    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int
    confirm_url: str


def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra=` documenting a JSON body the route reads by hand."""
    return {
        "requestBody": {
            "required": model is UploadTicketRequest,
            "content": {JSON_MEDIA: {"schema": model.model_json_schema()}},
        }
    }


_read_json = json_body_reader(JSON_MEDIA)


async def optional_json_body(request: Request) -> Any:
    """The confirmation's body may be absent: then there is nothing to set."""
    if not (await request.body()).strip():
        return {}
    return await _read_json(request)


async def upload_id_param(
    upload_id: Annotated[str, Path(description="Upload id from the ticket (ULID).")],
) -> str:
    if not ULID_PATTERN.match(upload_id):
        raise ImageNotFound(upload_id)
    return upload_id


UploadId = Annotated[str, Depends(upload_id_param)]


@router.post(
    "/{product_id}/images/uploads",
    status_code=201,
    response_model=UploadTicketView,
    summary="Get an upload ticket",
    description=(
        "For large images: a short-lived ticket to upload the file straight to object storage "
        "(a presigned POST on S3), restricted to the declared type and at most `size` bytes. "
        "Nothing changes until the upload is confirmed. 422 when the product cannot take "
        f"another image (at most {limits.MAX_IMAGES}); 409 when it is INACTIVE."
    ),
    responses={
        201: {"description": "The ticket"},
    },
    openapi_extra=_json_schema(UploadTicketRequest),
)
def request_upload(access: ProductWriter, body: JsonBody, request: Request) -> Response:
    command = RequestUpload.from_json(access.merchant_id, access.product_id, body)
    ticket = use_cases.request_upload(access.ctx, access.principal, command)
    confirm_url = f"{request.url.path}/{ticket.upload_id}/confirm"
    return JSONResponse(
        {
            "upload_id": ticket.upload_id,
            "url": ticket.url,
            "fields": ticket.fields,
            "expires_at": format_time(ticket.expires_at),
            "max_bytes": ticket.max_bytes,
            "confirm_url": confirm_url,
        },
        status_code=201,
        # The fields are a credential: no cache keeps them.
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/{product_id}/images/uploads/{upload_id}/confirm",
    status_code=201,
    response_model=ProductView,
    summary="Confirm an uploaded image",
    description=(
        "Checks the uploaded object (size; type read from its bytes: PNG, JPEG, WebP or GIF) "
        "and adds it to the product's images under the id `upload_id`. A file that is not "
        "such an image is deleted (415), one over 10 MiB or 50 megapixels too (413). The "
        "ticket is single-use: once confirmed or rejected, confirming again is 409 "
        "`upload-used`, except a repeat of the successful confirmation with the same body, "
        "which returns the product unchanged. 404 when nothing was uploaded for this ticket, "
        "or the upload was removed after the ticket expired."
    ),
    responses={
        201: {"description": "The product with the new image"},
    },
    openapi_extra=_json_schema(UploadConfirmation),
)
def confirm_upload(
    access: ProductWriter,
    upload_id: UploadId,
    if_match: IfMatch,
    body: Annotated[Any, Depends(optional_json_body)],
) -> Response:
    command = ConfirmUpload.from_json(
        access.merchant_id, access.product_id, upload_id, body, if_match
    )
    product = use_cases.confirm_upload(access.ctx, access.principal, command)
    return product_response(product, access.ctx.assets, status_code=201)
