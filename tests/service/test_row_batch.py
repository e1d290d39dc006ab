"""A batch of import rows that changes one product twice: the second row builds on the first,
and each keeps its own version, history and event, all written in the batch's one commit."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from catalog.adapters.embedded.sqlite_jobs import SqliteJobStore
from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.adapters.job_files import MemoryJobFiles
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.jobs import MemoryJobStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.events import EventName
from catalog.domain.jobs import ImportFormat, Job, JobStatus, RowError
from catalog.service import jobs as use_cases
from catalog.service.commands import PatchProduct, RegisterProduct, StartImport
from catalog.service.context import CatalogContext, JobsContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import Change
from catalog.service.products import register_product, update_product
from catalog.service.row_batch import RowBatch
from tests.clocks import SteppingClock
from tests.principals import ALICE
from tests.service.test_imports import ListQueue, shoe


class CountingJobStore:
    """The job store, noting how many product changes each commit_rows wrote."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.written: list[int] = []

    def commit_rows(
        self,
        job: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        events: Sequence[Any] = (),
    ) -> None:
        self._inner.commit_rows(job, expected_version, changes, errors, events)
        self.written.append(len(changes))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with ExitStack() as closing:
        if request.param == "memory":
            yield MemoryStore()
        else:
            sqlite = SqliteStore(tmp_path / "catalog.db")
            closing.callback(sqlite.close)
            yield sqlite


def context(store: Any) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"k" * 32),
    )


def job_store_of(store: Any) -> Any:
    return SqliteJobStore(store) if isinstance(store, SqliteStore) else MemoryJobStore(store)


def test_a_file_naming_a_sku_twice_applies_both_rows_in_one_commit(store: Any) -> None:
    ctx = context(store)
    counting = CountingJobStore(job_store_of(store))
    jobs = JobsContext(counting, MemoryJobFiles(), ListQueue())
    rows = [shoe("A"), {"sku": "A", "name": "Renamed"}]
    content = "\n".join(json.dumps(row) for row in rows).encode()
    job = use_cases.start_import(
        ctx, jobs, ALICE, StartImport("acme", ImportFormat.JSONL, content)
    ).job

    done = use_cases.run_job(ctx, jobs, "acme", job.id)

    assert done is not None and done.status is JobStatus.SUCCEEDED
    assert (done.created, done.updated, done.failed) == (1, 1, 0)
    # The job's start, the batch's two changes together (not row by row), the job's end.
    assert counting.written == [0, 2, 0]
    owner = store.sku_owner("acme", "A")
    product = store.get("acme", owner.product_id)
    assert (product.name, product.version) == ("Renamed", 2)
    history = store.history("acme", product.id, limit=10, before_version=None)
    assert [entry.version for entry in history] == [2, 1]
    renamed, created = ({c.field: c.new for c in entry.changes} for entry in history)
    assert renamed == {"/name": "Renamed"}
    assert created["/name"] == "Shoe A"  # the first row's, as that row left it
    events = [record.event for record in store.read_after(0, 100)]
    assert [(e.name, e.version) for e in events if e.product_id == product.id] == [
        (EventName.PRODUCT_CREATED, 1),
        (EventName.PRODUCT_UPDATED, 2),
    ]


def test_a_product_read_from_the_batch_is_the_readers_own(store: Any) -> None:
    batch = RowBatch(store)
    ctx = replace(context(store), store=batch)
    command = RegisterProduct.from_json("acme", shoe("A"))
    product_id = register_product(ctx, ALICE, command).product.id

    read = batch.get("acme", product_id)
    assert read is not None
    read.name = "Changed by a reader"

    again = batch.get("acme", product_id)
    assert again is not None and again.name == "Shoe A"
    assert batch.changes[0].product.name == "Shoe A"
    # A use case that reads it changes its own copy and commits a new version over it.
    update_product(ctx, ALICE, PatchProduct.from_json("acme", product_id, {"name": "Renamed"}))
    assert [change.product.version for change in batch.changes] == [1, 2]
    assert [change.product.name for change in batch.changes] == ["Shoe A", "Renamed"]
