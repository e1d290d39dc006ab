"""SQLite implementations of the stores: one small file survives adapter restarts.

One connection shared by the threads of one process, serialized by a lock (the adapter
handles one event at a time per destination anyway).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from channel_kit.stores import ListingKey

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_events (event_id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS seen_events_by_age ON seen_events (seen_at);
CREATE TABLE IF NOT EXISTS listing_versions (
  merchant_id TEXT NOT NULL, product_id TEXT NOT NULL, channel TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, product_id, channel)
);
CREATE TABLE IF NOT EXISTS listing_items (
  merchant_id TEXT NOT NULL, product_id TEXT NOT NULL, channel TEXT NOT NULL,
  item_id TEXT NOT NULL,
  PRIMARY KEY (merchant_id, product_id, channel, item_id)
);
"""


class SqliteState:
    """Opens (creating if needed) the state file; hands out the stores over it."""

    def __init__(self, path: Path | str) -> None:
        self._connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.executescript(_SCHEMA)
        self.lock = threading.Lock()

    @property
    def connection(self) -> sqlite3.Connection:
        return self._connection

    def close(self) -> None:
        with self.lock:
            self._connection.close()


class SqliteSeenEvents:
    """Ids are kept `retention_seconds` (default 7 days, well past any redelivery)."""

    def __init__(self, state: SqliteState, retention_seconds: float = 7 * 24 * 3600) -> None:
        self._state = state
        self._retention = retention_seconds

    def seen(self, event_id: str) -> bool:
        with self._state.lock:
            row = self._state.connection.execute(
                "SELECT 1 FROM seen_events WHERE event_id = ?", (event_id,)
            ).fetchone()
        return row is not None

    def remember(self, event_id: str) -> None:
        now = time.time()
        with self._state.lock:
            self._state.connection.execute(
                "INSERT OR REPLACE INTO seen_events (event_id, seen_at) VALUES (?, ?)",
                (event_id, now),
            )
            self._state.connection.execute(
                "DELETE FROM seen_events WHERE seen_at < ?", (now - self._retention,)
            )


class SqliteVersionLedger:
    def __init__(self, state: SqliteState) -> None:
        self._state = state

    def newest(self, key: ListingKey) -> int | None:
        with self._state.lock:
            row = self._state.connection.execute(
                "SELECT version FROM listing_versions"
                " WHERE merchant_id = ? AND product_id = ? AND channel = ?",
                tuple(key),
            ).fetchone()
        return None if row is None else int(row[0])

    def record(self, key: ListingKey, version: int) -> None:
        with self._state.lock:
            self._state.connection.execute(
                "INSERT INTO listing_versions (merchant_id, product_id, channel, version)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (merchant_id, product_id, channel)"
                " DO UPDATE SET version = excluded.version WHERE excluded.version > version",
                (*key, version),
            )


class SqlitePublishedItems:
    def __init__(self, state: SqliteState) -> None:
        self._state = state

    def items(self, key: ListingKey) -> frozenset[str]:
        with self._state.lock:
            rows = self._state.connection.execute(
                "SELECT item_id FROM listing_items"
                " WHERE merchant_id = ? AND product_id = ? AND channel = ?",
                tuple(key),
            ).fetchall()
        return frozenset(str(row[0]) for row in rows)

    def replace(self, key: ListingKey, item_ids: Iterable[str]) -> None:
        held = sorted(set(item_ids))
        connection = self._state.connection
        with self._state.lock:
            # One transaction: a crash keeps the old list or the new one, never a mix.
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(
                    "DELETE FROM listing_items"
                    " WHERE merchant_id = ? AND product_id = ? AND channel = ?",
                    tuple(key),
                )
                connection.executemany(
                    "INSERT INTO listing_items (merchant_id, product_id, channel, item_id)"
                    " VALUES (?, ?, ?, ?)",
                    [(*key, item_id) for item_id in held],
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
