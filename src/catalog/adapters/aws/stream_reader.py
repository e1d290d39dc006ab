"""Reading a table's DynamoDB stream outside Lambda: following it (`StreamFollower`, what
`catalog aws relay` runs against moto) and re-reading one batch by its sequence numbers
(`read_batch`, what `catalog aws redrive` does with a batch the relay gave up on).

Records come back as GetRecords returns them, which is the shape Lambda hands the relay
(`eventName`, `dynamodb.NewImage`, `dynamodb.SequenceNumber`), so both feed the relay
Lambda's own code (eventbridge_relay.relay_stream_records).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal

from botocore.exceptions import ClientError
from msgspec import Struct

logger = logging.getLogger(__name__)

StreamRecord = dict[str, Any]
# Takes a shard's batch, returns the sequence numbers to deliver again (as the relay does).
BatchHandler = Callable[[Sequence[StreamRecord]], Sequence[str]]

# Codes meaning the stream no longer holds the records asked for: trimmed after 24 h, or the
# shard or stream is gone (the stream was disabled, or the table recreated).
GONE = {"TrimmedDataAccessException", "ResourceNotFoundException"}
_EMPTY_READS = 3  # GetRecords may answer empty before the end of an open shard


def table_stream_arn(dynamodb: Any, table_name: str) -> str:
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    arn = table.get("LatestStreamArn")
    if not arn:
        raise LookupError(f"table {table_name} has no stream")
    return str(arn)


def shard_ids(streams: Any, stream_arn: str) -> list[str]:
    ids: list[str] = []
    start: dict[str, str] = {}
    while True:
        description = streams.describe_stream(StreamArn=stream_arn, **start)["StreamDescription"]
        ids += [shard["ShardId"] for shard in description.get("Shards", [])]
        last = description.get("LastEvaluatedShardId")
        if not last:
            return ids
        start = {"ExclusiveStartShardId": last}


class _Shard(Struct):
    iterator: str | None
    last_sequence: str | None = None
    closed: bool = False


class StreamFollower:
    """Follows every shard of a stream as Lambda's event source mapping does: batches in
    order per shard, and a batch whose records the handler reports as failed is read again
    from the first of them on the next poll (nothing after it is skipped)."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        *,
        start: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON",
        batch_size: int = 100,
    ) -> None:
        self._streams = streams
        self._arn = stream_arn
        self._start = start
        self._batch_size = batch_size
        self._shards: dict[str, _Shard] = {}

    def poll(self, handle: BatchHandler) -> int:
        """One batch per shard with records; returns how many records were handed over."""
        for shard_id in shard_ids(self._streams, self._arn):
            if shard_id not in self._shards:
                # Shards appearing later are children of split ones: read them whole.
                start = self._start if not self._shards else "TRIM_HORIZON"
                self._shards[shard_id] = _Shard(self._iterator(shard_id, start))
        handed = 0
        for shard_id, shard in self._shards.items():
            if not shard.closed:
                handed += self._poll_shard(shard_id, shard, handle)
        return handed

    def _poll_shard(self, shard_id: str, shard: _Shard, handle: BatchHandler) -> int:
        if shard.iterator is None:
            shard.closed = True
            return 0
        try:
            response = self._streams.get_records(
                ShardIterator=shard.iterator, Limit=self._batch_size
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            shard.iterator = self._resume(shard_id, shard)
            return 0
        records: list[StreamRecord] = response.get("Records", [])
        next_iterator = response.get("NextShardIterator")
        if not records:
            shard.iterator = next_iterator
            return 0
        failed = list(handle(records))
        if failed:
            first = min(failed, key=int)
            logger.warning(
                "%d records of %s to deliver again from %s", len(failed), shard_id, first
            )
            shard.iterator = self._iterator(shard_id, "AT_SEQUENCE_NUMBER", first)
            delivered = [r for r in records if int(_sequence(r)) < int(first)]
            if delivered:
                shard.last_sequence = _sequence(delivered[-1])
        else:
            shard.iterator = next_iterator
            shard.last_sequence = _sequence(records[-1])
        return len(records)

    def _resume(self, shard_id: str, shard: _Shard) -> str | None:
        if shard.last_sequence is None:
            return self._iterator(shard_id, self._start)
        return self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", shard.last_sequence)

    def _iterator(self, shard_id: str, kind: str, sequence: str | None = None) -> str | None:
        extra = {"SequenceNumber": sequence} if sequence is not None else {}
        response = self._streams.get_shard_iterator(
            StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=kind, **extra
        )
        iterator = response.get("ShardIterator")
        return str(iterator) if iterator else None


def read_batch(
    streams: Any, stream_arn: str, shard_id: str, first: str, last: str
) -> list[StreamRecord] | None:
    """The records of a shard from sequence number `first` to `last` (inclusive), or None
    when the stream no longer has them."""
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=first,
        ).get("ShardIterator")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in GONE:
            return None
        raise
    records: list[StreamRecord] = []
    empty_reads = 0
    while iterator and empty_reads < _EMPTY_READS:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        batch = response.get("Records", [])
        empty_reads = 0 if batch else empty_reads + 1
        for record in batch:
            if int(_sequence(record)) > int(last):
                return records
            records.append(record)
        iterator = response.get("NextShardIterator")
    return records or None


def _sequence(record: StreamRecord) -> str:
    return str(record["dynamodb"]["SequenceNumber"])
