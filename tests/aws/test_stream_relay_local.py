"""`catalog aws relay`: the table's stream relayed to the bus outside Lambda (moto), through the
relay Lambda's code, with what it published in the AWS event log that `catalog events` shows."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.dynamodb_table import ensure_table
from catalog.adapters.aws.stream_reader import StreamFollower, table_stream_arn
from catalog.domain.events import DomainEvent
from catalog.entrypoints.cli import app
from tests.aws.stream_support import bus_to_queue
from tests.conftest import AwsEndpoint
from tests.contract.conftest import create_change, update_change

BUS = "catalog-bus"
TABLE = "catalog"
runner = CliRunner()


@dataclass
class Bus:
    """An event bus whose every catalog event lands on a queue, and the clients to read it."""

    aws: AwsEndpoint
    sqs: Any
    queue_url: str

    def received(self) -> list[dict[str, Any]]:
        """Drain the queue: the CloudEvents a bus consumer got."""
        cloudevents: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return cloudevents
            for message in messages:
                cloudevents.append(json.loads(message["Body"])["detail"])
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


def consumed_bus(aws: AwsEndpoint) -> Bus:
    sqs = aws.client("sqs")
    return Bus(aws, sqs, bus_to_queue(aws.client("events"), sqs, BUS, "consumer"))


@pytest.fixture
def bus(aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Bus]:
    ensure_table(aws.client("dynamodb"), TABLE)
    monkeypatch.setenv("CATALOG_BACKEND", "aws")
    monkeypatch.setenv("CATALOG_TABLE_NAME", TABLE)
    monkeypatch.setenv("CATALOG_EVENT_BUS_NAME", BUS)
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "data"))
    yield consumed_bus(aws)


def commit_two_products(aws: AwsEndpoint) -> list[DomainEvent]:
    store = DynamoDbStore(aws.client("dynamodb"), TABLE)
    first, second = create_change(sku="TS-1"), create_change(sku="TS-2")
    store.commit(first)
    store.commit(second)
    renamed = update_change(first.product)
    store.commit(renamed)
    return [*first.events, *second.events, *renamed.events]


def test_the_local_relay_publishes_committed_events_and_catalog_events_shows_them(
    bus: Bus, tmp_path: Path
) -> None:
    committed = commit_two_products(bus.aws)

    relayed = runner.invoke(app, ["aws", "relay", "--once"])

    assert relayed.exit_code == 0, relayed.output
    assert [e["id"] for e in bus.received()] == [e.id for e in committed]
    shown = runner.invoke(app, ["events", "--json"])
    assert [json.loads(line)["id"] for line in shown.stdout.splitlines()] == [
        e.id for e in committed
    ]
    assert not (tmp_path / "data" / "events.jsonl").exists()  # the embedded log is elsewhere

    # A restart reads the stream from the start again: the bus gets the events again (same
    # ids, consumers deduplicate), the log keeps each once.
    assert runner.invoke(app, ["aws", "relay", "--once"]).exit_code == 0
    assert [e["id"] for e in bus.received()] == [e.id for e in committed]
    again = runner.invoke(app, ["events", "--json"])
    assert again.stdout == shown.stdout


def test_a_batch_the_bus_refused_is_read_again_from_the_first_failed_record(bus: Bus) -> None:
    committed = commit_two_products(bus.aws)
    streams = bus.aws.client("dynamodbstreams")
    follower = StreamFollower(
        streams, table_stream_arn(bus.aws.client("dynamodb"), TABLE), batch_size=100
    )
    handed: list[list[str]] = []

    def fail_from_the_third_record_once(records: Sequence[dict[str, Any]]) -> list[str]:
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        handed.append(numbers)
        return numbers[2:] if len(handed) == 1 else []

    follower.poll(fail_from_the_third_record_once)
    follower.poll(fail_from_the_third_record_once)

    first, second = handed
    assert second == first[2:]  # nothing after the failure was skipped, nothing before resent
    assert follower.poll(fail_from_the_third_record_once) == 0
    assert len(committed) == 3
