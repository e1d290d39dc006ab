"""Events a webhook gave up on: the `dead_letters` table of the embedded database.

The relay parks an event here after its bounded attempts and moves the sink past it, so one
event a receiver keeps refusing never holds back the events after it, and the outbox can
prune it: the row keeps the whole event. `catalog events dead` lists the rows and
`catalog events redrive` delivers them again (relay.redrive_dead_letters).

The table is created by the store's schema (schema.sql); the composition root opens the
SqliteStore on the file before this.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from msgspec import Struct

from catalog.adapters.event_documents import event_from_document, event_to_document
from catalog.adapters.stored_values import compact_json, from_micros, micros
from catalog.service.ports import OutboxRecord

BUSY_TIMEOUT_SECONDS = 30.0


class DeadLetter(Struct, frozen=True):
    sink: str
    record: OutboxRecord
    attempts: int
    last_error: str
    parked_at: datetime

    @property
    def event_id(self) -> str:
        return self.record.event.id


class SqliteDeadLetters:
    """The dead-letter table on one SQLite file; safe to share between threads and with
    other processes (each call has its own connection, writes are single statements)."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)

    def park(
        self, sink: str, record: OutboxRecord, attempts: int, error: str, at: datetime
    ) -> None:
        """Park the event for the sink; parking it again (a failed redrive) updates the row."""
        with self._connection() as db:
            db.execute(
                "INSERT INTO dead_letters"
                " (sink, event_id, seq, doc, attempts, last_error, parked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (sink, event_id) DO UPDATE SET"
                " attempts = excluded.attempts, last_error = excluded.last_error,"
                " parked_at = excluded.parked_at",
                (
                    sink,
                    record.event.id,
                    record.seq,
                    compact_json(event_to_document(record.event)),
                    attempts,
                    error,
                    micros(at),
                ),
            )

    def parked(self, *, sink: str | None = None, event_id: str | None = None) -> list[DeadLetter]:
        """Parked events in commit order, optionally of one sink and/or one event."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT sink, seq, doc, attempts, last_error, parked_at FROM dead_letters"
                " WHERE (?1 IS NULL OR sink = ?1) AND (?2 IS NULL OR event_id = ?2)"
                " ORDER BY seq, sink",
                (sink, event_id),
            ).fetchall()
        return [
            DeadLetter(
                sink=row[0],
                record=OutboxRecord(row[1], event_from_document(json.loads(row[2]))),
                attempts=row[3],
                last_error=row[4],
                parked_at=from_micros(row[5]),
            )
            for row in rows
        ]

    def remove(self, sink: str, event_id: str) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM dead_letters WHERE sink = ? AND event_id = ?", (sink, event_id))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # Autocommit: each statement is its own transaction. Parking is rare, so a connection
        # per call costs nothing that matters and keeps threads and processes apart.
        connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        with closing(connection):
            connection.execute("PRAGMA synchronous = FULL")
            yield connection
