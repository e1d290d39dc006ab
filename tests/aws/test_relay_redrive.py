"""`catalog aws redrive`: batches on the relay's failure queue are re-read (stream, or the
table's outbox items once the stream lost them), re-published with the same ids, and their
messages deleted only after that; against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.adapters.aws.relay_redrive import (
    RelayResources,
    failed_batch,
    redrive_failed_batches,
)
from catalog.adapters.aws.stream_reader import table_stream_arn
from catalog.entrypoints.cli import app
from tests.aws.stream_support import stream_records as all_stream_records
from tests.aws.test_stream_relay_local import BUS, TABLE, Bus, bus, commit_two_products
from tests.conftest import AwsEndpoint

__all__ = ["bus"]  # the fixture, shared with the local relay's tests
runner = CliRunner()


def stream_records(aws: AwsEndpoint) -> list[dict[str, Any]]:
    return all_stream_records(aws.client("dynamodb"), aws.client("dynamodbstreams"), TABLE)


def is_event(record: dict[str, Any]) -> bool:
    return record["dynamodb"].get("NewImage", {}).get("item_type") == {"S": "EVENT"}


def failure_message(
    aws: AwsEndpoint, first: str, last: str, *, arrived: datetime | None = None
) -> str:
    """What the event source mapping sends its on-failure destination for a batch."""
    arn = table_stream_arn(aws.client("dynamodb"), TABLE)
    (shard,) = aws.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"][
        "Shards"
    ]
    at = (arrived or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "requestContext": {
                "requestId": "4d5e6f",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:relay",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 11,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": at,
            "DDBStreamBatchInfo": {
                "shardId": shard["ShardId"],
                "startSequenceNumber": first,
                "endSequenceNumber": last,
                "approximateArrivalOfFirstRecord": at,
                "approximateArrivalOfLastRecord": at,
                "batchSize": 2,
                "streamArn": arn,
            },
        }
    )


def failure_queue(aws: AwsEndpoint, *bodies: str) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="relay-failures")["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return str(url)


def messages_left(aws: AwsEndpoint, url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def resources(aws: AwsEndpoint, bus_name: str = BUS) -> RelayResources:
    return RelayResources(
        sqs=aws.client("sqs"),
        streams=aws.client("dynamodbstreams"),
        dynamodb=aws.client("dynamodb"),
        events=aws.client("events"),
        table_name=TABLE,
        bus_name=bus_name,
    )


def test_a_failed_batch_is_republished_from_the_stream_and_its_message_deleted(bus: Bus) -> None:
    committed = commit_two_products(bus.aws)
    events = [r for r in stream_records(bus.aws) if is_event(r)]
    # The batch of the second product's creation and the first one's update.
    first, last = (events[i]["dynamodb"]["SequenceNumber"] for i in (1, 2))
    queue = failure_queue(bus.aws, failure_message(bus.aws, first, last))

    result = runner.invoke(app, ["aws", "redrive", "--queue-url", queue])

    assert result.exit_code == 0, result.output
    assert "1 batches redriven, 0 left" in result.stdout
    assert "from the stream" in result.stdout
    received = bus.received()
    assert [e["id"] for e in received] == [committed[1].id, committed[2].id]  # same ids
    assert [e["type"] for e in received] == ["ProductCreated", "ProductUpdated"]
    assert messages_left(bus.aws, queue) == 0


def test_once_the_stream_lost_the_batch_its_events_come_from_the_tables_outbox_items(
    bus: Bus,
) -> None:
    committed = commit_two_products(bus.aws)
    last = stream_records(bus.aws)[-1]["dynamodb"]["SequenceNumber"]
    beyond = str(int(last) + 1000)  # sequence numbers the stream does not hold (any more)
    # The records arrived when the changes were committed (the test clock's time).
    arrived = committed[0].occurred_at
    queue = failure_queue(bus.aws, failure_message(bus.aws, beyond, beyond, arrived=arrived))

    report = redrive_failed_batches(resources(bus.aws), queue)

    assert [(done.source, done.records) for done in report.redriven] == [("table", 3)]
    # Every outbox item of the batch's time window: at least the batch, consumers dedup.
    assert sorted(e["id"] for e in bus.received()) == sorted(e.id for e in committed)
    assert messages_left(bus.aws, queue) == 0


def test_outbox_items_outside_the_batchs_time_window_are_not_republished(bus: Bus) -> None:
    committed = commit_two_products(bus.aws)
    beyond = str(int(stream_records(bus.aws)[-1]["dynamodb"]["SequenceNumber"]) + 1000)
    long_ago = committed[0].occurred_at - timedelta(days=2)
    queue = failure_queue(bus.aws, failure_message(bus.aws, beyond, beyond, arrived=long_ago))

    report = redrive_failed_batches(resources(bus.aws), queue)

    assert [(done.source, done.records) for done in report.redriven] == [("table", 0)]
    assert bus.received() == []


def test_a_batch_that_cannot_be_published_stays_on_the_queue(bus: Bus) -> None:
    commit_two_products(bus.aws)
    events = [r for r in stream_records(bus.aws) if is_event(r)]
    seq = events[0]["dynamodb"]["SequenceNumber"]
    queue = failure_queue(bus.aws, failure_message(bus.aws, seq, seq), "not a failure record")

    report = redrive_failed_batches(
        resources(bus.aws, bus_name="no-such-bus"), queue, sleep=lambda seconds: None
    )

    assert report.redriven == []
    assert [batch.first_sequence for batch, _ in report.failed] == [seq]
    assert len(report.unreadable) == 1
    assert messages_left(bus.aws, queue) == 2  # both wait for the next redrive


def test_redrive_reports_what_it_left_and_exits_1(bus: Bus) -> None:
    queue = failure_queue(bus.aws, "{}")

    result = runner.invoke(app, ["aws", "redrive", "--queue-url", queue])

    assert result.exit_code == 1
    assert "0 batches redriven, 1 left on the queue" in result.stdout


def test_the_failure_record_is_read_as_lambda_writes_it() -> None:
    with pytest.raises(ValueError, match="not a DynamoDB stream batch failure"):
        failed_batch(json.dumps({"KinesisBatchInfo": {}}))
