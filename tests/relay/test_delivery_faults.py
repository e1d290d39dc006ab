"""Webhooks under faults: the backoff follows the refused event, refused events are parked
after the bounded attempts and redriven; the event log never parks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from msgspec import field

from catalog.adapters.embedded.dead_letters import SqliteDeadLetters
from catalog.adapters.embedded.event_log import EventLogSink
from catalog.adapters.embedded.relay import (
    DeliveryIncomplete,
    OutboxRelay,
    RetryPolicy,
    Sink,
    WebhookSink,
    redrive_dead_letters,
    webhook_secret_text,
)
from catalog.adapters.embedded.sqlite_store import SqliteStore
from tests.clocks import ManualSecondsClock
from tests.relay.conftest import CatalogStore, commit_products
from tests.relay.receiver import FlakyReceiver, refuse_one_in, serving

SECRET = webhook_secret_text(b"0123456789abcdef0123456789abcdef")
RECEIVER_WAIT = 60.0  # seconds; a healthy run takes well under one


class RecordingRetry(RetryPolicy, frozen=True):
    """The policy, remembering the attempt number of every retry it timed."""

    timed: list[int] = field(default_factory=list)

    def delay(self, attempts: int) -> float:
        self.timed.append(attempts)
        return super().delay(attempts)


@pytest.fixture
def dead_letters(tmp_path: Path) -> SqliteDeadLetters:
    path = tmp_path / "dead-letters.db"
    SqliteStore(path).close()  # opening the store applies the schema
    return SqliteDeadLetters(path)


@pytest.fixture
def http() -> httpx.Client:
    with httpx.Client(timeout=5.0) as client:
        yield client  # type: ignore[misc]


def test_a_receiver_refusing_one_request_in_five_gets_every_event_each_retried_once(
    store: CatalogStore, dead_letters: SqliteDeadLetters, http: httpx.Client, tmp_path: Path
) -> None:
    events = commit_products(store, 60)
    retry = RecordingRetry(first_seconds=0.001, jitter=lambda: 1.0)
    with serving(FlakyReceiver(refuse_one_in(5))) as receiver:
        webhook = WebhookSink(receiver.url, SECRET, http)
        log = EventLogSink(tmp_path / "events.jsonl")
        relay = OutboxRelay(
            store, [webhook, log], poll_seconds=3600, retry=retry, dead_letters=dead_letters
        )
        relay.start()
        try:
            relay.wake()
            assert receiver.wait_for(accepted=len(events), timeout=RECEIVER_WAIT)
        finally:
            relay.stop(timeout=5)

    assert receiver.accepted == [event.id for event in events]  # all, in order, once each
    assert receiver.requests == 74  # 60 accepted and 14 refused: the 5th, 10th ... 70th
    assert max(receiver.offered.values()) == 2  # a refused event went through on its retry
    # Each of the 14 refusals was a first failure of its event, so each retry waited the
    # first delay: the backoff started over after every delivered event.
    assert retry.timed == [1] * 14
    assert dead_letters.parked() == []


def test_the_backoff_grows_while_one_event_fails_and_starts_over_once_it_is_delivered(
    store: CatalogStore,
) -> None:
    events = commit_products(store, 3)
    refusals = {events[0].id: 2, events[1].id: 1}  # how many times each is refused

    def answer(request: httpx.Request) -> httpx.Response:
        event_id = request.headers["webhook-id"]
        if refusals.get(event_id):
            refusals[event_id] -= 1
            return httpx.Response(503)
        return httpx.Response(200)

    clock = ManualSecondsClock()
    sink = WebhookSink(
        "http://receiver.test/", SECRET, httpx.Client(transport=httpx.MockTransport(answer))
    )
    retry = RecordingRetry(first_seconds=1.0, jitter=lambda: 1.0)
    relay = OutboxRelay(store, [sink], retry=retry, monotonic=clock)

    for _ in range(3):
        with pytest.raises(DeliveryIncomplete):
            relay.drain()
    relay.drain()

    # events[0]: attempts 1 and 2 failed (1 s, then 2 s); events[1]: its own first (1 s).
    assert retry.timed == [1, 2, 1]
    assert store.offset(sink.name) == store.read_after(0, 10)[-1].seq


def refusing(event_ids: set[str]) -> httpx.Client:
    """A receiver refusing the given events forever and accepting every other one."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500 if request.headers["webhook-id"] in event_ids else 200)

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_an_event_refused_max_attempts_times_is_parked_and_the_webhook_moves_on(
    store: CatalogStore, dead_letters: SqliteDeadLetters, tmp_path: Path
) -> None:
    events = commit_products(store, 4)
    poison = events[1]
    sink = WebhookSink("http://receiver.test/", SECRET, refusing({poison.id}))
    log = EventLogSink(tmp_path / "events.jsonl")
    relay = OutboxRelay(
        store, [sink, log], retry=RetryPolicy(max_attempts=3), dead_letters=dead_letters
    )

    for _ in range(2):
        with pytest.raises(DeliveryIncomplete, match="500"):
            relay.drain()
        assert dead_letters.parked() == []
    relay.drain()  # the third attempt parks it; the events after it go out at once

    (letter,) = dead_letters.parked()
    assert (letter.sink, letter.event_id, letter.attempts) == (sink.name, poison.id, 3)
    assert "500" in letter.last_error
    assert letter.record.event == poison
    assert store.offset(sink.name) == store.offset(log.name)  # caught up with the log


def test_a_parked_event_does_not_hold_back_pruning(
    store: CatalogStore, dead_letters: SqliteDeadLetters, tmp_path: Path
) -> None:
    events = commit_products(store, 5)
    sink = WebhookSink("http://receiver.test/", SECRET, refusing({events[0].id}))
    relay = OutboxRelay(
        store,
        [sink, EventLogSink(tmp_path / "events.jsonl")],
        retry=RetryPolicy(max_attempts=1),
        dead_letters=dead_letters,
        retain_events=1,
    )

    relay.drain()

    assert [r.event.id for r in store.read_after(0, 100)] == [events[-1].id]
    assert [letter.event_id for letter in dead_letters.parked()] == [events[0].id]


class BrokenLog(EventLogSink):
    def deliver(self, records: object) -> None:  # type: ignore[override]
        raise OSError("disk full")


def test_the_event_log_never_parks_an_event(
    store: CatalogStore, dead_letters: SqliteDeadLetters, tmp_path: Path
) -> None:
    commit_products(store, 2)
    log = BrokenLog(tmp_path / "events.jsonl")
    relay = OutboxRelay(store, [log], retry=RetryPolicy(max_attempts=1), dead_letters=dead_letters)

    for _ in range(3):
        with pytest.raises(DeliveryIncomplete, match="disk full"):
            relay.drain()

    assert dead_letters.parked() == []
    assert store.offset(log.name) == 0  # still waiting for the log


def test_redrive_delivers_parked_events_and_removes_only_those_delivered(
    store: CatalogStore, dead_letters: SqliteDeadLetters
) -> None:
    events = commit_products(store, 3)
    down = {events[0].id, events[2].id}
    first = WebhookSink("http://one.test/", SECRET, refusing(down))
    second = WebhookSink("http://two.test/", SECRET, refusing({events[1].id}))
    OutboxRelay(
        store, [first, second], retry=RetryPolicy(max_attempts=1), dead_letters=dead_letters
    ).drain()
    assert len(dead_letters.parked()) == 3

    with serving(FlakyReceiver(lambda number, cloudevent: 200)) as receiver:
        # The first receiver is back; the second still refuses its event.
        sinks: dict[str, Sink] = {
            first.name: WebhookSink(receiver.url, SECRET, httpx.Client(timeout=5)),
            second.name: second,
        }
        outcome = redrive_dead_letters(dead_letters, sinks.get)
        again = redrive_dead_letters(dead_letters, sinks.get, sink=first.name)

    assert sorted(receiver.accepted) == sorted(down)  # once each: the rerun sent nothing
    assert {letter.event_id for letter in outcome.delivered} == down
    assert [(letter.event_id, "500" in why) for letter, why in outcome.failed] == [
        (events[1].id, True)
    ]
    assert again.delivered == again.failed == []
    (left,) = dead_letters.parked()
    assert (left.sink, left.event_id, left.attempts) == (second.name, events[1].id, 2)


def test_redrive_of_one_event_leaves_the_others_parked(
    store: CatalogStore, dead_letters: SqliteDeadLetters
) -> None:
    events = commit_products(store, 2)
    sink = WebhookSink("http://one.test/", SECRET, refusing({e.id for e in events}))
    OutboxRelay(store, [sink], retry=RetryPolicy(max_attempts=1), dead_letters=dead_letters).drain()
    healthy = WebhookSink("http://one.test/", SECRET, refusing(set()))

    outcome = redrive_dead_letters(dead_letters, {sink.name: healthy}.get, event_id=events[1].id)

    assert [letter.event_id for letter in outcome.delivered] == [events[1].id]
    assert [letter.event_id for letter in dead_letters.parked()] == [events[0].id]
