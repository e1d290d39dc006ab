"""Where an adapter remembers what it already handled, and what it put on the channel.

Three small ports, each with an in-memory implementation (tests, a single process that may
forget on restart: the catalog's redeliveries are then deduplicated by the catalog itself,
which answers repeated outcomes without a change) and a SQLite one (`sqlite_stores`).
A DynamoDB implementation is the natural extension for Lambda: `SeenEvents.remember` as a
conditional put with a TTL attribute, `VersionLedger.record` as an update with
`SET version = :v` guarded by `attribute_not_exists(version) OR version < :v`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import NamedTuple, Protocol


class ListingKey(NamedTuple):
    merchant_id: str
    product_id: str
    channel: str


class SeenEvents(Protocol):
    """Event ids already handled (deduplication of at-least-once delivery)."""

    def seen(self, event_id: str) -> bool: ...

    def remember(self, event_id: str) -> None: ...


class VersionLedger(Protocol):
    """The newest product version handled per listing (dropping stale events)."""

    def newest(self, key: ListingKey) -> int | None: ...

    def record(self, key: ListingKey, version: int) -> None:
        """Keep `version` if it is newer than the one held (never goes back)."""
        ...


class PublishedItems(Protocol):
    """The channel's item ids an adapter has put on the channel per listing, when one listing
    is several items (Meta: one item per variant). What the product no longer has must be
    deleted from the channel, and only the adapter knows it was there."""

    def items(self, key: ListingKey) -> frozenset[str]: ...

    def replace(self, key: ListingKey, item_ids: Iterable[str]) -> None:
        """Hold exactly `item_ids` for the listing (none: forget it)."""
        ...


class MemorySeenEvents:
    """Bounded: the oldest ids are forgotten past `capacity` (redeliveries come soon after
    the first delivery, not a million events later)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def seen(self, event_id: str) -> bool:
        with self._lock:
            return event_id in self._ids

    def remember(self, event_id: str) -> None:
        with self._lock:
            self._ids[event_id] = None
            self._ids.move_to_end(event_id)
            while len(self._ids) > self._capacity:
                self._ids.popitem(last=False)


class MemoryVersionLedger:
    def __init__(self) -> None:
        self._versions: dict[ListingKey, int] = {}
        self._lock = threading.Lock()

    def newest(self, key: ListingKey) -> int | None:
        with self._lock:
            return self._versions.get(key)

    def record(self, key: ListingKey, version: int) -> None:
        with self._lock:
            if version > self._versions.get(key, 0):
                self._versions[key] = version


class MemoryPublishedItems:
    def __init__(self) -> None:
        self._items: dict[ListingKey, frozenset[str]] = {}
        self._lock = threading.Lock()

    def items(self, key: ListingKey) -> frozenset[str]:
        with self._lock:
            return self._items.get(key, frozenset())

    def replace(self, key: ListingKey, item_ids: Iterable[str]) -> None:
        held = frozenset(item_ids)
        with self._lock:
            if held:
                self._items[key] = held
            else:
                self._items.pop(key, None)
