"""Small builders for domain tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from catalog.domain.product import Product, Stamp
from catalog.domain.values import ImageRef, Money

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
_counter = itertools.count(1)


def new_id() -> str:
    return f"ID{next(_counter):024d}"


def stamp(minutes: int = 0, actor: str = "alice") -> Stamp:
    return Stamp(actor, T0 + timedelta(minutes=minutes))


def image(image_id: str = "IMG1") -> ImageRef:
    return ImageRef(image_id, f"acme/P1/{image_id}.png", "image/png", 10, 20, 300)


def draft(**overrides: object) -> Product:
    fields: dict[str, object] = {
        "id": "P1",
        "merchant_id": "acme",
        "sku": "TS-1",
        "name": "Trail shoe",
        "description": "Light and fast",
        "price": Money(12999, "USD"),
        "attributes": {"color": "red"},
        "channel_overrides": {},
        "stamp": stamp(),
    }
    fields.update(overrides)
    product = Product.register(**fields)
    product.pull_change(new_id)
    return product


def complete_draft() -> Product:
    product = draft()
    product.add_image(image(), stamp(1))
    product.pull_change(new_id)
    return product


def with_status(status: str) -> Product:
    """A product that reached `status` through the lifecycle (ACTIVE forced: it is derived)."""
    from catalog.domain.lifecycle import Status

    product = complete_draft()
    target = Status(status)
    if target is Status.READY or target is Status.ACTIVE:
        product.transition(Status.READY, stamp(2))
        product.pull_change(new_id)
    if target is Status.ACTIVE:
        product.status = Status.ACTIVE  # entered only by listings (channel orchestration)
    if target is Status.INACTIVE:
        product.deactivate(stamp(2))
        product.pull_change(new_id)
    return product
