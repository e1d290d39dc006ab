"""The ProductStore contract: every backend stores, conditions and lists products alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest

from catalog.adapters.product_documents import product_to_document
from catalog.domain import limits
from catalog.domain.errors import (
    DuplicateSku,
    IdempotencyKeyRaced,
    ProductTooLarge,
    VersionConflict,
)
from catalog.domain.lifecycle import Status
from catalog.domain.listing import Listing, ListingState
from catalog.domain.product import Stamp
from catalog.domain.values import ChannelOverride, Money
from catalog.service.ports import Change

from .conftest import (
    T0,
    CatalogStore,
    committed,
    create_change,
    idempotency,
    image,
    new_id,
    update_change,
)


def all_events(store: CatalogStore) -> list[object]:
    return [record.event for record in store.read_after(0, 1000)]


def walk(
    store: CatalogStore,
    merchant_id: str,
    *,
    limit: int,
    status: Status | None = None,
    channel: str | None = None,
) -> list[list[str]]:
    """The ids of every page, following positions until the store says there is no more."""
    pages: list[list[str]] = []
    position = None
    while True:
        page = store.page(
            merchant_id, status=status, channel=channel, limit=limit, position=position
        )
        pages.append([product.id for product in page.items])
        if page.position is None:
            return pages
        assert page.position == page.items[-1].id
        assert len(pages) < 50, "paging does not end"
        position = page.position


def race(action: Callable[[Change], None], changes: Sequence[Change]) -> list[Exception | None]:
    """Runs every change at once from its own thread; returns each outcome."""
    start = threading.Barrier(len(changes))

    def attempt(change: Change) -> Exception | None:
        start.wait()
        try:
            action(change)
        except Exception as error:
            return error
        return None

    with ThreadPoolExecutor(max_workers=len(changes)) as pool:
        return list(pool.map(attempt, changes))


# ---------------------------------------------------------------------- documents


def test_a_committed_product_reads_back_with_every_field(store: CatalogStore) -> None:
    change = create_change(
        sku="TS-1/red_42.v2",
        name="Zapatilla de montaña «Ñandú» 👟",
        description="Línea 1\nLine 2 \u2014 日本語 \"quoted\" 'single' \\ back",
        price=Money(12999, "USD"),
        attributes={
            "color": "rojo",
            "size": 42,
            "weight_kg": 0.35,
            "waterproof": True,
            "discontinued": None,
            "tags": ["trail", "ñ", 7],
            "dimensions": {"box": {"w": 30, "h": 12}},
        },
        channel_overrides={
            "mercadolibre": ChannelOverride(
                name="Zapatilla", price=Money(11999, "ARS"), attributes={"size": None}
            ),
            "facebook": ChannelOverride(description="Para el cerro"),
        },
        images=(image(alt="Vista lateral ✓"), image()),
        listings={
            "mercadolibre": Listing(
                state=ListingState.PUBLISHED,
                updated_at=T0 + timedelta(seconds=5),
                requested_version=1,
                external_id="MLA123",
                external_url="https://articulo.mercadolibre.com.ar/MLA123",
                extra={"category": "MLA1234"},
            ),
            "facebook": Listing(
                state=ListingState.FAILED, updated_at=T0, requested_version=1, message="rejected: ñ"
            ),
        },
    )
    product = committed(store, change)

    stored = store.get("acme", product.id)

    assert stored is not None
    assert product_to_document(stored) == product_to_document(product)
    assert stored.version == 1
    assert stored.status is Status.DRAFT
    assert stored.price == Money(12999, "USD")
    assert stored.images == product.images
    assert stored.listings == product.listings
    assert stored.channel_overrides == product.channel_overrides
    assert (stored.created_at, stored.updated_at) == (T0, T0)


def test_a_product_reads_back_as_its_latest_version(store: CatalogStore) -> None:
    product = committed(store, create_change(name="First"))
    committed(store, update_change(product, name="Second"))
    committed(store, update_change(product, name="Third"))

    stored = store.get("acme", product.id)

    assert stored is not None
    assert (stored.name, stored.version) == ("Third", 3)


def test_an_unknown_product_is_absent(store: CatalogStore) -> None:
    assert store.get("acme", new_id()) is None


def test_merchants_never_see_each_others_products(store: CatalogStore) -> None:
    shared_id = new_id()
    mine = committed(
        store, create_change("acme", product_id=shared_id, sku="SAME", listings={"fb": "PENDING"})
    )
    theirs = committed(
        store,
        create_change("globex", product_id=shared_id, sku="SAME", name="Globex thing"),
    )
    committed(store, update_change(theirs))
    only_theirs = committed(store, create_change("globex"))

    acme_view = store.get("acme", shared_id)
    globex_view = store.get("globex", shared_id)

    assert acme_view is not None and globex_view is not None
    assert (acme_view.merchant_id, acme_view.name, acme_view.version) == ("acme", "Trail shoe", 1)
    assert (globex_view.merchant_id, globex_view.version) == ("globex", 2)
    assert store.get("acme", only_theirs.id) is None
    assert walk(store, "acme", limit=10) == [[mine.id]]
    assert walk(store, "acme", limit=10, channel="fb") == [[mine.id]]
    assert walk(store, "globex", limit=10, channel="fb") == [[]]
    assert [e.version for e in store.history("acme", shared_id, limit=10, before_version=None)] == [
        1
    ]
    assert store.history("acme", only_theirs.id, limit=10, before_version=None) == []


# ---------------------------------------------------------------------- conditions


def test_a_stale_expected_version_is_a_conflict(store: CatalogStore) -> None:
    product = committed(store, create_change())
    first, second = store.get("acme", product.id), store.get("acme", product.id)
    assert first is not None and second is not None
    committed(store, update_change(first, name="Winner"))

    with pytest.raises(VersionConflict):
        store.commit(update_change(second, name="Loser"))

    stored = store.get("acme", product.id)
    assert stored is not None
    assert (stored.name, stored.version) == ("Winner", 2)


def test_creating_an_existing_product_again_is_a_conflict(store: CatalogStore) -> None:
    product = committed(store, create_change(sku="TS-1"))

    with pytest.raises(VersionConflict):
        store.commit(create_change(product_id=product.id, sku="TS-1", name="Again"))
    with pytest.raises(VersionConflict):
        store.commit(create_change(product_id=product.id, sku="TS-2", name="Again"))

    stored = store.get("acme", product.id)
    assert stored is not None
    assert (stored.name, stored.sku) == ("Trail shoe", "TS-1")


def test_updating_a_product_that_does_not_exist_is_a_conflict(store: CatalogStore) -> None:
    ghost = create_change().product  # registered but never committed

    with pytest.raises(VersionConflict):
        store.commit(update_change(ghost))

    assert store.get("acme", ghost.id) is None


def test_a_sku_is_unique_per_merchant_only(store: CatalogStore) -> None:
    committed(store, create_change("acme", sku="TS-1"))

    with pytest.raises(DuplicateSku) as raised:
        store.commit(create_change("acme", sku="TS-1"))
    other = committed(store, create_change("globex", sku="TS-1"))

    assert raised.value.sku == "TS-1"
    assert store.get("globex", other.id) is not None
    assert len(walk(store, "acme", limit=10)[0]) == 1


def test_updates_keep_the_product_sku(store: CatalogStore) -> None:
    product = committed(store, create_change(sku="TS-1"))
    committed(store, update_change(product))

    with pytest.raises(DuplicateSku):
        store.commit(create_change(sku="TS-1"))


FAILURES = ["stale version", "existing product", "duplicate sku", "raced idempotency key"]


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_commit_writes_nothing(store: CatalogStore, failure: str) -> None:
    original = committed(store, create_change(sku="TS-1", idempotency_key="key-1"))
    stale = store.get("acme", original.id)
    assert stale is not None
    committed(store, update_change(original, name="Current"))
    before = (
        product_to_document(original),
        store.history("acme", original.id, limit=10, before_version=None),
        store.read_after(0, 100),
        store.idempotency_record("acme", "key-1", T0),
    )
    later = T0 + timedelta(minutes=30)
    failing = {
        "stale version": lambda: update_change(stale, name="Stale"),
        "existing product": lambda: create_change(product_id=original.id, sku="TS-9", at=later),
        "duplicate sku": lambda: create_change(sku="TS-1", at=later),
        "raced idempotency key": lambda: create_change(at=later, idempotency_key="key-1"),
    }[failure]()
    if failing.idempotency is None:
        failing = Change(
            failing.product,
            failing.expected_version,
            failing.history,
            failing.events,
            idempotency(failing.product, "key-2"),
        )
    assert failing.events, "the failing change must carry events to prove none is written"

    with pytest.raises((VersionConflict, DuplicateSku, IdempotencyKeyRaced)):
        store.commit(failing)

    stored = store.get("acme", original.id)
    assert stored is not None
    assert before == (
        product_to_document(stored),
        store.history("acme", original.id, limit=10, before_version=None),
        store.read_after(0, 100),
        store.idempotency_record("acme", "key-1", T0),
    )
    assert store.idempotency_record("acme", "key-2", T0) is None
    if failing.product.id != original.id:
        assert store.get("acme", failing.product.id) is None
        assert store.history("acme", failing.product.id, limit=10, before_version=None) == []
    assert walk(store, "acme", limit=10) == [[original.id]]
    # The store is still usable after the failure.
    committed(store, create_change(sku="TS-2"))
    assert len(walk(store, "acme", limit=10)[0]) == 2


def test_racing_updates_of_one_version_let_exactly_one_through(store: CatalogStore) -> None:
    created = create_change()
    product = committed(store, created)
    copies = [store.get("acme", product.id) for _ in range(8)]
    changes = [update_change(copy, name=f"Writer {n}") for n, copy in enumerate(copies) if copy]

    outcomes = race(store.commit, changes)

    assert outcomes.count(None) == 1
    assert all(isinstance(o, VersionConflict) for o in outcomes if o is not None)
    winner = changes[outcomes.index(None)]
    stored = store.get("acme", product.id)
    assert stored is not None
    assert (stored.name, stored.version) == (winner.product.name, 2)
    assert [
        e.version for e in store.history("acme", product.id, limit=10, before_version=None)
    ] == [2, 1]
    assert all_events(store) == [*created.events, *winner.events]


def test_racing_creations_of_one_sku_let_exactly_one_through(store: CatalogStore) -> None:
    changes = [create_change(sku="TS-1", name=f"Writer {n}") for n in range(8)]

    outcomes = race(store.commit, changes)

    assert outcomes.count(None) == 1
    assert all(isinstance(o, DuplicateSku) for o in outcomes if o is not None)
    winner = changes[outcomes.index(None)]
    assert walk(store, "acme", limit=10) == [[winner.product.id]]
    assert all_events(store) == list(winner.events)


def test_racing_creations_with_one_idempotency_key_let_exactly_one_through(
    store: CatalogStore,
) -> None:
    changes = [create_change(idempotency_key="key-1") for _ in range(8)]

    outcomes = race(store.commit, changes)

    assert outcomes.count(None) == 1
    assert all(isinstance(o, IdempotencyKeyRaced) for o in outcomes if o is not None)
    winner = changes[outcomes.index(None)]
    assert store.idempotency_record("acme", "key-1", T0) == winner.idempotency
    assert walk(store, "acme", limit=10) == [[winner.product.id]]


# ---------------------------------------------------------------------- sizes
# The limit is part of the store contract, so every backend refuses the same products.


def test_a_product_that_outgrows_a_document_is_refused_and_nothing_is_written(
    store: CatalogStore,
) -> None:
    change = create_change(attributes={"blob": "a" * limits.MAX_DOCUMENT_BYTES})

    with pytest.raises(ProductTooLarge) as refused:
        store.commit(change)

    assert refused.value.what == "the product"
    assert refused.value.limit == limits.MAX_DOCUMENT_BYTES
    assert store.get("acme", change.product.id) is None
    assert store.history("acme", change.product.id, limit=10, before_version=None) == []
    assert walk(store, "acme", limit=10) == [[]]


def test_a_change_whose_record_outgrows_a_document_is_refused(store: CatalogStore) -> None:
    # The product stays within the limit; the record of replacing the blob (old and new
    # values) does not.
    half = limits.MAX_DOCUMENT_BYTES // 2 + 1024
    product = committed(store, create_change(attributes={"blob": "a" * half}))
    stamp = Stamp("user-1", T0 + timedelta(minutes=1))
    product.revise(attributes={"blob": "b" * half}, stamp=stamp)
    pending = product.pull_change(new_id)
    assert pending is not None

    with pytest.raises(ProductTooLarge) as refused:
        store.commit(Change(product, 1, pending.history, pending.events))

    assert refused.value.what == "the record of this change"
    stored = store.get("acme", product.id)
    assert stored is not None and stored.version == 1
    assert stored.attributes == {"blob": "a" * half}
    assert len(store.history("acme", product.id, limit=10, before_version=None)) == 1


# ---------------------------------------------------------------------- idempotency


def test_an_idempotency_record_reads_back_until_it_expires(store: CatalogStore) -> None:
    expires = T0 + timedelta(hours=24)
    change = create_change(idempotency_key="key-1", idempotency_expires_at=expires)
    store.commit(change)

    assert store.idempotency_record("acme", "key-1", T0) == change.idempotency
    assert store.idempotency_record("acme", "key-1", expires - timedelta(milliseconds=1)) == (
        change.idempotency
    )
    assert store.idempotency_record("acme", "key-1", expires) is None
    assert store.idempotency_record("acme", "key-1", expires + timedelta(days=1)) is None
    assert store.idempotency_record("acme", "key-2", T0) is None
    assert store.idempotency_record("globex", "key-1", T0) is None


def test_an_unexpired_idempotency_key_cannot_be_claimed_twice(store: CatalogStore) -> None:
    first = create_change(idempotency_key="key-1")
    store.commit(first)

    with pytest.raises(IdempotencyKeyRaced):
        store.commit(create_change(at=T0 + timedelta(hours=23), idempotency_key="key-1"))
    other_merchant = create_change("globex", idempotency_key="key-1")
    store.commit(other_merchant)

    assert store.idempotency_record("acme", "key-1", T0) == first.idempotency
    assert store.idempotency_record("globex", "key-1", T0) == other_merchant.idempotency


def test_a_retry_racing_on_its_idempotency_key_is_told_so_rather_than_duplicate_sku(
    store: CatalogStore,
) -> None:
    # Two copies of one POST carry the same key and sku; the loser must learn that the key
    # was claimed, so the service replays the first response instead of answering 409.
    first = create_change(sku="TS-1", idempotency_key="key-1")
    store.commit(first)

    with pytest.raises(IdempotencyKeyRaced):
        store.commit(create_change(sku="TS-1", idempotency_key="key-1"))


def test_an_expired_idempotency_key_may_be_claimed_again(store: CatalogStore) -> None:
    store.commit(create_change(idempotency_key="key-1"))
    later = T0 + timedelta(hours=24)
    second = create_change(at=later, idempotency_key="key-1")

    store.commit(second)

    record = store.idempotency_record("acme", "key-1", later)
    assert record == second.idempotency
    assert record is not None and record.product.id == second.product.id


# ---------------------------------------------------------------------- listing


def test_pages_walk_every_product_of_a_status_once_in_id_order(store: CatalogStore) -> None:
    drafts = [committed(store, create_change()).id for _ in range(6)]
    inactive = [committed(store, create_change(deactivated=True)).id for _ in range(3)]
    committed(store, create_change("globex"))

    assert walk(store, "acme", status=Status.DRAFT, limit=4) == [
        sorted(drafts)[:4],
        sorted(drafts)[4:],
    ]
    assert walk(store, "acme", status=Status.DRAFT, limit=3) == [
        sorted(drafts)[:3],
        sorted(drafts)[3:],
    ]
    assert walk(store, "acme", status=Status.INACTIVE, limit=1) == [[i] for i in sorted(inactive)]
    assert walk(store, "acme", status=Status.READY, limit=5) == [[]]
    everything = walk(store, "acme", limit=4)
    assert [len(page) for page in everything] == [4, 4, 1]
    assert [i for page in everything for i in page] == sorted(drafts + inactive)


def test_a_page_reflects_the_latest_status(store: CatalogStore) -> None:
    product = committed(store, create_change())
    committed(store, update_change(product, deactivated=True))

    assert walk(store, "acme", status=Status.DRAFT, limit=5) == [[]]
    assert walk(store, "acme", status=Status.INACTIVE, limit=5) == [[product.id]]


def test_the_channel_filter_keeps_products_live_on_that_channel(store: CatalogStore) -> None:
    def make(listings: dict[str, str], deactivated: bool = False) -> str:
        return committed(store, create_change(listings=listings, deactivated=deactivated)).id

    pending = make({"mercadolibre": "PENDING"})
    published = make({"mercadolibre": "PUBLISHED", "facebook": "FAILED"})
    unpublishing = make({"mercadolibre": "UNPUBLISHING"}, deactivated=True)
    failed = make({"mercadolibre": "FAILED", "facebook": "PUBLISHED"})
    make({"mercadolibre": "UNPUBLISHED"})
    make({})
    committed(store, create_change("globex", listings={"mercadolibre": "PUBLISHED"}))

    live = sorted([pending, published, unpublishing])
    assert walk(store, "acme", channel="mercadolibre", limit=10) == [live]
    assert walk(store, "acme", channel="mercadolibre", limit=2) == [live[:2], live[2:]]
    assert walk(store, "acme", channel="facebook", limit=10) == [[failed]]
    assert walk(store, "acme", channel="instagram", limit=10) == [[]]
    assert walk(store, "acme", channel="mercadolibre", status=Status.DRAFT, limit=10) == [
        sorted([pending, published])
    ]
    assert walk(store, "acme", channel="mercadolibre", status=Status.INACTIVE, limit=10) == [
        [unpublishing]
    ]


def test_the_channel_filter_follows_listing_changes(store: CatalogStore) -> None:
    product = committed(store, create_change(listings={"mercadolibre": "PUBLISHED"}))
    assert walk(store, "acme", channel="mercadolibre", limit=10) == [[product.id]]

    committed(store, update_change(product, listings={"mercadolibre": "UNPUBLISHED"}))
    assert walk(store, "acme", channel="mercadolibre", limit=10) == [[]]

    committed(store, update_change(product, listings={"facebook": "PENDING"}))
    assert walk(store, "acme", channel="mercadolibre", limit=10) == [[]]
    assert walk(store, "acme", channel="facebook", limit=10) == [[product.id]]


# ---------------------------------------------------------------------- history


def test_history_lists_versions_newest_first(store: CatalogStore) -> None:
    changes = [create_change()]
    product = committed(store, changes[0])
    for name in ("Second", "Third", "Fourth"):
        changes.append(update_change(product, name=name))
        store.commit(changes[-1])

    def versions(limit: int, before: int | None) -> list[int]:
        entries = store.history("acme", product.id, limit=limit, before_version=before)
        return [entry.version for entry in entries]

    newest_first = [change.history for change in reversed(changes)]
    assert store.history("acme", product.id, limit=10, before_version=None) == newest_first
    assert versions(2, None) == [4, 3]
    assert versions(2, 3) == [2, 1]
    assert versions(10, 2) == [1]
    assert versions(10, 1) == []
    assert store.history("globex", product.id, limit=10, before_version=None) == []


# ---------------------------------------------------------------------- restart


def test_everything_survives_closing_and_reopening(
    reopen: Callable[[], AbstractContextManager[CatalogStore]],
) -> None:
    with reopen() as store:
        first = create_change(
            listings={"mercadolibre": "PUBLISHED"}, idempotency_key="key-1", images=(image(),)
        )
        product = committed(store, first)
        stale = store.get("acme", product.id)
        assert stale is not None
        second = update_change(product, deactivated=True)
        store.commit(second)
        expected = (
            product_to_document(product),
            walk(store, "acme", status=Status.INACTIVE, channel="mercadolibre", limit=10),
            store.history("acme", product.id, limit=10, before_version=None),
            store.idempotency_record("acme", "key-1", T0),
        )

    with reopen() as store:
        stored = store.get("acme", product.id)
        assert stored is not None
        assert expected == (
            product_to_document(stored),
            walk(store, "acme", status=Status.INACTIVE, channel="mercadolibre", limit=10),
            store.history("acme", product.id, limit=10, before_version=None),
            store.idempotency_record("acme", "key-1", T0),
        )
        assert expected[1] == [[product.id]]
        assert [entry.version for entry in expected[2]] == [2, 1]
        assert expected[3] == first.idempotency
        # Conditions hold across restarts too.
        with pytest.raises(DuplicateSku):
            store.commit(create_change(sku=product.sku))
        with pytest.raises(VersionConflict):
            store.commit(update_change(stale))
