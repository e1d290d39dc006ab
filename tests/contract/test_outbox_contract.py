"""The Outbox contract: committed events in commit order, and an offset per sink."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.domain.errors import VersionConflict
from catalog.service.ports import Change

from .conftest import CatalogStore, committed, create_change, update_change


def commit_several(store: CatalogStore) -> list[Change]:
    """Four commits over two products, one of them carrying two events."""
    first = create_change(name="First")
    second = create_change(name="Second")
    changes = [first, second]
    for change in changes:
        store.commit(change)
    changes.append(update_change(first.product, name="First, renamed"))
    changes.append(update_change(second.product, deactivated=True))
    for change in changes[2:]:
        store.commit(change)
    return changes


def test_an_empty_outbox_has_nothing_to_read(store: CatalogStore) -> None:
    assert store.read_after(0, 10) == []


def test_events_are_read_in_commit_order(store: CatalogStore) -> None:
    changes = commit_several(store)

    records = store.read_after(0, 100)

    assert [record.event for record in records] == [e for c in changes for e in c.events]
    assert [e.name.value for e in changes[-1].events] == [
        "ProductUpdated",
        "ProductDeactivated",
    ]
    seqs = [record.seq for record in records]
    assert seqs == sorted(set(seqs))
    assert seqs[0] > 0  # offset 0 means "before everything"


def test_read_after_returns_the_window_after_a_seq(store: CatalogStore) -> None:
    commit_several(store)
    records = store.read_after(0, 100)
    assert len(records) == 5

    for index, record in enumerate(records):
        assert store.read_after(record.seq, 2) == records[index + 1 : index + 3]
    assert store.read_after(0, 3) == records[:3]
    assert store.read_after(records[-1].seq, 10) == []


def test_events_of_later_commits_come_after_a_consumed_seq(store: CatalogStore) -> None:
    first = committed(store, create_change())
    consumed = store.read_after(0, 100)[-1].seq
    later = update_change(first)
    store.commit(later)

    assert [record.event for record in store.read_after(consumed, 100)] == list(later.events)


def test_a_failed_commit_adds_no_event(store: CatalogStore) -> None:
    product = committed(store, create_change())
    before = store.read_after(0, 100)

    with pytest.raises(VersionConflict):
        store.commit(create_change(product_id=product.id))

    assert store.read_after(0, 100) == before


def test_offsets_start_at_zero_and_are_kept_per_sink(store: CatalogStore) -> None:
    assert store.offset("files") == 0

    store.save_offset("files", 3)
    store.save_offset("webhooks", 1)
    store.save_offset("files", 5)

    assert store.offset("files") == 5
    assert store.offset("webhooks") == 1
    assert store.offset("eventbridge") == 0


def test_pruned_events_are_gone_and_their_numbers_never_come_back(store: CatalogStore) -> None:
    commit_several(store)
    records = store.read_after(0, 100)
    store.save_offset("log", records[2].seq)

    store.prune(records[2].seq)

    assert store.read_after(0, 100) == records[3:]
    assert store.offset("log") == records[2].seq
    later = create_change(name="Later")
    store.commit(later)
    [newest] = store.read_after(records[-1].seq, 100)
    assert newest.seq > records[-1].seq
    assert newest.event.id == later.events[0].id
    store.prune(records[-1].seq + 100)  # beyond the newest: everything, and nothing breaks
    assert store.read_after(0, 100) == []


def test_events_and_offsets_survive_closing_and_reopening(
    reopen: Callable[[], AbstractContextManager[CatalogStore]],
) -> None:
    with reopen() as store:
        commit_several(store)
        records = store.read_after(0, 100)
        store.save_offset("files", records[2].seq)
        store.save_offset("webhooks", records[4].seq)

    with reopen() as store:
        assert store.read_after(0, 100) == records
        assert store.offset("files") == records[2].seq
        assert store.offset("webhooks") == records[4].seq
        later = create_change()
        store.commit(later)
        fresh = store.read_after(records[-1].seq, 100)
        assert [record.event for record in fresh] == list(later.events)


# ---------------------------------------------------------------------- sqlite wake-up hook
# The embedded relay sleeps until the store tells it that events were committed.


def test_the_sqlite_store_calls_on_commit_after_each_commit_with_events(tmp_path: Path) -> None:
    calls: list[int] = []

    def on_commit() -> None:
        # Called after the transaction: the events are already readable.
        calls.append(len(store.read_after(0, 100)))

    store = SqliteStore(tmp_path / "catalog.db", on_commit=on_commit)
    try:
        product = committed(store, create_change())
        with pytest.raises(VersionConflict):
            store.commit(create_change(product_id=product.id))
        silent = update_change(product)
        store.commit(Change(silent.product, silent.expected_version, silent.history, events=()))
        committed(store, update_change(product))
    finally:
        store.close()

    assert calls == [1, 2]


def test_a_failing_on_commit_hook_does_not_undo_the_commit(tmp_path: Path) -> None:
    def on_commit() -> None:
        raise RuntimeError("relay is gone")

    store = SqliteStore(tmp_path / "catalog.db", on_commit=on_commit)
    try:
        product = committed(store, create_change())
        assert store.get("acme", product.id) is not None
        assert len(store.read_after(0, 10)) == 1
    finally:
        store.close()
