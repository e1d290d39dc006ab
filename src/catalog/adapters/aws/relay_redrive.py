"""Redrive of the batches the relay Lambda gave up on (`catalog aws redrive`).

When the relay's event source mapping runs out of retries it sends the failure queue
(template.yaml: RelayFailureQueue) a message with the batch's coordinates, not its records:
`DDBStreamBatchInfo` with the stream, the shard and the first and last sequence numbers. For
each message the redrive reads the records again from the stream (AT_SEQUENCE_NUMBER), or,
once the stream no longer has them (it keeps 24 hours), the outbox items of the table (kept 7
days) written in the batch's time window; it publishes them with the relay Lambda's own code
(same envelope, same CloudEvent ids, so consumers deduplicate), and deletes the message only
once every event of the batch is on the bus.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from msgspec import Struct, field

from catalog.adapters.aws.eventbridge_relay import relay_stream_records
from catalog.adapters.aws.stream_reader import StreamRecord, read_batch

logger = logging.getLogger(__name__)

# How far around the batch's arrival times outbox items are taken from the table: the
# event's occurred_at is the commit's clock, its arrival on the stream follows within seconds.
WINDOW_MARGIN = timedelta(minutes=5)
VISIBILITY_TIMEOUT_SECONDS = 300  # a message being redriven is hidden from others this long


class FailedBatch(Struct, frozen=True):
    stream_arn: str
    shard_id: str
    first_sequence: str
    last_sequence: str
    first_arrival: datetime
    last_arrival: datetime


def failed_batch(body: str) -> FailedBatch:
    """The coordinates in a failure message (Lambda's on-failure destination record for a
    DynamoDB stream). Raises ValueError for anything else."""
    try:
        info = json.loads(body)["DDBStreamBatchInfo"]
        return FailedBatch(
            stream_arn=info["streamArn"],
            shard_id=info["shardId"],
            first_sequence=str(info["startSequenceNumber"]),
            last_sequence=str(info["endSequenceNumber"]),
            first_arrival=_instant(info["approximateArrivalOfFirstRecord"]),
            last_arrival=_instant(info["approximateArrivalOfLastRecord"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a DynamoDB stream batch failure record: {error}") from error


class Redriven(Struct, frozen=True):
    batch: FailedBatch
    source: Literal["stream", "table"]
    records: int


class RedriveReport(Struct):
    redriven: list[Redriven] = field(default_factory=list)
    failed: list[tuple[FailedBatch, str]] = field(default_factory=list)  # left on the queue
    unreadable: list[str] = field(default_factory=list)  # message ids left on the queue


class RelayResources(Struct, frozen=True):
    """The clients and names a redrive works with."""

    sqs: Any
    streams: Any
    dynamodb: Any
    events: Any
    table_name: str
    bus_name: str


def redrive_failed_batches(
    aws: RelayResources,
    queue_url: str,
    *,
    visibility_timeout: int = VISIBILITY_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> RedriveReport:
    """Every message on the failure queue, once: re-published and deleted, or left there
    (visible again after `visibility_timeout`) and reported."""
    report = RedriveReport()
    seen: set[str] = set()
    # Not a retry: one pass over the queue. Each turn handles at least one message not seen
    # before, and a message left on the queue stays hidden for `visibility_timeout`, so the
    # pass ends once the queue holds nothing new (a message failing again waits for the next
    # redrive; the relay's own retries are those of relay_stream_records).
    while True:
        messages = aws.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility_timeout,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [message for message in messages if message["MessageId"] not in seen]
        if not fresh:
            return report
        for message in fresh:
            seen.add(message["MessageId"])
            _redrive_message(aws, queue_url, message, report, sleep)


def _redrive_message(
    aws: RelayResources,
    queue_url: str,
    message: dict[str, Any],
    report: RedriveReport,
    sleep: Callable[[float], None],
) -> None:
    try:
        batch = failed_batch(message["Body"])
    except ValueError:
        logger.exception("failure message %s left on the queue", message["MessageId"])
        report.unreadable.append(message["MessageId"])
        return
    records = read_batch(
        aws.streams, batch.stream_arn, batch.shard_id, batch.first_sequence, batch.last_sequence
    )
    source: Literal["stream", "table"] = "stream"
    if records is None:
        source = "table"
        records = outbox_records_between(
            aws.dynamodb,
            aws.table_name,
            batch.first_arrival - WINDOW_MARGIN,
            batch.last_arrival + WINDOW_MARGIN,
        )
    failed = relay_stream_records(records, aws.events, aws.bus_name, sleep=sleep)
    if failed:
        report.failed.append((batch, f"{len(failed)} records not published"))
        return
    aws.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    report.redriven.append(Redriven(batch, source, len(records)))


def outbox_records_between(
    dynamodb: Any, table_name: str, earliest: datetime, latest: datetime
) -> list[StreamRecord]:
    """The table's outbox items whose event occurred in [earliest, latest], in time order, as
    stream INSERT records. A Scan: the only one in the catalog, for an operator's redrive
    after the stream has let the records go; it may publish events beyond the failed batch,
    which consumers drop as duplicates."""
    items: list[tuple[datetime, str, str, dict[str, Any]]] = []
    start: dict[str, Any] = {}
    while True:
        page = dynamodb.scan(
            TableName=table_name,
            FilterExpression="item_type = :event",
            ExpressionAttributeValues={":event": {"S": "EVENT"}},
            **start,
        )
        for item in page.get("Items", []):
            occurred = _instant(json.loads(item["event"]["S"])["occurred_at"])
            if earliest <= occurred <= latest:
                items.append((occurred, item["pk"]["S"], item["sk"]["S"], item))
        if "LastEvaluatedKey" not in page:
            break
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    items.sort(key=lambda found: found[:3])
    return [
        {"eventName": "INSERT", "dynamodb": {"NewImage": item, "SequenceNumber": f"{pk}|{sk}"}}
        for _, pk, sk, item in items
    ]


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment
