"""The storage backends every suite runs against: one entry here runs them all on it.

A backend opens a store, for the test asking, on the storage kept in a folder; opening it again
on the same folder (within one test) reaches the same data when the backend is persistent. A
backend may ask the test for fixtures it needs (the AWS one asks for `aws`, the emulated account of
tests/conftest.py), so fixtures of other backends are never set up for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import pytest

from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.adapters.memory.store import MemoryStore
from catalog.service.ports import Outbox, ProductStore


class CatalogStore(ProductStore, Outbox, Protocol):
    """What every backend provides: the product store and the outbox in one object."""


Backend = Callable[[pytest.FixtureRequest, Path], AbstractContextManager[CatalogStore]]

AWS_TABLE = "catalog-test"


@contextmanager
def memory_backend(request: pytest.FixtureRequest, folder: Path) -> Iterator[CatalogStore]:
    yield MemoryStore()


@contextmanager
def sqlite_backend(request: pytest.FixtureRequest, folder: Path) -> Iterator[CatalogStore]:
    store = SqliteStore(folder / "catalog.db")
    try:
        yield store
    finally:
        store.close()


@contextmanager
def aws_backend(request: pytest.FixtureRequest, folder: Path) -> Iterator[CatalogStore]:
    """DynamoDbStore on moto's server. Its events are read back from the table's stream by a
    test-only reader: on AWS the outbox has no Outbox port (docs/dynamodb.md)."""
    from catalog.adapters.aws.dynamodb_store import DynamoDbStore
    from catalog.adapters.aws.dynamodb_table import ensure_table
    from tests.aws.moto_serial import serialize_dynamodb_requests
    from tests.aws.outbox_reader import DynamoDbStoreWithStreamOutbox, StreamOutboxReader

    serialize_dynamodb_requests()
    endpoint = request.getfixturevalue("aws")  # one clean account per test, shared by reopens
    client = endpoint.client("dynamodb")
    ensure_table(client, AWS_TABLE)
    reader = StreamOutboxReader(client, endpoint.client("dynamodbstreams"), AWS_TABLE)
    yield DynamoDbStoreWithStreamOutbox(DynamoDbStore(client, AWS_TABLE), reader)


BACKENDS: dict[str, Backend] = {
    "memory": memory_backend,
    "sqlite": sqlite_backend,
    "aws": aws_backend,
}
PERSISTENT = ["sqlite", "aws"]  # backends whose data survives closing the store and reopening it
# Backends whose store is also an Outbox the embedded relay consumes (read_after + offsets).
# On AWS, DynamoDB Streams is the outbox reader, so the Outbox contract and the relay suites
# leave it out.
OUTBOXES = ["memory", "sqlite"]
PERSISTENT_OUTBOXES = [name for name in PERSISTENT if name in OUTBOXES]
