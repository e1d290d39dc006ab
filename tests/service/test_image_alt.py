"""images.change_image_alt: who may change an image's alt text, and what the change records.

The roles are the access table's (tests/service/test_access.py): the merchant and the platform
may write; a channel adapter in scope may read but is refused; anybody else sees no product.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.system_clock import SystemClock
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain import limits
from catalog.domain.errors import AccessDenied, ImageNotFound, InvalidField, ProductNotFound
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product
from catalog.service import channels, images, products
from catalog.service.commands import (
    AddImage,
    ChangeImageAlt,
    ChangeStatus,
    RegisterProduct,
    RequestPublication,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.principals import Principal
from tests.api.support import png
from tests.principals import ALICE, OPERATOR
from tests.service.test_access import READERS, ROLES, WRITERS


@dataclass
class Catalog:
    ctx: CatalogContext
    store: MemoryStore
    product: Product  # READY, one image (alt "Front"), PENDING on channel ml

    def current(self) -> Product:
        found = self.store.get("acme", self.product.id)
        assert found is not None
        return found

    def events(self) -> int:
        return len(self.store.read_after(0, 10_000))

    def change(self, principal: Principal, alt: str | None) -> Product:
        image = self.product.images[0].id
        command = ChangeImageAlt("acme", self.product.id, image, alt)
        return images.change_image_alt(self.ctx, principal, command)


@pytest.fixture
def catalog() -> Catalog:
    store = MemoryStore()
    ctx = CatalogContext(
        store,
        MemoryAssetStore(),
        PillowImageInspector(),
        SystemClock(),
        UlidIds(),
        CursorCodec(b"k" * 32),
    )
    body = {
        "sku": "TS-1",
        "name": "Trail shoe",
        "description": "Light",
        "price": {"amount": 12999, "currency": "USD"},
    }
    product = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product
    images.add_image(ctx, ALICE, AddImage.of("acme", product.id, png(), "Front"))
    products.change_status(ctx, ALICE, ChangeStatus("acme", product.id, Status.READY))
    channels.request_publication(ctx, ALICE, RequestPublication("acme", product.id, "ml"))
    stored = store.get("acme", product.id)  # as the store keeps it (times to the millisecond)
    assert stored is not None
    return Catalog(ctx, store, stored)


@pytest.mark.parametrize("role", sorted(WRITERS))
def test_a_writer_changes_the_alt_and_history_names_them(catalog: Catalog, role: str) -> None:
    principal = ROLES[role]

    changed = catalog.change(principal, "Side view")

    assert changed.images[0].alt == "Side view"
    assert catalog.current().images == changed.images
    assert changed.version == catalog.product.version + 1
    [latest] = catalog.store.history("acme", changed.id, limit=1, before_version=None)
    assert latest.actor == principal.subject


@pytest.mark.parametrize("role", sorted(set(ROLES) - WRITERS))
def test_anybody_else_is_refused_and_nothing_is_written(catalog: Catalog, role: str) -> None:
    events = catalog.events()
    # A reader (a channel adapter in scope) is told it may not; anybody else (another merchant,
    # an adapter out of scope) sees no product.
    refusal = AccessDenied if role in READERS else ProductNotFound

    with pytest.raises(refusal):
        catalog.change(ROLES[role], "Side view")

    assert catalog.current() == catalog.product
    assert catalog.events() == events


def test_the_listed_channel_is_told_to_resync(catalog: Catalog) -> None:
    changed = catalog.change(OPERATOR, "Side view")

    [record] = catalog.store.read_after(0, 10_000)[-1:]
    event = record.event
    assert (event.name.value, event.version) == ("ProductUpdated", changed.version)
    assert event.data["channels"] == ["ml"]
    assert event.data["changed_fields"] == [f"/images/{changed.images[0].id}/alt"]
    assert changed.status is Status.READY


def test_the_same_text_writes_nothing(catalog: Catalog) -> None:
    events = catalog.events()
    assert catalog.change(ALICE, "Front").version == catalog.product.version
    assert catalog.events() == events


def test_an_image_the_product_does_not_have_is_not_found(catalog: Catalog) -> None:
    command = ChangeImageAlt("acme", catalog.product.id, "01JD8X6B2Q3R4S5T6V7W8X9Y0Z", "x")
    with pytest.raises(ImageNotFound):
        images.change_image_alt(catalog.ctx, ALICE, command)
    without_alt = ChangeImageAlt.from_json(
        "acme", catalog.product.id, "01JD8X6B2Q3R4S5T6V7W8X9Y0Z", {}
    )
    with pytest.raises(ImageNotFound):
        images.change_image_alt(catalog.ctx, ALICE, without_alt)


def test_the_body_is_parsed_as_at_upload() -> None:
    parsed = ChangeImageAlt.from_json("acme", "p", "i", {"alt": "Side"}, if_match=3)
    assert (parsed.alt, parsed.if_match, parsed.sets_alt) == ("Side", 3, True)
    assert ChangeImageAlt.from_json("acme", "p", "i", {"alt": ""}).alt is None
    assert ChangeImageAlt.from_json("acme", "p", "i", {}).sets_alt is False
    with pytest.raises(InvalidField) as refused:
        ChangeImageAlt.from_json("acme", "p", "i", {"alt": "a" * (limits.MAX_ALT_LENGTH + 1)})
    assert refused.value.field == "/alt"
