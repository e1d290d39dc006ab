"""ProductStore and Outbox on one SQLite file (WAL), for the embedded deployment.

Semantics are those of the in-memory reference store (adapters/memory/store.py); the shared
contract suite (tests/contract) holds both to them.

Concurrency: the FastAPI server calls the store from many threads. Connections come from a
small pool, one per call, so no connection is ever used by two threads at once. Reads run in
autocommit: in WAL mode each statement sees a consistent snapshot and never waits for writers.
Writes take an in-process lock (threads queue fairly instead of sleeping in SQLite's busy
handler) and then `BEGIN IMMEDIATE`, which takes the database write lock up front, so another
process on the same file (e.g. `catalog events`) is serialized too, with busy_timeout bounding
the wait. Under that lock every check-then-write in `commit` is race-free.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from catalog.adapters.event_documents import event_from_document, event_to_document
from catalog.adapters.product_documents import (
    history_from_document,
    history_to_document,
    product_from_document,
    product_to_document,
    refuse_oversized,
)
from catalog.adapters.stored_values import compact_json, from_micros, micros
from catalog.domain.errors import DuplicateSku, IdempotencyKeyRaced, VersionConflict
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
from catalog.domain.listing import LIVE_STATES
from catalog.domain.product import Product
from catalog.service.ports import Change, IdempotencyRecord, OutboxRecord, StoredPage

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # the PRAGMA user_version that schema.sql sets (2: dead_letters)
LIVE_LISTING_STATES = tuple(sorted(state.value for state in LIVE_STATES))
BUSY_TIMEOUT_MS = 30_000

_LIVE_PLACEHOLDERS = ", ".join("?" for _ in LIVE_LISTING_STATES)


class StoreClosed(RuntimeError):
    """The store was used after close()."""


class SqliteStore:
    """Products, history, idempotency records, outbox and relay offsets in one SQLite file.

    `on_commit` is called (outside any lock) after each commit that wrote events, so the
    relay wakes up without polling. It must not raise; if it does, the error is logged and
    the commit, already durable, stands.
    """

    def __init__(self, path: Path, on_commit: Callable[[], None] | None = None) -> None:
        self._path = Path(path)
        self._on_commit = on_commit
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._closed = False
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = self._connect()
        try:
            # WAL is a property of the file: set once, every later connection uses it.
            connection.execute("PRAGMA journal_mode = WAL")
            self._apply_schema(connection)
        except BaseException:
            connection.close()
            raise
        self._idle.put(connection)

    # ----------------------------------------------------------------- ProductStore

    def get(self, merchant_id: str, product_id: str) -> Product | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT doc FROM products WHERE merchant_id = ? AND id = ?",
                (merchant_id, product_id),
            ).fetchone()
        return product_from_document(json.loads(row[0])) if row else None

    def page(
        self,
        merchant_id: str,
        *,
        status: Status | None,
        channel: str | None,
        limit: int,
        position: str | None,
    ) -> StoredPage:
        # One query; limit + 1 rows tell whether another page follows.
        conditions = ["p.merchant_id = ?"]
        params: list[Any] = [merchant_id]
        if status is not None:
            conditions.append("p.status = ?")
            params.append(status.value)
        if position is not None:
            conditions.append("p.id > ?")
            params.append(position)
        if channel is None:
            source = "products AS p"
        else:
            # Walk the channel's index range in product id order, then fetch each document
            # by primary key.
            source = (
                "product_channels AS c JOIN products AS p"
                " ON p.merchant_id = c.merchant_id AND p.id = c.product_id"
            )
            conditions.append(
                f"c.merchant_id = ? AND c.channel = ? AND c.state IN ({_LIVE_PLACEHOLDERS})"
            )
            params.extend([merchant_id, channel, *LIVE_LISTING_STATES])
        sql = f"SELECT p.doc FROM {source} WHERE {' AND '.join(conditions)} ORDER BY p.id LIMIT ?"
        params.append(limit + 1)
        with self._connection() as db:
            rows = db.execute(sql, params).fetchall()
        items = [product_from_document(json.loads(row[0])) for row in rows[:limit]]
        more = len(rows) > limit
        return StoredPage(items, items[-1].id if more else None)

    def history(
        self, merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> list[HistoryEntry]:
        sql = "SELECT doc FROM history WHERE merchant_id = ? AND product_id = ?"
        params: list[Any] = [merchant_id, product_id]
        if before_version is not None:
            sql += " AND version < ?"
            params.append(before_version)
        sql += " ORDER BY version DESC LIMIT ?"
        params.append(limit)
        with self._connection() as db:
            rows = db.execute(sql, params).fetchall()
        return [history_from_document(json.loads(row[0])) for row in rows]

    def idempotency_record(
        self, merchant_id: str, key: str, now: datetime
    ) -> IdempotencyRecord | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT fingerprint, product, expires_at FROM idempotency"
                " WHERE merchant_id = ? AND key = ? AND expires_at > ?",
                (merchant_id, key, micros(now)),
            ).fetchone()
        if row is None:
            return None
        fingerprint, product, expires_at = row
        return IdempotencyRecord(
            merchant_id=merchant_id,
            key=key,
            fingerprint=fingerprint,
            product=product_from_document(json.loads(product)),
            expires_at=from_micros(expires_at),
        )

    def commit(self, change: Change) -> None:
        refuse_oversized(change)
        with self._connection() as db, self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                self._write(db, change)
                db.execute("COMMIT")
            except BaseException:
                # A pooled connection must never go back with a transaction open.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        if change.events and self._on_commit is not None:
            try:
                self._on_commit()
            except Exception:
                logger.exception("on_commit hook failed; the commit stands")

    # ----------------------------------------------------------------- Outbox

    def read_after(self, seq: int, limit: int) -> list[OutboxRecord]:
        with self._connection() as db:
            rows = db.execute(
                "SELECT seq, doc FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [OutboxRecord(row[0], event_from_document(json.loads(row[1]))) for row in rows]

    def offset(self, sink: str) -> int:
        with self._connection() as db:
            row = db.execute("SELECT seq FROM relay_offsets WHERE sink = ?", (sink,)).fetchone()
        return int(row[0]) if row else 0

    def save_offset(self, sink: str, seq: int) -> None:
        with self._connection() as db, self._write_lock:
            # A single statement in autocommit mode is its own transaction.
            db.execute(
                "INSERT INTO relay_offsets (sink, seq) VALUES (?, ?)"
                " ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq",
                (sink, seq),
            )

    def prune(self, up_to_seq: int) -> None:
        with self._connection() as db, self._write_lock:
            # AUTOINCREMENT: the sequence never goes back, even once these rows are gone.
            db.execute("DELETE FROM outbox WHERE seq <= ?", (up_to_seq,))

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close every idle connection; connections in use close when their call ends."""
        with self._state_lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    # ----------------------------------------------------------------- internals

    def _write(self, db: sqlite3.Connection, change: Change) -> None:
        """Every condition, then every write, in the order MemoryStore checks them:
        version, idempotency key, sku. Runs inside BEGIN IMMEDIATE."""
        product = change.product
        doc = compact_json(product_to_document(product))
        if change.expected_version == 0:
            exists = db.execute(
                "SELECT 1 FROM products WHERE merchant_id = ? AND id = ?",
                (product.merchant_id, product.id),
            ).fetchone()
            if exists:
                raise VersionConflict(product.id, 0)
        else:
            updated = db.execute(
                "UPDATE products SET sku = ?, status = ?, version = ?, doc = ?"
                " WHERE merchant_id = ? AND id = ? AND version = ?",
                (
                    product.sku,
                    product.status.value,
                    product.version,
                    doc,
                    product.merchant_id,
                    product.id,
                    change.expected_version,
                ),
            )
            if updated.rowcount != 1:
                raise VersionConflict(product.id, change.expected_version)

        record = change.idempotency
        if record is not None:
            raced = db.execute(
                "SELECT 1 FROM idempotency WHERE merchant_id = ? AND key = ? AND expires_at > ?",
                (record.merchant_id, record.key, micros(change.history.at)),
            ).fetchone()
            if raced:
                raise IdempotencyKeyRaced(record.key)

        if change.expected_version == 0:
            try:
                db.execute(
                    "INSERT INTO products (merchant_id, id, sku, status, version, doc)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        product.merchant_id,
                        product.id,
                        product.sku,
                        product.status.value,
                        product.version,
                        doc,
                    ),
                )
            except sqlite3.IntegrityError:
                # The id was checked free above, under the write lock: the sku is taken.
                raise DuplicateSku(product.sku) from None

        db.execute(
            "DELETE FROM product_channels WHERE merchant_id = ? AND product_id = ?",
            (product.merchant_id, product.id),
        )
        db.executemany(
            "INSERT INTO product_channels (merchant_id, channel, product_id, state)"
            " VALUES (?, ?, ?, ?)",
            [
                (product.merchant_id, channel, product.id, listing.state)
                for channel, listing in product.listings.items()
            ],
        )
        db.execute(
            "INSERT INTO history (merchant_id, product_id, version, doc) VALUES (?, ?, ?, ?)",
            (
                product.merchant_id,
                product.id,
                change.history.version,
                compact_json(history_to_document(change.history)),
            ),
        )
        db.executemany(
            "INSERT INTO outbox (event_id, doc) VALUES (?, ?)",
            [(event.id, compact_json(event_to_document(event))) for event in change.events],
        )
        if record is not None:
            # Replaces an expired record for the same key, if any.
            db.execute(
                "INSERT OR REPLACE INTO idempotency"
                " (merchant_id, key, fingerprint, product, expires_at) VALUES (?, ?, ?, ?, ?)",
                (
                    record.merchant_id,
                    record.key,
                    record.fingerprint,
                    compact_json(product_to_document(record.product)),
                    micros(record.expires_at),
                ),
            )

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; commit() issues BEGIN IMMEDIATE.
        # check_same_thread=False: pooled connections move between threads, one at a time.
        connection = sqlite3.connect(
            self._path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # FULL rather than NORMAL: a commit is acknowledged to the client (201 + ETag) and its
        # events are promised to consumers, so it must survive a power loss or OS crash, not
        # only a process crash. In WAL mode this costs one fsync of the log per commit.
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    def _apply_schema(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self._path} has schema version {version}; this code knows {SCHEMA_VERSION}"
            )
        if version < SCHEMA_VERSION:
            script = (
                resources.files("catalog.adapters.embedded")
                .joinpath("schema.sql")
                .read_text("utf-8")
            )
            db.executescript(script)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._state_lock:
            if self._closed:
                raise StoreClosed(f"the store on {self._path} is closed")
        try:
            connection = self._idle.get_nowait()
        except queue.Empty:
            connection = self._connect()
        try:
            yield connection
        finally:
            with self._state_lock:
                closed = self._closed
            if closed:
                connection.close()
            else:
                self._idle.put(connection)
