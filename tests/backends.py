"""The storage backends every suite runs against: one entry here runs them all on it.

A backend opens a store on the storage kept in a folder; opening it again on the same folder
reaches the same data when the backend is persistent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.adapters.memory.store import MemoryStore
from catalog.service.ports import Outbox, ProductStore


class CatalogStore(ProductStore, Outbox, Protocol):
    """What every backend provides: the product store and the outbox in one object."""


Backend = Callable[[Path], AbstractContextManager[CatalogStore]]


@contextmanager
def memory_backend(folder: Path) -> Iterator[CatalogStore]:
    yield MemoryStore()


@contextmanager
def sqlite_backend(folder: Path) -> Iterator[CatalogStore]:
    store = SqliteStore(folder / "catalog.db")
    try:
        yield store
    finally:
        store.close()


BACKENDS: dict[str, Backend] = {"memory": memory_backend, "sqlite": sqlite_backend}
PERSISTENT = ["sqlite"]  # backends whose data survives closing the store and reopening it
