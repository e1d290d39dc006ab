"""Backends under contract, and builders of the changes the tests commit.

Every test in this package runs once per backend. Adding a backend is one more entry in
BACKENDS, plus PERSISTENT if its data outlives the store object, plus OUTBOXES if the embedded
relay can consume it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from ulid import ULID

from catalog.domain.listing import Listing, ListingState
from catalog.domain.product import Product, Stamp
from catalog.domain.values import ChannelOverride, ImageRef, Money
from catalog.domain.variants import Variant
from catalog.service.ports import Change, IdempotencyRecord
from tests.backends import BACKENDS, OUTBOXES, PERSISTENT, PERSISTENT_OUTBOXES, CatalogStore


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every backend runs every suite here, except that the Outbox contract (the embedded
    relay's outbox) runs only on backends that are one (OUTBOXES)."""
    outbox_suite = metafunc.module.__name__.endswith(".test_outbox_contract")
    if "store" in metafunc.fixturenames:
        names = OUTBOXES if outbox_suite else list(BACKENDS)
        metafunc.parametrize("store", names, indirect=True)
    if "reopen" in metafunc.fixturenames:
        names = PERSISTENT_OUTBOXES if outbox_suite else PERSISTENT
        metafunc.parametrize("reopen", names, indirect=True)


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogStore]:
    with BACKENDS[request.param](request, tmp_path) as opened:
        yield opened


@pytest.fixture
def reopen(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], AbstractContextManager[CatalogStore]]:
    """Opens a new store on the same storage each time it is called."""
    return partial(BACKENDS[request.param], request, tmp_path)


# ---------------------------------------------------------------------- builders

T0 = datetime(2026, 11, 30, 12, 0, 0, 250_000, tzinfo=UTC)  # ms precision, as stored
ACTOR = "user-1"


def new_id() -> str:
    return str(ULID())


def image(alt: str | None = None) -> ImageRef:
    image_id = new_id()
    return ImageRef(
        id=image_id,
        key=f"acme/{image_id}.png",
        content_type="image/png",
        width=800,
        height=600,
        bytes=10240,
        alt=alt,
    )


def listing(state: str, at: datetime = T0, requested_version: int = 1) -> Listing:
    return Listing(state=ListingState(state), updated_at=at, requested_version=requested_version)


def _listings(raw: Mapping[str, Listing | str], at: datetime) -> dict[str, Listing]:
    return {
        channel: value if isinstance(value, Listing) else listing(value, at)
        for channel, value in raw.items()
    }


def idempotency(
    product: Product,
    key: str,
    *,
    expires_at: datetime = T0 + timedelta(hours=24),
    fingerprint: str = "digest-1",
) -> IdempotencyRecord:
    return IdempotencyRecord(
        merchant_id=product.merchant_id,
        key=key,
        fingerprint=fingerprint,
        product=copy.deepcopy(product),  # as it stands now, whatever happens to it next
        expires_at=expires_at,
    )


def create_change(
    merchant_id: str = "acme",
    *,
    product_id: str | None = None,
    sku: str | None = None,
    at: datetime = T0,
    name: str = "Trail shoe",
    description: str | None = None,
    price: Money | None = None,
    attributes: dict[str, Any] | None = None,
    channel_overrides: dict[str, ChannelOverride] | None = None,
    options: tuple[str, ...] = (),
    variants: list[Variant] | None = None,
    images: tuple[ImageRef, ...] = (),
    listings: Mapping[str, Listing | str] | None = None,
    deactivated: bool = False,
    idempotency_key: str | None = None,
    idempotency_expires_at: datetime | None = None,
) -> Change:
    """The change registering a new product (version 1), as the service builds it."""
    stamp = Stamp(ACTOR, at)
    product = Product.register(
        id=product_id or new_id(),
        merchant_id=merchant_id,
        sku=sku or "SKU-" + new_id(),
        name=name,
        description=description,
        price=price,
        attributes=attributes or {},
        channel_overrides=channel_overrides or {},
        options=options,
        variants=variants or [],
        stamp=stamp,
    )
    for ref in images:
        product.add_image(ref, stamp)
    # Stores keep listings as data; which commands produce them is the domain's business.
    product.listings = _listings(listings or {}, at)
    if deactivated:
        product.deactivate(stamp, "discontinued")
    pending = product.pull_change(new_id)
    assert pending is not None
    record = None
    if idempotency_key is not None:
        record = idempotency(
            product,
            idempotency_key,
            expires_at=idempotency_expires_at or at + timedelta(hours=24),
        )
    return Change(product, pending.expected_version, pending.history, pending.events, record)


def update_change(
    product: Product,
    *,
    at: datetime | None = None,
    name: str | None = None,
    listings: Mapping[str, Listing | str] | None = None,
    deactivated: bool = False,
) -> Change:
    """The next version of `product` (mutated in place): renamed, listings replaced if given,
    deactivated if asked (then the change carries two events, in order)."""
    stamp = Stamp(ACTOR, at or product.updated_at + timedelta(minutes=1))
    # The revision would refuse to edit a product incomplete where it is listed: these tests
    # store whatever listings they need, complete or not, so it is judged without them.
    kept, product.listings = product.listings, {}
    product.revise(
        name=name or product.name + "+",
        description=product.description,
        price=product.price,
        attributes=product.attributes,
        channel_overrides=product.channel_overrides,
        stamp=stamp,
    )
    product.listings = kept if listings is None else _listings(listings, stamp.at)
    if deactivated:
        product.deactivate(stamp, "discontinued")
    pending = product.pull_change(new_id)
    assert pending is not None
    return Change(product, pending.expected_version, pending.history, pending.events)


def committed(store: CatalogStore, change: Change) -> Product:
    store.commit(change)
    return change.product
