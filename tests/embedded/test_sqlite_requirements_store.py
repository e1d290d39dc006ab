"""Channel requirements on SQLite beyond the shared contract
(tests/contract/test_requirements_store_contract.py): a data folder from before them (schema
version 3) is upgraded in place and keeps its data."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from catalog.adapters.embedded.sqlite_store import SCHEMA_VERSION, SqliteStore
from catalog.domain.channel_requirements import RequirementsSet
from tests.contract.conftest import committed, create_change
from tests.contract.test_requirements_store_contract import declared
from tests.contract.test_type_store_contract import committed_type, creation, new_type


def version_3_folder(path: Path) -> None:
    """A catalog.db as schema version 3 left it: products and types, no requirements table."""
    store = SqliteStore(path)
    try:
        committed(store, create_change(product_id="01JD8X5J9ZK8Q5W6V2C3N4M5P6", sku="TS-1"))
        committed_type(store, creation(new_type()))
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("DROP TABLE channel_requirements")
        db.execute("DROP TABLE variant_skus")
        db.execute("PRAGMA user_version = 3")


def test_a_version_3_data_folder_gains_requirements_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    version_3_folder(path)

    store = SqliteStore(path)
    try:
        assert store.channel_requirements() == RequirementsSet()
        written = declared(RequirementsSet(), "mercadolibre")
        store.commit_requirements(written)
        assert store.get("acme", "01JD8X5J9ZK8Q5W6V2C3N4M5P6") is not None
        assert store.product_type("acme", "apparel") is not None
        # Version 5's table of variant SKUs is there too: the product's own SKU is found.
        owner = store.sku_owner("acme", "TS-1")
        assert owner is not None and owner.product_id == "01JD8X5J9ZK8Q5W6V2C3N4M5P6"
    finally:
        store.close()

    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
    reopened = SqliteStore(path)
    try:
        assert reopened.channel_requirements() == written.requirements
    finally:
        reopened.close()
