"""Use cases for product images: bytes go to object storage, the document keeps references."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from catalog.domain import limits
from catalog.domain.errors import IdempotencyKeyRaced, ImageRejected, ImageTooLarge
from catalog.domain.product import Product, Stamp
from catalog.domain.values import ImageRef, parse_text
from catalog.service.context import CatalogContext
from catalog.service.products import (
    KeyedRequest,
    apply,
    fingerprint,
    get_product,
    replay_after_race,
    replay_of,
)


@dataclass(frozen=True)
class AddedImage:
    product: Product
    replayed: bool  # True when an Idempotency-Key retry returned the first outcome


def add_image(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    data: bytes,
    actor: str,
    alt: str | None = None,
    if_match: int | None = None,
    idempotency_key: str | None = None,
) -> AddedImage:
    """Validate the bytes, store them, then add the reference. The object is removed again
    when the reference cannot be committed, so storage never keeps unreferenced uploads.
    With an Idempotency-Key, a retry of the same upload adds nothing and answers the first
    outcome."""
    alt = parse_text(alt, "/alt", limits.MAX_ALT_LENGTH, required=False)
    keyed = None
    if idempotency_key:
        digest = hashlib.sha256(data).hexdigest()
        keyed = KeyedRequest(idempotency_key, fingerprint(["image", product_id, alt, digest]))
        replay = replay_of(ctx, merchant_id, keyed)
        if replay is not None:
            return AddedImage(replay, replayed=True)
    image = checked_image(ctx, merchant_id, product_id, ctx.ids.new_id(), data, alt)
    get_product(ctx, merchant_id, product_id)  # 404 before anything is stored
    ctx.assets.put(image.key, data, image.content_type)
    try:
        product = apply(
            ctx,
            merchant_id,
            product_id,
            actor,
            lambda product, stamp: product.add_image(image, stamp),
            if_match,
            keyed,
        )
    except IdempotencyKeyRaced:
        ctx.assets.delete(image.key)
        assert keyed is not None
        return AddedImage(replay_after_race(ctx, merchant_id, keyed), replayed=True)
    except BaseException:
        ctx.assets.delete(image.key)
        raise
    return AddedImage(product, replayed=False)


def checked_image(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    image_id: str,
    data: bytes,
    alt: str | None,
) -> ImageRef:
    """The reference to `data` once it is known to be an image within the limits: type and
    dimensions read from the bytes, never from what the client declared."""
    if not data:
        raise ImageRejected("the image is empty")
    if len(data) > limits.MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"images are limited to {limits.MAX_IMAGE_BYTES} bytes")
    info = ctx.images.inspect(data)
    return ImageRef(
        id=image_id,
        key=f"{merchant_id}/{product_id}/{image_id}.{info.extension}",
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        bytes=len(data),
        alt=alt,
    )


def remove_image(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    image_id: str,
    actor: str,
    if_match: int | None = None,
) -> Product:
    removed: list[ImageRef] = []

    def command(product: Product, stamp: Stamp) -> None:
        removed[:] = [product.remove_image(image_id, stamp)]

    product = apply(ctx, merchant_id, product_id, actor, command, if_match)
    # The reference is gone for good once committed; the bytes follow it.
    ctx.assets.delete(removed[0].key)
    return product
