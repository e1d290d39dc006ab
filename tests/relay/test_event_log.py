"""The event log: one CloudEvent per line, in order, each event exactly once across crashes."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from catalog.adapters.cloudevents import to_cloudevent
from catalog.adapters.embedded.event_log import EventLogSink, follow_event_log
from catalog.adapters.embedded.relay import DeliveryIncomplete, OutboxRelay
from catalog.domain.events import DomainEvent
from catalog.service.ports import OutboxRecord
from tests.relay.conftest import WAIT, CatalogStore, commit_products


class SimulatedCrash(Exception):
    pass


class CrashBeforeOffsetSave:
    """The store's outbox, but the process 'dies' when a sink's offset is about to be saved:
    after the sink has appended, before the outbox knows it."""

    def __init__(self, outbox: CatalogStore, crashes: int = 1) -> None:
        self._outbox = outbox
        self._crashes = crashes

    def read_after(self, seq: int, limit: int) -> list[OutboxRecord]:
        return self._outbox.read_after(seq, limit)

    def offset(self, sink: str) -> int:
        return self._outbox.offset(sink)

    def save_offset(self, sink: str, seq: int) -> None:
        if self._crashes:
            self._crashes -= 1
            raise SimulatedCrash
        self._outbox.save_offset(sink, seq)


def logged(path: Path) -> list[dict[str, object]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def logged_ids(path: Path) -> list[object]:
    return [envelope["id"] for envelope in logged(path)]


def ids(events: Sequence[DomainEvent]) -> list[str]:
    return [event.id for event in events]


def test_the_log_holds_each_event_as_one_cloudevent_line_in_commit_order(
    store: CatalogStore, tmp_path: Path
) -> None:
    events = commit_products(store, 5)
    path = tmp_path / "data" / "events.jsonl"

    OutboxRelay(store, [EventLogSink(path)], batch_size=2).drain()

    assert logged(path) == [to_cloudevent(event) for event in events]


def test_a_crash_after_appending_but_before_the_offset_is_saved_appends_nothing_twice(
    store: CatalogStore, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    before = commit_products(store, 5)
    crashing = OutboxRelay(CrashBeforeOffsetSave(store), [EventLogSink(path)], batch_size=3)
    with pytest.raises(DeliveryIncomplete):
        crashing.drain()
    assert logged_ids(path) == ids(before[:3])  # appended, but the offset is still 0
    after = commit_products(store, 2)

    # A new process: new sink on the same file, relay on the same outbox.
    OutboxRelay(store, [EventLogSink(path)], batch_size=3).drain()

    assert logged_ids(path) == ids(before + after)


def test_a_failed_offset_save_retried_by_the_same_relay_appends_nothing_twice(
    store: CatalogStore, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    events = commit_products(store, 4)
    relay = OutboxRelay(CrashBeforeOffsetSave(store), [EventLogSink(path)])
    with pytest.raises(DeliveryIncomplete):
        relay.drain()

    relay.drain()

    assert logged_ids(path) == ids(events)


def test_a_line_torn_by_a_crash_is_dropped_and_its_event_written_again_in_full(
    store: CatalogStore, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    first = commit_products(store, 2)
    OutboxRelay(store, [EventLogSink(path)]).drain()
    second = commit_products(store, 2)
    torn = json.dumps(to_cloudevent(second[0]))[:40]  # the crash hit mid-write
    with open(path, "a", encoding="utf-8") as log:
        log.write(torn)
    assert [json.loads(line)["id"] for line in follow_event_log(path)] == ids(first)

    OutboxRelay(store, [EventLogSink(path)]).drain()

    assert logged_ids(path) == ids(first + second)


def test_a_failed_write_leaves_the_log_as_it_was(
    store: CatalogStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    first = commit_products(store, 1)
    relay = OutboxRelay(store, [EventLogSink(path)])
    relay.drain()
    second = commit_products(store, 2)
    content = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(DeliveryIncomplete):
        relay.drain()
    assert path.read_bytes() == content
    monkeypatch.undo()

    relay.drain()
    assert logged_ids(path) == ids(first + second)


def test_reading_the_log_yields_complete_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert list(follow_event_log(path)) == []  # no log yet: nothing delivered
    path.write_text('{"id":"1"}\n{"id":"2"}\n{"id":"3', encoding="utf-8")

    assert list(follow_event_log(path)) == ['{"id":"1"}', '{"id":"2"}']


def test_following_the_log_yields_lines_as_they_are_appended(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    stop = threading.Event()
    watchdog = threading.Timer(WAIT, stop.set)  # ends the generator if a line never comes
    watchdog.start()
    try:
        lines = follow_event_log(path, follow=True, poll_seconds=0.01, stop=stop)
        path.write_text('{"id":"1"}\n{"id":"2', encoding="utf-8")  # the file appears
        assert next(lines) == '{"id":"1"}'
        with open(path, "a", encoding="utf-8") as log:
            log.write('"}\n')  # the second line is completed
        assert next(lines) == '{"id":"2"}'
        stop.set()
        assert list(lines) == []
    finally:
        watchdog.cancel()
