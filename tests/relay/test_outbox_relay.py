"""The relay: order, one offset per sink, isolation of failing sinks, backoff, the thread."""

from __future__ import annotations

import threading

import pytest

from catalog.adapters.embedded.relay import (
    DeliveryIncomplete,
    OutboxRelay,
    RetryPolicy,
    backoff_delay,
)
from tests.clocks import ManualSecondsClock
from tests.relay.conftest import WAIT, CatalogStore, RecordingSink, commit_products


def test_drain_delivers_every_event_in_commit_order_across_batches(store: CatalogStore) -> None:
    events = commit_products(store, 5)
    sink = RecordingSink()

    OutboxRelay(store, [sink], batch_size=2).drain()

    assert sink.ids() == [event.id for event in events]
    assert [record.seq for record in sink.received] == sorted(r.seq for r in sink.received)
    assert store.offset(sink.name) == sink.received[-1].seq


def test_each_sink_resumes_from_its_own_offset(store: CatalogStore) -> None:
    first = commit_products(store, 2)
    early = RecordingSink("early")
    OutboxRelay(store, [early]).drain()
    second = commit_products(store, 2)
    late = RecordingSink("late")

    OutboxRelay(store, [early, late]).drain()

    assert early.ids() == [event.id for event in first + second]  # nothing sent twice
    assert late.ids() == [event.id for event in first + second]  # a new sink starts at the top


def test_a_failing_sink_holds_back_neither_the_others_nor_its_own_later_delivery(
    store: CatalogStore,
) -> None:
    events = commit_products(store, 3)
    broken = RecordingSink("broken", failures=1)
    healthy = RecordingSink("healthy")
    relay = OutboxRelay(store, [broken, healthy])

    with pytest.raises(DeliveryIncomplete) as raised:
        relay.drain()

    assert set(raised.value.failures) == {"broken"}
    assert healthy.ids() == [event.id for event in events]
    assert store.offset("broken") == 0
    relay.drain()
    assert broken.ids() == [event.id for event in events]


def test_sink_names_must_be_unique_because_they_key_the_offsets(store: CatalogStore) -> None:
    with pytest.raises(ValueError, match="unique"):
        OutboxRelay(store, [RecordingSink("same"), RecordingSink("same")])


def test_backoff_doubles_up_to_a_cap() -> None:
    delays = [backoff_delay(failures, first=1.0, cap=60.0) for failures in range(1, 10)]

    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_wake_makes_the_thread_deliver_a_commit_without_waiting_for_the_poll(
    store: CatalogStore,
) -> None:
    sink = RecordingSink()
    relay = OutboxRelay(store, [sink], poll_seconds=3600)
    relay.start()
    try:
        events = commit_products(store, 2)
        relay.wake()
        assert sink.wait_for(received=2)
    finally:
        relay.stop(timeout=5)
    assert sink.ids() == [event.id for event in events]


def test_the_thread_retries_a_failing_sink_only_when_its_backoff_is_due(
    store: CatalogStore,
) -> None:
    clock = ManualSecondsClock()
    broken = RecordingSink("broken", failures=2)
    healthy = RecordingSink("healthy")
    relay = OutboxRelay(
        store,
        [broken, healthy],
        poll_seconds=3600,
        retry=RetryPolicy(first_seconds=10, jitter=lambda: 1.0),
        monotonic=clock,
    )
    commit_products(store, 1)
    relay.start()
    try:
        assert healthy.wait_for(received=1)
        assert broken.wait_for(attempts=1)  # failed; next try in 10 s (each sink has a thread)

        commit_products(store, 1)
        relay.wake()
        assert healthy.wait_for(received=2)  # the others go on meanwhile
        assert broken.attempts == 1

        clock.now += 10
        relay.wake()
        assert broken.wait_for(attempts=2)  # failed again; next try in 20 s
        clock.now += 10
        commit_products(store, 1)
        relay.wake()
        assert healthy.wait_for(received=3)
        assert broken.attempts == 2

        clock.now += 10
        relay.wake()
        assert broken.wait_for(received=3)
    finally:
        relay.stop(timeout=5)
    assert broken.ids() == healthy.ids()


def test_stop_ends_the_thread_even_while_a_sink_waits_out_a_long_backoff(
    store: CatalogStore,
) -> None:
    broken = RecordingSink("broken", failures=1000)
    relay = OutboxRelay(store, [broken], poll_seconds=3600, retry=RetryPolicy(first_seconds=3600))
    commit_products(store, 1)
    relay.start()
    assert relay.is_running
    assert broken.wait_for(attempts=1)

    relay.stop(timeout=5)

    assert not relay.is_running


def test_start_twice_is_refused(store: CatalogStore) -> None:
    relay = OutboxRelay(store, [RecordingSink()], poll_seconds=3600)
    relay.start()
    try:
        with pytest.raises(RuntimeError):
            relay.start()
    finally:
        relay.stop(timeout=5)


class HangingSink:
    """A webhook that does not answer until released, as a stalled receiver does."""

    name = "hanging"
    parks_undeliverable = False

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def deliver(self, records: object) -> None:
        self.entered.set()
        self.release.wait(WAIT)


def test_a_hanging_sink_does_not_delay_the_others(store: CatalogStore) -> None:
    hanging = HangingSink()
    log = RecordingSink("log")
    relay = OutboxRelay(store, [hanging, log], poll_seconds=3600)
    relay.start()
    try:
        events = commit_products(store, 2)
        relay.wake()
        assert hanging.entered.wait(WAIT)
        # The hanging sink holds its own thread; the log is served meanwhile.
        assert log.wait_for(received=2)
        assert log.ids() == [event.id for event in events]
    finally:
        hanging.release.set()
        relay.stop(timeout=5)
    assert not relay.is_running


def test_events_every_sink_has_are_pruned_but_for_the_newest(store: CatalogStore) -> None:
    events = commit_products(store, 5)
    lagging = RecordingSink("lagging", failures=1)
    log = RecordingSink("log")
    relay = OutboxRelay(store, [lagging, log], retain_events=2)

    with pytest.raises(DeliveryIncomplete):
        relay.drain()
    # The lagging sink has nothing yet: everything is kept for it.
    assert [r.event.id for r in store.read_after(0, 100)] == [e.id for e in events]

    relay.drain()

    assert lagging.ids() == [e.id for e in events]
    assert [r.event.id for r in store.read_after(0, 100)] == [e.id for e in events[-2:]]
