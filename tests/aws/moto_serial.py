"""Test-only: make moto's DynamoDB answer one request at a time, as a linearizable store.

moto evaluates a TransactWriteItems condition by condition and writes as it goes, and undoes
a cancelled one by restoring a copy of the whole table; requests handled concurrently by the
threaded server can therefore interleave (two writers both pass `version = 1`) or undo each
other's writes. Real DynamoDB serializes conflicting transactions per item. The racing tests
of the contract suite need that guarantee, so every DynamoDB and DynamoDB Streams request of
the in-process moto server runs under one lock. This changes the emulator, never the code
under test: the store still sends its racing transactions concurrently.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_applied = False


def serialize_dynamodb_requests() -> None:
    """Idempotent; affects the moto server running in this process."""
    global _applied
    with _LOCK:
        if _applied:
            return
        from moto.dynamodb.responses import DynamoHandler
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

        for handler in (DynamoHandler, DynamoDBStreamsHandler):
            handler.call_action = _serialized(handler.call_action)  # type: ignore[method-assign]
        _applied = True


def _serialized(call_action: Any) -> Any:
    @functools.wraps(call_action)
    def locked(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    return locked
