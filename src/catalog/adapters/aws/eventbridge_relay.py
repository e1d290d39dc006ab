"""The outbox relay of the AWS deployment: DynamoDB stream records -> EventBridge.

Every committed change writes its events as outbox items in the same transaction as the
product (`item_type` EVENT, the event document as JSON in `event`). The table's stream hands
their INSERT records to the relay Lambda (entrypoints/lambda_relay.py), which calls
`relay_stream_records`. Everything else on the stream is skipped: products, history, other
item types, every MODIFY, and every REMOVE, including the TTL deletions that clear old
outbox items.

Each event goes to the bus as `Source=catalog`, `DetailType=<event name>`, `Detail=<the
CloudEvent>`, the envelope every other sink delivers. Delivery is at least once: failed
entries are retried a few times with backoff, and the records still failing are handed back
so Lambda retries them; events already delivered may then go out again, under the same
CloudEvent id, which is what consumers deduplicate by.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from msgspec import Struct
from tenacity import retry_if_result

from catalog.adapters.cloudevents import SOURCE, to_cloudevent
from catalog.adapters.event_documents import event_from_document
from catalog.adapters.retries import Backoff, last_result
from catalog.domain.events import DomainEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

MAX_BATCH = 10  # PutEvents takes at most 10 entries per call
MAX_ATTEMPTS = 4  # per entry, the first try included
BASE_DELAY_SECONDS = 0.1  # the n-th retry waits at most this times 2**n (full jitter)
MAX_DELAY_SECONDS = 5.0

logger = logging.getLogger("catalog.relay")

StreamRecord = Mapping[str, Any]


class _Pending(Struct, frozen=True):
    """One outbox event to put, and the stream record it came from."""

    position: int  # index of its record in the batch Lambda delivered
    entry: PutEventsRequestEntryTypeDef


def outbox_event(record: StreamRecord) -> DomainEvent | None:
    """The event of an outbox INSERT record; None for every other record. Raises (KeyError,
    ValueError) when an outbox item cannot be read: never skipped silently."""
    image = record.get("dynamodb", {}).get("NewImage", {})
    if record.get("eventName") != "INSERT" or image.get("item_type", {}).get("S") != "EVENT":
        return None
    return event_from_document(json.loads(image["event"]["S"]))


def outbox_entry(record: StreamRecord, bus_name: str) -> PutEventsRequestEntryTypeDef | None:
    """The PutEvents entry of an outbox INSERT record; None for every other record."""
    event = outbox_event(record)
    if event is None:
        return None
    return {
        "Source": SOURCE,
        "DetailType": event.name.value,
        "Detail": json.dumps(to_cloudevent(event), separators=(",", ":")),
        "EventBusName": bus_name,
    }


def relay_stream_records(
    records: Sequence[StreamRecord],
    events_client: EventBridgeClient,
    bus_name: str,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Put the outbox events of `records` on the bus; returns the sequence numbers of the
    records Lambda must deliver again (empty when everything went out).

    Records of a shard are ordered, and Lambda resumes a shard at the lowest sequence number
    reported, so once a record fails for good, it and every record after it are reported and
    nothing after it is sent in this invocation.
    """
    pending: list[_Pending] = []
    unreadable: int | None = None
    for position, record in enumerate(records):
        try:
            entry = outbox_entry(record, bus_name)
        except (KeyError, TypeError, ValueError):
            # A bug, not bad luck: retrying will not help, but dropping the event would lose
            # it. Reported, so the event source mapping's retry limit and on-failure
            # destination decide, and an operator sees it.
            logger.exception("unreadable outbox record %s", _sequence_number(record))
            unreadable = position
            break
        if entry is not None:
            pending.append(_Pending(position, entry))

    first_failed = unreadable
    for start in range(0, len(pending), MAX_BATCH):
        batch = pending[start : start + MAX_BATCH]
        failed = _put_with_retries(batch, events_client, max_attempts, sleep)
        if failed:
            first_failed = min(item.position for item in failed)
            break
    if first_failed is None:
        return []
    return [_sequence_number(record) for record in records[first_failed:]]


def _put_with_retries(
    batch: list[_Pending],
    events_client: EventBridgeClient,
    max_attempts: int,
    sleep: Callable[[float], None],
) -> list[_Pending]:
    """Put one batch, retrying only the entries that failed; returns those that never went.
    Full jitter (adapters/retries.py) spreads the retries of many concurrent relays instead of
    synchronizing them on a throttled bus."""
    remaining = batch

    def put_remaining() -> list[_Pending]:
        nonlocal remaining
        remaining = _put_once(remaining, events_client)
        return remaining

    backoff = Backoff(max_attempts, 2 * BASE_DELAY_SECONDS, MAX_DELAY_SECONDS)
    retrying = backoff.retrying(retry_if_result(bool), sleep=sleep, on_exhausted=last_result)
    failed: list[_Pending] = retrying(put_remaining)
    return failed


def _put_once(batch: list[_Pending], events_client: EventBridgeClient) -> list[_Pending]:
    try:
        response = events_client.put_events(Entries=[item.entry for item in batch])
    except (BotoCoreError, ClientError):
        # botocore already retried what it considers retryable; whatever is left (network,
        # throttling past its quota, a 5xx) fails the whole batch for this attempt.
        logger.warning("PutEvents failed for %d entries", len(batch), exc_info=True)
        return batch
    if not response.get("FailedEntryCount"):
        return []
    # Result entries line up with the request's; a failed one carries an ErrorCode.
    failed = []
    for item, result in zip(batch, response["Entries"], strict=True):
        if result.get("ErrorCode"):
            logger.warning(
                "PutEvents entry %s failed: %s %s",
                item.entry["DetailType"],
                result.get("ErrorCode"),
                result.get("ErrorMessage", ""),
            )
            failed.append(item)
    return failed


def _sequence_number(record: StreamRecord) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", ""))
