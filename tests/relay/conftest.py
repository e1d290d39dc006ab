"""Outboxes to relay from (every backend that is one) and sinks that record what they get."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ulid import ULID

from catalog.domain.events import DomainEvent
from catalog.domain.product import Product, Stamp
from catalog.domain.values import Money
from catalog.service.ports import Change, OutboxRecord
from tests.backends import BACKENDS, OUTBOXES, CatalogStore

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WAIT = 5.0  # seconds a test waits for the relay thread before failing (never reached if healthy)


@pytest.fixture(params=OUTBOXES)  # the embedded relay's outboxes; AWS relays from its stream
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogStore]:
    with BACKENDS[request.param](request, tmp_path) as opened:
        yield opened


def new_id() -> str:
    return str(ULID())


def commit_products(store: CatalogStore, count: int) -> list[DomainEvent]:
    """Registers `count` products, one commit each; returns their events in commit order."""
    events: list[DomainEvent] = []
    for index in range(count):
        at = T0 + timedelta(seconds=index)
        product = Product.register(
            id=new_id(),
            merchant_id="acme",
            sku=f"SKU-{new_id()}",
            name=f"Product {index}",
            description=None,
            price=Money(1000 + index, "USD"),
            attributes={},
            channel_overrides={},
            stamp=Stamp("alice", at),
        )
        pending = product.pull_change(new_id)
        assert pending is not None
        store.commit(Change(product, pending.expected_version, pending.history, pending.events))
        events.extend(pending.events)
    return events


class RecordingSink:
    """Accepts everything, or refuses the first `failures` attempts; thread-safe."""

    parks_undeliverable = False

    def __init__(self, name: str = "recorder", failures: int = 0) -> None:
        self.name = name
        self.attempts = 0
        self.received: list[OutboxRecord] = []
        self._failures_left = failures
        self._changed = threading.Condition()

    def deliver(self, records: Sequence[OutboxRecord]) -> None:
        with self._changed:
            self.attempts += 1
            self._changed.notify_all()
            if self._failures_left:
                self._failures_left -= 1
                raise ConnectionError(f"{self.name} is down")
            self.received.extend(records)

    def ids(self) -> list[str]:
        with self._changed:
            return [record.event.id for record in self.received]

    def wait_for(self, *, received: int = 0, attempts: int = 0) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: len(self.received) >= received and self.attempts >= attempts, WAIT
            )
