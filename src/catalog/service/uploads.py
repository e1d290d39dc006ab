"""Use cases of direct uploads: large image bytes go from the client straight to object
storage with a short-lived ticket, and the catalog references them once confirmed.

1. `request_upload` checks the declared type and size and returns a ticket: a form POST
   accepted by the storage only for one staging key, that content type and at most that size.
   Nothing is written and no storage call is made.
2. The client uploads to the storage (S3 presigned POST, or the embedded server's twin).
3. `confirm_upload` reads the staged object back and checks it like a multipart upload: the
   size, and the type sniffed from the bytes (never the declared one). A good image is copied
   to its final key and referenced through the same path as every other change (history,
   events); a bad one is deleted.

A ticket is single-use: once its upload is confirmed or rejected, the asset store closes it
(DirectUploads.close_upload) and it never adds an image again. Repeating the confirmation
that succeeded, with the same body, is the one exception: it answers the product again.

Staged objects live under `uploads/`, apart from the referenced images, so the ones never
confirmed can be removed once their ticket has expired (the embedded server sweeps them, a
bucket lifecycle rule expires them on S3) and a CDN in front of the bucket need not serve them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec import Struct

from catalog.domain import limits
from catalog.domain.errors import (
    ImageNotFound,
    ImageRejected,
    InvalidField,
    ProductInactive,
    UploadUsed,
)
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product, Stamp
from catalog.domain.values import ImageRef
from catalog.service.commands import ConfirmUpload, RequestUpload
from catalog.service.context import CatalogContext
from catalog.service.images import checked_image
from catalog.service.ports import DirectUploads
from catalog.service.principals import Principal, require_write
from catalog.service.products import apply, stored_product

UPLOAD_TICKET_SECONDS = 15 * 60
STAGING_PREFIX = "uploads"


class UploadTicket(Struct, frozen=True):
    """How to upload one image: POST `fields` plus a `file` part to `url` before
    `expires_at`, at most `max_bytes` bytes; then confirm `upload_id`."""

    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


def staging_key(merchant_id: str, product_id: str, upload_id: str) -> str:
    """Where the object of an upload waits for its confirmation. Derived, not stored: a
    merchant can only ever confirm objects under its own products."""
    return f"{STAGING_PREFIX}/{merchant_id}/{product_id}/{upload_id}"


def request_upload(
    ctx: CatalogContext, principal: Principal, command: RequestUpload
) -> UploadTicket:
    """A ticket to upload one image of the command's type and size. The product must exist
    and be able to take one more image; nothing is written."""
    merchant_id, product_id = command.merchant_id, command.product_id
    require_write(principal, merchant_id, product_id)
    uploads = direct_uploads(ctx)
    declared_type, max_bytes = command.content_type, command.max_bytes
    product = stored_product(ctx, merchant_id, product_id)
    # The checks add_image makes again at confirmation, made now so a client does not upload
    # megabytes that cannot be referenced.
    if product.status is Status.INACTIVE:
        raise ProductInactive(product_id)
    if len(product.images) >= limits.MAX_IMAGES:
        raise InvalidField("/images", f"a product holds at most {limits.MAX_IMAGES} images")
    upload_id = ctx.ids.new_id()
    url, fields = uploads.presign_upload(
        staging_key(merchant_id, product_id, upload_id),
        declared_type,
        max_bytes,
        UPLOAD_TICKET_SECONDS,
    )
    expires_at = ctx.clock.now() + timedelta(seconds=UPLOAD_TICKET_SECONDS)
    return UploadTicket(upload_id, url, fields, expires_at, max_bytes)


def confirm_upload(ctx: CatalogContext, principal: Principal, command: ConfirmUpload) -> Product:
    """Check the uploaded object and reference it as image `upload_id`.

    Single-use: an object that is too large or not an image is deleted and rejected
    (ImageRejected), and the ticket closed; a confirmed ticket is closed too. After that,
    confirming is UploadUsed, except for a repeat of the successful confirmation with the
    same `alt`, which returns the product and changes nothing. A missing object is
    ImageNotFound. When the reference cannot be committed (stale If-Match, inactive
    product, image limit) the ticket stays open, so the client can fix the cause and
    confirm again until the staged object is removed after the ticket's expiry.
    """
    merchant_id, product_id, upload_id = command.merchant_id, command.product_id, command.upload_id
    alt = command.alt
    require_write(principal, merchant_id, product_id)
    uploads = direct_uploads(ctx)
    product = stored_product(ctx, merchant_id, product_id)
    staged = staging_key(merchant_id, product_id, upload_id)
    confirmed = _image(product, upload_id)
    if confirmed is not None:
        if confirmed.alt != alt:
            raise UploadUsed(upload_id)
        # Also finishes a confirmation interrupted after its commit, and removes what a
        # client uploaded again with the ticket (S3 cannot refuse it): never confirmed.
        uploads.close_upload(staged)
        return product
    if uploads.upload_closed(staged):
        uploads.close_upload(staged)  # an upload made after the ticket closed is dropped
        raise UploadUsed(upload_id)
    data = uploads.read(staged, limits.MAX_IMAGE_BYTES)
    if data is None:
        raise ImageNotFound(upload_id)
    try:
        image = checked_image(ctx, merchant_id, product_id, upload_id, data, alt)
    except ImageRejected:
        uploads.close_upload(staged)
        raise

    def add(product: Product, stamp: Stamp) -> None:
        # A concurrent confirmation of the same upload may have committed since the read.
        if _image(product, upload_id) is None:
            product.add_image(image, stamp)

    # Written under the final key, with the sniffed type, before the reference exists: a
    # product never references bytes that are not there.
    ctx.assets.put(image.key, data, image.content_type)
    try:
        product = apply(ctx, principal, command, add)
    except BaseException:
        current = ctx.store.get(merchant_id, product_id)
        if current is None or _image(current, upload_id) is None:
            ctx.assets.delete(image.key)
        raise
    uploads.close_upload(staged)
    return product


def direct_uploads(ctx: CatalogContext) -> DirectUploads:
    """The asset store's direct-upload side (every asset store of the catalog has one)."""
    if not isinstance(ctx.assets, DirectUploads):
        raise TypeError(f"{type(ctx.assets).__name__} does not take direct uploads")
    return ctx.assets


def _image(product: Product, image_id: str) -> ImageRef | None:
    return next((image for image in product.images if image.id == image_id), None)
