"""`catalog events` as a user runs it: JSON lines when piped, readable lines on demand,
filters; `dead` and `redrive` for the parked webhook events; the AWS path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from catalog.adapters.cloudevents import to_cloudevent
from catalog.adapters.embedded.dead_letters import SqliteDeadLetters
from catalog.adapters.embedded.event_log import EventLogSink
from catalog.adapters.embedded.relay import OutboxRelay, RetryPolicy, WebhookSink
from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.bootstrap import webhook_signing_secret
from catalog.domain.events import DomainEvent
from catalog.entrypoints.cli import app
from catalog.settings import Settings
from tests.relay.conftest import commit_products
from tests.relay.receiver import FlakyReceiver, serving

runner = CliRunner()


@pytest.fixture(autouse=True)
def embedded_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CATALOG_BACKEND", "CATALOG_DATA_DIR", "CATALOG_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    # The receivers below listen on 127.0.0.1 over plain http.
    monkeypatch.setenv("CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK", "true")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def logged(data_dir: Path) -> list[DomainEvent]:
    """Three products' creation events, delivered to the data folder's event log."""
    store = SqliteStore(data_dir / "catalog.db")
    try:
        events = commit_products(store, 3)
        OutboxRelay(store, [EventLogSink(data_dir / "events.jsonl")]).drain()
    finally:
        store.close()
    return events


def run(*args: str, data_dir: Path) -> Any:
    return runner.invoke(app, [*args, "--data-dir", str(data_dir)])


def test_piped_output_is_the_log_as_json_lines(data_dir: Path, logged: list[DomainEvent]) -> None:
    result = run("events", data_dir=data_dir)

    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        to_cloudevent(event) for event in logged
    ]
    assert result.stdout == (data_dir / "events.jsonl").read_text("utf-8")


def test_pretty_prints_time_type_product_and_version_one_line_each(
    data_dir: Path, logged: list[DomainEvent]
) -> None:
    result = run("events", "--pretty", data_dir=data_dir)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(logged)
    for line, event in zip(lines, logged, strict=True):
        assert line.split() == [
            *to_cloudevent(event)["time"].split("T"),
            "ProductCreated",
            event.product_id,
            "v1",
        ]


@pytest.mark.parametrize("mode", ["--json", "--pretty"])
def test_product_and_type_filters_apply_in_both_modes(
    data_dir: Path, logged: list[DomainEvent], mode: str
) -> None:
    wanted = logged[1].product_id

    by_product = run("events", mode, "--product", wanted, data_dir=data_dir)
    by_other_type = run("events", mode, "--type", "ProductUpdated", data_dir=data_dir)
    by_type = run("events", mode, "--type", "ProductCreated", data_dir=data_dir)

    assert by_product.stdout.count("\n") == 1 and wanted in by_product.stdout
    assert all(e.product_id not in by_product.stdout for e in logged if e.product_id != wanted)
    assert by_other_type.stdout == ""
    assert by_type.stdout.count("\n") == len(logged)


def test_follow_applies_the_filters_to_new_lines_too(
    data_dir: Path, logged: list[DomainEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.adapters.embedded import event_log

    lines = (data_dir / "events.jsonl").read_text("utf-8").splitlines()
    asked: list[bool] = []

    def follow_then_interrupt(path: Path, follow: bool = False) -> Iterator[str]:
        asked.append(follow)
        yield from lines
        raise KeyboardInterrupt  # the user's Ctrl-C ends --follow

    monkeypatch.setattr(event_log, "follow_event_log", follow_then_interrupt)
    wanted = logged[2].product_id

    result = run("events", "--follow", "--json", "--product", wanted, data_dir=data_dir)

    assert result.exit_code == 0
    assert asked == [True]
    assert [json.loads(line)["data"]["product_id"] for line in result.stdout.splitlines()] == [
        wanted
    ]


def test_on_the_aws_backend_an_old_embedded_log_is_not_shown(
    data_dir: Path, logged: list[DomainEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_BACKEND", "aws")
    monkeypatch.setenv("CATALOG_EVENT_BUS_NAME", "catalog-bus")

    result = run("events", data_dir=data_dir)

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "EventBridge bus catalog-bus" in result.stderr
    assert "catalog aws relay" in result.stderr

    published = data_dir / "aws" / "events.jsonl"
    published.parent.mkdir()
    published.write_text(json.dumps(to_cloudevent(logged[0])) + "\n", "utf-8")
    shown = run("events", data_dir=data_dir)
    assert [json.loads(line)["id"] for line in shown.stdout.splitlines()] == [logged[0].id]


# ------------------------------------------------------------------ dead letters


def refusing_client() -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))


@pytest.fixture
def parked(data_dir: Path) -> tuple[str, list[DomainEvent]]:
    """Two events parked for a webhook at a URL nobody listens on yet; returns the URL."""
    url = "http://127.0.0.1:9/hooks"
    secret = webhook_signing_secret(Settings(data_dir=data_dir))
    store = SqliteStore(data_dir / "catalog.db")
    try:
        events = commit_products(store, 2)
        OutboxRelay(
            store,
            [WebhookSink(url, secret, refusing_client())],
            retry=RetryPolicy(max_attempts=1),
            dead_letters=SqliteDeadLetters(data_dir / "catalog.db"),
        ).drain()
    finally:
        store.close()
    return url, events


def test_dead_lists_parked_events_readably_and_as_json(
    data_dir: Path, parked: tuple[str, list[DomainEvent]]
) -> None:
    url, events = parked

    readable = run("events", "dead", data_dir=data_dir)
    as_json = run("events", "dead", "--json", data_dir=data_dir)

    assert readable.exit_code == 0, readable.output
    for event in events:
        assert event.id in readable.stdout
    assert "2 parked" in readable.stdout
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(r["sink"], r["event_id"], r["attempts"]) for r in rows] == [
        (f"webhook:{url}", event.id, 1) for event in events
    ]
    assert "500" in rows[0]["last_error"]
    assert rows[0]["event"] == to_cloudevent(events[0])


def test_dead_with_nothing_parked_says_so(data_dir: Path) -> None:
    result = run("events", "dead", data_dir=data_dir)

    assert result.exit_code == 0
    assert result.stdout == "No parked events.\n"


def move_parked(data_dir: Path, old_url: str, new_url: str) -> None:
    """Point the parked events at the receiver's real port (the URL they were parked for
    had none)."""
    letters = SqliteDeadLetters(data_dir / "catalog.db")
    for letter in letters.parked():
        letters.remove(letter.sink, letter.event_id)
        letters.park(
            f"webhook:{new_url}",
            letter.record,
            letter.attempts,
            letter.last_error,
            letter.parked_at,
        )


def test_redrive_sends_parked_events_signed_and_is_idempotent(
    data_dir: Path, parked: tuple[str, list[DomainEvent]]
) -> None:
    url, events = parked
    with serving(FlakyReceiver(lambda number, cloudevent: 200)) as receiver:
        move_parked(data_dir, url, receiver.url)

        first = run("events", "redrive", "--sink", receiver.url, data_dir=data_dir)
        second = run("events", "redrive", data_dir=data_dir)

    assert first.exit_code == 0, first.output
    assert "2 delivered, 0 still parked" in first.stdout
    assert receiver.accepted == [event.id for event in events]
    assert second.exit_code == 0
    assert "0 delivered, 0 still parked" in second.stdout
    assert run("events", "dead", "--json", data_dir=data_dir).stdout == ""


def test_redrive_of_one_event_to_a_receiver_still_refusing_keeps_it_parked(
    data_dir: Path, parked: tuple[str, list[DomainEvent]]
) -> None:
    url, events = parked
    with serving(FlakyReceiver(lambda number, cloudevent: 503)) as receiver:
        move_parked(data_dir, url, receiver.url)

        result = run("events", "redrive", "--id", events[0].id, data_dir=data_dir)

    assert result.exit_code == 1
    assert "0 delivered, 1 still parked" in result.stdout
    assert "503" in result.stderr
    rows = [
        json.loads(line)
        for line in run("events", "dead", "--json", data_dir=data_dir).stdout.splitlines()
    ]
    assert [(r["event_id"], r["attempts"]) for r in rows] == [(events[0].id, 2), (events[1].id, 1)]


def test_redrive_checks_targets_as_the_relay_does(
    data_dir: Path, parked: tuple[str, list[DomainEvent]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parked URLs need not be among the configured ones any more: a redrive to loopback
    # without the development setting is refused before anything is sent.
    monkeypatch.delenv("CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK")
    url, _ = parked
    with serving(FlakyReceiver(lambda number, cloudevent: 200)) as receiver:
        move_parked(data_dir, url, receiver.url)

        result = run("events", "redrive", data_dir=data_dir)

    assert result.exit_code == 1
    assert "0 delivered, 2 still parked" in result.stdout
    assert "plain http" in result.stderr
    assert receiver.requests == 0
