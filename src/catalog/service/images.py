"""Use cases for product images: bytes go to object storage, the document keeps references."""

from __future__ import annotations

from msgspec import Struct

from catalog.domain import limits
from catalog.domain.errors import (
    IdempotencyKeyRaced,
    ImageNotFound,
    ImageRejected,
    ImageTooLarge,
)
from catalog.domain.product import Product, Stamp
from catalog.domain.values import ImageRef
from catalog.service.commands import AddImage, ChangeImageAlt, RemoveImage
from catalog.service.context import CatalogContext
from catalog.service.principals import Principal, require_write
from catalog.service.products import apply, replay_after_race, replay_of, stored_product


class AddedImage(Struct, frozen=True):
    product: Product
    replayed: bool  # True when an Idempotency-Key retry returned the first outcome


def add_image(ctx: CatalogContext, principal: Principal, command: AddImage) -> AddedImage:
    """Validate the bytes, store them, then add the reference. The object is removed again
    when the reference cannot be committed, so storage never keeps unreferenced uploads.
    With an Idempotency-Key, a retry of the same upload adds nothing and answers the first
    outcome."""
    merchant_id, product_id = command.merchant_id, command.product_id
    require_write(principal, merchant_id, product_id)
    keyed = command.idempotency
    if keyed:
        replay = replay_of(ctx, merchant_id, keyed)
        if replay is not None:
            return AddedImage(replay, replayed=True)
    image = checked_image(ctx, merchant_id, product_id, ctx.ids.new_id(), command.data, command.alt)
    stored_product(ctx, merchant_id, product_id)  # 404 before anything is stored
    ctx.assets.put(image.key, command.data, image.content_type)
    try:
        product = apply(
            ctx, principal, command, lambda product, stamp: product.add_image(image, stamp), keyed
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


def remove_image(ctx: CatalogContext, principal: Principal, command: RemoveImage) -> Product:
    require_write(principal, command.merchant_id, command.product_id)
    removed: list[ImageRef] = []

    def mutate(product: Product, stamp: Stamp) -> None:
        removed[:] = [product.remove_image(command.image_id, stamp)]

    product = apply(ctx, principal, command, mutate)
    # The reference is gone for good once committed; the bytes follow it.
    ctx.assets.delete(removed[0].key)
    return product


def change_image_alt(ctx: CatalogContext, principal: Principal, command: ChangeImageAlt) -> Product:
    """A new alternative text for one image of the product: a new version, unless the text
    is the one it has."""
    require_write(principal, command.merchant_id, command.product_id)

    def mutate(product: Product, stamp: Stamp) -> None:
        if command.sets_alt:
            product.change_image_alt(command.image_id, command.alt, stamp)
        elif all(image.id != command.image_id for image in product.images):
            raise ImageNotFound(command.image_id)

    return apply(ctx, principal, command, mutate)
