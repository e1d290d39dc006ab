"""ProductStore (products and product types) and Outbox on one SQLite file (WAL), for the
embedded deployment.

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
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from catalog.adapters.event_documents import event_from_document, event_to_document
from catalog.adapters.product_documents import (
    StoredChange,
    history_from_document,
    product_from_document,
    product_to_document,
    stored_change,
)
from catalog.adapters.requirements_documents import (
    requirements_from_document,
    stored_requirements,
)
from catalog.adapters.stored_values import compact_json, from_micros, micros
from catalog.adapters.type_documents import type_from_document, type_to_document
from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.errors import (
    DuplicateProductType,
    DuplicateSku,
    IdempotencyKeyRaced,
    InvalidField,
    ProductTypeInUse,
    VersionConflict,
)
from catalog.domain.events import DomainEvent
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
from catalog.domain.listing import LIVE_STATES
from catalog.domain.product import Product
from catalog.domain.product_types import ProductType
from catalog.service.ports import (
    Change,
    IdempotencyRecord,
    MerchantPage,
    OutboxRecord,
    ProductRules,
    RequirementsChange,
    SkuOwner,
    StoredPage,
    TypeChange,
    TypePage,
)

logger = logging.getLogger(__name__)

# The PRAGMA user_version that schema.sql sets (2: dead_letters; 3: product types; 4: channel
# requirements; 5: variant SKUs; 6: jobs).
SCHEMA_VERSION = 6
# Columns added to a table after files with that table existed: (table, column, declaration).
# schema.sql creates them in new files; older files get them before the script runs.
ADDED_COLUMNS = (("products", "product_type", "TEXT"),)
LIVE_LISTING_STATES = tuple(sorted(state.value for state in LIVE_STATES))
BUSY_TIMEOUT_MS = 30_000

_LIVE_PLACEHOLDERS = ", ".join("?" for _ in LIVE_LISTING_STATES)


class StoreClosed(RuntimeError):
    """The store was used after close()."""


class SqliteStore:
    """Products, product types, history, idempotency records, outbox and relay offsets in
    one SQLite file.

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
        product_type: str | None = None,
    ) -> StoredPage:
        # One query; limit + 1 rows tell whether another page follows. By type, it walks
        # products_by_type in id order.
        conditions = ["p.merchant_id = ?"]
        params: list[Any] = [merchant_id]
        if status is not None:
            conditions.append("p.status = ?")
            params.append(status.value)
        if product_type is not None:
            conditions.append("p.product_type = ?")
            params.append(product_type)
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

    def merchants(self, *, limit: int, position: str | None) -> MerchantPage:
        # A loose index scan of the primary key (merchant_id, id): each step seeks the next
        # merchant id past the previous one, so a page costs limit + 1 index probes however
        # many products each merchant has (SELECT DISTINCT would read every row).
        sql = (
            "WITH RECURSIVE merchant(id) AS ("
            " SELECT min(merchant_id) FROM products WHERE merchant_id > ?"
            " UNION ALL"
            " SELECT (SELECT min(merchant_id) FROM products WHERE merchant_id > merchant.id)"
            " FROM merchant WHERE merchant.id IS NOT NULL"
            # Inside the CTE, the LIMIT stops the recursion itself.
            " LIMIT ?"
            ") SELECT id FROM merchant WHERE id IS NOT NULL"
        )
        # "" sorts before every id: the first page starts at the first merchant.
        with self._connection() as db:
            rows = db.execute(sql, (position or "", limit + 1)).fetchall()
        items = [str(row[0]) for row in rows[:limit]]
        return MerchantPage(items, items[-1] if len(rows) > limit else None)

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
        stored = stored_change(change)
        self._commit(lambda db: self._write(db, change, stored), change.events)

    def product_type(self, merchant_id: str, key: str) -> ProductType | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT doc FROM product_types WHERE merchant_id = ? AND key = ?",
                (merchant_id, key),
            ).fetchone()
        return type_from_document(json.loads(row[0])) if row else None

    def product_types(self, merchant_id: str, *, limit: int, position: str | None) -> TypePage:
        # One range of the primary key; limit + 1 rows tell whether another page follows.
        sql = "SELECT doc FROM product_types WHERE merchant_id = ?"
        params: list[Any] = [merchant_id]
        if position is not None:
            sql += " AND key > ?"
            params.append(position)
        sql += " ORDER BY key LIMIT ?"
        params.append(limit + 1)
        with self._connection() as db:
            rows = db.execute(sql, params).fetchall()
        items = [type_from_document(json.loads(row[0])) for row in rows[:limit]]
        return TypePage(items, items[-1].key if len(rows) > limit else None)

    def commit_type(self, change: TypeChange) -> None:
        self._commit(lambda db: self._write_type(db, change), change.events)

    def channel_requirements(self) -> RequirementsSet:
        with self._connection() as db:
            row = db.execute("SELECT doc FROM channel_requirements").fetchone()
        return requirements_from_document(json.loads(row[0])) if row else RequirementsSet()

    def sku_owner(self, merchant_id: str, sku: str) -> SkuOwner | None:
        with self._connection() as db:
            return _sku_holder(db, merchant_id, sku)

    def product_rules(
        self, merchant_id: str, type_key: str | None, *, fresh: bool = False
    ) -> ProductRules:
        """Always read now: both reads are local and cheap."""
        del fresh
        product_type = self.product_type(merchant_id, type_key) if type_key else None
        return ProductRules(product_type, self.channel_requirements())

    def commit_requirements(self, change: RequirementsChange) -> None:
        doc = stored_requirements(change)
        self._commit(lambda db: self._write_requirements(db, change, doc), change.events)

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

    # ----------------------------------------------------------------- for the job store

    # SqliteJobStore (sqlite_jobs.py) keeps jobs in this file and writes a batch of a job's
    # rows with the changes it carries, in one transaction of this store.

    def transaction(
        self, write: Callable[[sqlite3.Connection], None], events: tuple[DomainEvent, ...]
    ) -> None:
        """Run `write` in one BEGIN IMMEDIATE transaction under the write lock."""
        self._commit(write, events)

    def write_change(self, db: sqlite3.Connection, change: Change, stored: StoredChange) -> None:
        """A change's conditions and writes, inside `transaction`; `stored` is what
        `stored_change` gave the caller (which refused oversized changes)."""
        self._write(db, change, stored)

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """A pooled connection for reads in autocommit."""
        return self._connection()

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

    def _commit(
        self, write: Callable[[sqlite3.Connection], None], events: tuple[DomainEvent, ...]
    ) -> None:
        """Run `write` in one transaction, then wake the relay if it wrote events."""
        with self._connection() as db, self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                write(db)
                db.execute("COMMIT")
            except BaseException:
                # A pooled connection must never go back with a transaction open.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        if events and self._on_commit is not None:
            try:
                self._on_commit()
            except Exception:
                logger.exception("on_commit hook failed; the commit stands")

    def _write(self, db: sqlite3.Connection, change: Change, stored: StoredChange) -> None:
        """Every condition, then every write, in the order MemoryStore checks them:
        version, idempotency key, sku; then that the product's type exists. Runs inside
        BEGIN IMMEDIATE."""
        product = change.product
        document = stored.product_document
        doc = stored.product_text
        # The column a type's delete probes (products_by_type), filed from the document.
        product_type = document.get("product_type")
        if change.expected_version == 0:
            exists = db.execute(
                "SELECT 1 FROM products WHERE merchant_id = ? AND id = ?",
                (product.merchant_id, product.id),
            ).fetchone()
            if exists:
                raise VersionConflict(product.id, 0)
        else:
            updated = db.execute(
                "UPDATE products SET sku = ?, status = ?, version = ?, doc = ?, product_type = ?"
                " WHERE merchant_id = ? AND id = ? AND version = ?",
                (
                    product.sku,
                    product.status.value,
                    product.version,
                    doc,
                    product_type,
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
                    "INSERT INTO products"
                    " (merchant_id, id, sku, status, version, doc, product_type)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        product.merchant_id,
                        product.id,
                        product.sku,
                        product.status.value,
                        product.version,
                        doc,
                        product_type,
                    ),
                )
            except sqlite3.IntegrityError:
                # The id was checked free above, under the write lock: the sku is taken.
                raise DuplicateSku(product.sku) from None

        _write_skus(db, change)

        if product_type is not None:
            # The use case read the type; a delete may have come in since. Under the write
            # lock, a product never names a type that is gone (DynamoDB's in_use condition).
            exists = db.execute(
                "SELECT 1 FROM product_types WHERE merchant_id = ? AND key = ?",
                (product.merchant_id, product_type),
            ).fetchone()
            if not exists:
                raise InvalidField(
                    "/product_type", f"the merchant has no product type {product_type}"
                )

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
                stored.history_text,
            ),
        )
        write_events(db, change.events)
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

    def _write_type(self, db: sqlite3.Connection, change: TypeChange) -> None:
        """The conditions in MemoryStore's order (key taken, version, in use), then the type
        and its events. Runs inside BEGIN IMMEDIATE."""
        product_type = change.product_type
        merchant_id, key = product_type.merchant_id, product_type.key
        row = db.execute(
            "SELECT version FROM product_types WHERE merchant_id = ? AND key = ?",
            (merchant_id, key),
        ).fetchone()
        if change.expected_version == 0 and row is not None:
            raise DuplicateProductType(key)
        if (row[0] if row else 0) != change.expected_version:
            raise VersionConflict(key, change.expected_version)
        if change.deleted:
            in_use = db.execute(
                "SELECT 1 FROM products WHERE merchant_id = ? AND product_type = ? LIMIT 1",
                (merchant_id, key),
            ).fetchone()
            if in_use:
                raise ProductTypeInUse(key)
            db.execute(
                "DELETE FROM product_types WHERE merchant_id = ? AND key = ?", (merchant_id, key)
            )
        else:
            db.execute(
                "INSERT INTO product_types (merchant_id, key, version, doc) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (merchant_id, key)"
                " DO UPDATE SET version = excluded.version, doc = excluded.doc",
                (
                    merchant_id,
                    key,
                    product_type.version,
                    compact_json(type_to_document(product_type)),
                ),
            )
        write_events(db, change.events)

    @staticmethod
    def _write_requirements(db: sqlite3.Connection, change: RequirementsChange, doc: str) -> None:
        """The one row of every channel's requirements, if it is still at the version the
        change replaces. Runs inside BEGIN IMMEDIATE."""
        row = db.execute("SELECT version FROM channel_requirements").fetchone()
        if (row[0] if row else 0) != change.expected_version:
            raise VersionConflict(change.channel, change.expected_version)
        db.execute(
            "INSERT INTO channel_requirements (singleton, version, doc) VALUES (1, ?, ?)"
            " ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, doc = excluded.doc",
            (change.requirements.version, doc),
        )
        write_events(db, change.events)

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
            if version > 0:
                self._add_columns(db)
            script = (
                resources.files("catalog.adapters.embedded")
                .joinpath("schema.sql")
                .read_text("utf-8")
            )
            db.executescript(script)

    @staticmethod
    def _add_columns(db: sqlite3.Connection) -> None:
        """Give a file from an older version the columns added since (ADDED_COLUMNS), before
        schema.sql indexes them. Checked under the write lock, so two processes upgrading one
        file at once add each column once; a crash before the script leaves the columns, and
        the next open runs the script."""
        db.execute("BEGIN IMMEDIATE")
        try:
            for table, column, declaration in ADDED_COLUMNS:
                present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if present and column not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

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


def _sku_holder(db: sqlite3.Connection, merchant_id: str, sku: str) -> SkuOwner | None:
    row = db.execute(
        "SELECT id FROM products WHERE merchant_id = ? AND sku = ?", (merchant_id, sku)
    ).fetchone()
    if row:
        return SkuOwner(sku, row[0])
    row = db.execute(
        "SELECT product_id, variant_id FROM variant_skus WHERE merchant_id = ? AND sku = ?",
        (merchant_id, sku),
    ).fetchone()
    return SkuOwner(sku, row[0], row[1]) if row else None


def _write_skus(db: sqlite3.Connection, change: Change) -> None:
    """The variant SKUs the change gives up and takes; DuplicateSku when one it takes is held
    by anyone else (a product or a variant of the merchant). A new product's own sku, held
    in products.sku, is checked against variants' here too."""
    product = change.product
    merchant_id = product.merchant_id
    if change.expected_version == 0:
        held = db.execute(
            "SELECT 1 FROM variant_skus WHERE merchant_id = ? AND sku = ?",
            (merchant_id, product.sku),
        ).fetchone()
        if held:
            raise DuplicateSku(product.sku)
    released = set(change.skus_released)
    db.executemany(
        "DELETE FROM variant_skus WHERE merchant_id = ? AND sku = ? AND product_id = ?",
        [(merchant_id, sku, product.id) for sku in sorted(released)],
    )
    for claim in change.skus_claimed:
        if _sku_holder(db, merchant_id, claim.sku) is not None:
            raise DuplicateSku(claim.sku)
        db.execute(
            "INSERT INTO variant_skus (merchant_id, sku, product_id, variant_id)"
            " VALUES (?, ?, ?, ?)",
            (merchant_id, claim.sku, claim.product_id, claim.variant_id),
        )


def write_events(db: sqlite3.Connection, events: tuple[DomainEvent, ...]) -> None:
    """The outbox rows of a change, in the transaction of what they report."""
    db.executemany(
        "INSERT INTO outbox (event_id, doc) VALUES (?, ?)",
        [(event.id, compact_json(event_to_document(event))) for event in events],
    )
