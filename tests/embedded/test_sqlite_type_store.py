"""Product types on SQLite beyond the shared contract (tests/contract/test_type_store_contract.py):
data folders from before types keep working, a delete's in-use condition reads the
`product_type` column that product commits fill from the document, and a product never names
a type deleted since its use case read it."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from catalog.adapters.embedded.sqlite_store import SCHEMA_VERSION, SqliteStore
from catalog.adapters.event_documents import event_to_document
from catalog.adapters.product_documents import product_to_document
from catalog.adapters.stored_values import compact_json
from catalog.domain.errors import InvalidField
from catalog.domain.product import Product
from tests.contract.conftest import committed, create_change, update_change
from tests.contract.test_type_store_contract import (
    committed_type,
    creation,
    deletion,
    new_type,
    retyped,
    revision,
    typed_change,
)

V2_SCHEMA = Path(__file__).with_name("schema_v2_before_types.sql")


@contextlib.contextmanager
def raw(path: Path) -> Any:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        yield db


def columns(path: Path, table: str) -> list[str]:
    with raw(path) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def schema_version(path: Path) -> int:
    with raw(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def version_2_folder(path: Path) -> Product:
    """A catalog.db as schema version 2 left it, holding one product and its event."""
    change = create_change()
    product = change.product
    with raw(path) as db:
        db.executescript(V2_SCHEMA.read_text("utf-8"))
        db.execute(
            "INSERT INTO products (merchant_id, id, sku, status, version, doc)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                product.merchant_id,
                product.id,
                product.sku,
                product.status.value,
                product.version,
                compact_json(product_to_document(product)),
            ),
        )
        db.executemany(
            "INSERT INTO outbox (event_id, doc) VALUES (?, ?)",
            [(e.id, compact_json(event_to_document(e))) for e in change.events],
        )
    assert schema_version(path) == 2 and "product_type" not in columns(path, "products")
    return product


# ---------------------------------------------------------------------- existing data folders


def test_a_version_2_data_folder_is_upgraded_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    product = version_2_folder(path)

    store = SqliteStore(path)
    try:
        assert schema_version(path) == SCHEMA_VERSION == 6
        assert "product_type" in columns(path, "products")
        assert store.get("acme", product.id) == product
        assert [r.event.name for r in store.read_after(0, 10)] == ["ProductCreated"]
        # Everything works on the upgraded file: products, types and the in-use condition.
        committed(store, update_change(product))
        created = committed_type(store, creation(new_type()))
        revised = committed_type(store, revision(created))
        store.commit_type(deletion(revised))
        assert store.product_type("acme", "apparel") is None
    finally:
        store.close()

    reopened = SqliteStore(path)  # a second open finds nothing left to do
    try:
        assert reopened.get("acme", product.id) is not None
        assert len(reopened.read_after(0, 10)) == 5
    finally:
        reopened.close()


def test_processes_opening_one_version_2_file_at_once_all_upgrade_it(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    product = version_2_folder(path)
    start = threading.Barrier(6)
    outcomes: list[Exception | None] = []

    def open_store() -> None:
        start.wait()
        try:
            SqliteStore(path).close()
        except Exception as error:
            outcomes.append(error)
        else:
            outcomes.append(None)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [None] * 6
    assert columns(path, "products").count("product_type") == 1
    store = SqliteStore(path)
    try:
        assert store.get("acme", product.id) == product
    finally:
        store.close()


# ---------------------------------------------------------------------- the product_type column


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = SqliteStore(tmp_path / "catalog.db")
    yield opened
    opened.close()


def product_types_column(store: SqliteStore) -> list[tuple[str | None]]:
    with raw(store._path) as db:
        return list(db.execute("SELECT product_type FROM products ORDER BY id"))


def test_each_product_commit_files_the_documents_type_in_the_column(store: SqliteStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    product = committed(store, typed_change(apparel))
    assert product_types_column(store) == [("apparel",)]

    committed(store, retyped(product, shoes))
    assert product_types_column(store) == [("shoes",)]
    committed(store, retyped(product, None))
    assert product_types_column(store) == [(None,)]


def test_a_product_cannot_take_a_type_deleted_since_it_was_read(store: SqliteStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    untyped = committed(store, create_change())
    change = typed_change(apparel)  # built from the type as read
    retyping = retyped(untyped, apparel)
    store.commit_type(deletion(apparel))
    events = len(store.read_after(0, 100))

    for refused in (change, retyping):
        with pytest.raises(InvalidField) as raised:
            store.commit(refused)
        assert raised.value.field == "/product_type"

    assert store.get("acme", change.product.id) is None
    stored = store.get("acme", untyped.id)
    assert stored is not None and (stored.version, stored.product_type) == (1, None)
    assert len(store.read_after(0, 100)) == events


def test_the_in_use_condition_is_one_index_probe(store: SqliteStore) -> None:
    created = committed_type(store, creation(new_type()))
    statements: list[str] = []
    with store._connection() as db:  # the pool's one connection, which the delete reuses
        db.set_trace_callback(statements.append)
    store.commit_type(deletion(created))

    (probe,) = [sql for sql in statements if sql.startswith("SELECT 1 FROM products")]
    with raw(store._path) as db:
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + probe)]
    assert plan == [
        "SEARCH products USING COVERING INDEX products_by_type (merchant_id=? AND product_type=?)"
    ]
