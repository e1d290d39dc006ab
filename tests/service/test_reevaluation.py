"""Re-evaluation after a type or a channel's requirements changed, on the in-memory adapters:
which products it touches, what each changed one records, that a second run writes nothing,
that a run cut short by a crash or by its time limit finishes the rest exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product
from catalog.service import channel_requirements, channels, images, product_types, products
from catalog.service.channel_requirements import PutChannelRequirements
from catalog.service.commands import (
    AddImage,
    ChangeStatus,
    CreateProductType,
    PatchProduct,
    PatchProductType,
    RegisterProduct,
    RequestPublication,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import Change
from catalog.service.reevaluation import Reevaluation, reevaluate, reevaluate_after
from tests.api.support import png
from tests.clocks import SteppingClock
from tests.principals import ALICE, OPERATOR, Principal

GLOBEX = Principal("bob", "globex", frozenset({"merchant"}))
APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {"brand": {"type": "string"}, "material": {"type": "string"}},
}


class CrashingStore(MemoryStore):
    """Commits `budget` changes, then fails as a process killed mid-run would."""

    budget: int | None = None

    def commit(self, change: Change) -> None:
        if self.budget is not None:
            if self.budget == 0:
                raise RuntimeError("killed")
            self.budget -= 1
        super().commit(change)


@pytest.fixture
def store() -> CrashingStore:
    return CrashingStore()


@pytest.fixture
def ctx(store: CrashingStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(datetime(2026, 12, 2, tzinfo=UTC)),
        ids=UlidIds(),
        cursors=CursorCodec(b"test-cursor-secret-0123456789abcdef"),
    )


def ready(ctx: CatalogContext, sku: str, who: Principal = ALICE, **fields: Any) -> Product:
    body = {
        "sku": sku,
        "name": "Shirt",
        "description": "Cotton",
        "price": {"amount": 1999, "currency": "USD"},
        **fields,
    }
    merchant = who.merchant_id
    assert merchant is not None
    product = products.register_product(ctx, who, RegisterProduct.from_json(merchant, body)).product
    images.add_image(ctx, who, AddImage.of(merchant, product.id, png()))
    return products.change_status(ctx, who, ChangeStatus(merchant, product.id, Status.READY))


def require_material(ctx: CatalogContext) -> DomainEvent:
    patch = {"attributes": {"material": {"type": "string", "required": True}}}
    product_types.patch_product_type(
        ctx, ALICE, PatchProductType.from_json("acme", "apparel", patch)
    )
    return last_event(ctx, EventName.PRODUCT_TYPE_UPDATED)


def declare(ctx: CatalogContext, channel: str, needs: list[str]) -> DomainEvent:
    command = PutChannelRequirements.from_json(channel, {"required": needs})
    channel_requirements.put_channel_requirements(ctx, OPERATOR, command)
    return last_event(ctx, EventName.CHANNEL_REQUIREMENTS_CHANGED)


def last_event(ctx: CatalogContext, name: EventName) -> DomainEvent:
    store = ctx.store
    assert isinstance(store, MemoryStore)
    return [r.event for r in store.read_after(0, 10_000) if r.event.name is name][-1]


def system_events(store: MemoryStore) -> list[tuple[str, str | None]]:
    return [
        (r.event.name.value, r.event.product_id)
        for r in store.read_after(0, 10_000)
        if r.event.name is EventName.COMPLETENESS_CHANGED
    ]


def current(ctx: CatalogContext, product: Product) -> Product:
    found = ctx.store.get(product.merchant_id, product.id)
    assert found is not None
    return found


@pytest.fixture
def apparel(ctx: CatalogContext) -> None:
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))


def test_a_type_change_reevaluates_the_products_of_that_type_only(
    ctx: CatalogContext, store: CrashingStore, apparel: None
) -> None:
    shirt = ready(ctx, "SH-1", product_type="apparel", attributes={"brand": "Acme"})
    done = ready(ctx, "SH-2", product_type="apparel", attributes={"material": "silk"})
    untyped = ready(ctx, "MUG-1")

    report = reevaluate_after(ctx, require_material(ctx))

    assert report is not None
    assert (report.visited, report.changed) == (2, 1)
    after = current(ctx, shirt)
    assert (after.version, after.status) == (shirt.version + 1, Status.DRAFT)
    assert after.completeness.ready == ("/attributes/material",)
    [entry, *_] = store.history("acme", shirt.id, limit=1, before_version=None)
    assert (entry.actor, entry.reason) == ("system", "product type apparel v2")
    assert entry.transition is not None and entry.transition.to_status == "DRAFT"
    assert entry.events == ("ProductCompletenessChanged", "ProductStatusChanged")
    assert current(ctx, done).version == done.version  # complete: not written
    assert current(ctx, untyped).version == untyped.version


def test_a_requirements_change_reevaluates_every_merchants_products(
    ctx: CatalogContext, store: CrashingStore
) -> None:
    acme = ready(ctx, "A-1")
    globex = ready(ctx, "G-1", GLOBEX)

    report = reevaluate_after(ctx, declare(ctx, "mercadolibre", ["/attributes/brand"]))

    assert report is not None and (report.visited, report.changed) == (2, 2)
    for product in (acme, globex):
        after = current(ctx, product)
        assert after.status is Status.READY  # a channel's needs leave READY as it is
        assert after.completeness.missing_on("mercadolibre") == ("/attributes/brand",)
    [entry] = store.history("globex", globex.id, limit=1, before_version=None)
    assert entry.reason == "channel mercadolibre requirements v1"


def test_a_second_run_writes_nothing(ctx: CatalogContext, store: CrashingStore) -> None:
    for sku in ("A-1", "A-2", "A-3"):
        ready(ctx, sku)
    event = declare(ctx, "mercadolibre", ["/attributes/brand"])
    reevaluate_after(ctx, event)
    before = store.read_after(0, 10_000)

    again = reevaluate_after(ctx, event)

    assert again is not None and (again.visited, again.changed) == (3, 0)
    assert store.read_after(0, 10_000) == before


def test_a_run_killed_halfway_finishes_the_rest_exactly_once_when_run_again(
    ctx: CatalogContext, store: CrashingStore
) -> None:
    made = [ready(ctx, f"A-{n}") for n in range(5)]
    event = declare(ctx, "mercadolibre", ["/attributes/brand"])

    store.budget = 2
    with pytest.raises(RuntimeError, match="killed"):
        reevaluate_after(ctx, event)
    store.budget = None
    reevaluate_after(ctx, event)

    assert sorted(p for _, p in system_events(store)) == sorted(p.id for p in made)
    for product in made:
        assert current(ctx, product).version == product.version + 1


def test_a_run_out_of_time_answers_where_to_go_on(
    ctx: CatalogContext, store: CrashingStore
) -> None:
    from catalog.service import reevaluation

    made = [ready(ctx, f"A-{n}") for n in range(5)] + [ready(ctx, "G-1", GLOBEX)]
    declare(ctx, "meta", ["/attributes/gtin"])
    pages = iter([True])

    original = reevaluation.PAGE_SIZE
    reevaluation.PAGE_SIZE = 2
    try:
        first = reevaluate(ctx, Reevaluation(channel="meta"), lambda: next(pages, False))
        assert first.resume is not None and first.changed == 2
        rest = reevaluate(ctx, first.resume)
    finally:
        reevaluation.PAGE_SIZE = original

    assert rest.resume is None and first.changed + rest.changed == len(made)
    assert sorted(p for _, p in system_events(store)) == sorted(p.id for p in made)


def test_a_listed_product_keeps_its_listing_and_shows_what_is_missing(
    ctx: CatalogContext, store: CrashingStore
) -> None:
    product = ready(ctx, "A-1")
    channels.request_publication(ctx, ALICE, RequestPublication("acme", product.id, "meta"))

    reevaluate_after(ctx, declare(ctx, "meta", ["/attributes/gtin"]))

    after = current(ctx, product)
    assert after.status is Status.READY
    assert after.listings["meta"].state.value == "PENDING"
    assert after.completeness.missing_on("meta") == ("/attributes/gtin",)


def test_a_writer_between_the_page_and_the_commit_is_not_overwritten(
    ctx: CatalogContext, store: CrashingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = ready(ctx, "A-1")
    event = declare(ctx, "meta", ["/attributes/gtin"])
    real_commit = MemoryStore.commit
    raced: list[bool] = []

    def commit_after_a_rival(self: MemoryStore, change: Change) -> None:
        if change.history.actor == "system" and not raced:
            raced.append(True)
            patch = PatchProduct("acme", product.id, {"attributes": {"gtin": "123"}})
            products.update_product(ctx, ALICE, patch)
        real_commit(self, change)

    monkeypatch.setattr(MemoryStore, "commit", commit_after_a_rival)
    report = reevaluate_after(ctx, event)

    assert report is not None and report.changed == 0  # the rival's write filled gtin
    after = current(ctx, product)
    assert after.attributes == {"gtin": "123"}
    assert after.completeness.complete_on("meta")


def test_a_type_change_that_leaves_its_attributes_alone_walks_no_product(
    ctx: CatalogContext, apparel: None
) -> None:
    ready(ctx, "SH-1", product_type="apparel", attributes={"brand": "Acme"})
    rename = PatchProductType.from_json("acme", "apparel", {"name": "Clothing"})
    product_types.patch_product_type(ctx, ALICE, rename)

    assert reevaluate_after(ctx, last_event(ctx, EventName.PRODUCT_TYPE_UPDATED)) is None
