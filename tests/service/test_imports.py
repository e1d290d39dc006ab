"""Import jobs at the service layer (DESIGN.md section 11): rows upserted by SKU through the
API's use cases, bad rows reported at their line, a re-import that changes nothing, the
Idempotency-Key, cancellation, and a job stopped between batches resuming with every row
applied exactly once."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalog.adapters.aws.dynamodb_jobs import DynamoDbJobStore
from catalog.adapters.embedded.sqlite_jobs import SqliteJobStore
from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.adapters.job_files import LocalJobFiles, MemoryJobFiles
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.jobs import MemoryJobStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.errors import IdempotencyKeyReused, MerchantNotFound
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.jobs import ImportFormat, Job, JobStatus, RowError
from catalog.service import jobs as use_cases
from catalog.service.commands import (
    CancelJob,
    FindSku,
    GetJob,
    ListJobs,
    ReadJobErrors,
    RegisterProduct,
    StartImport,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.jobs import JobsContext
from catalog.service.ports import Change, JobFiles, JobStore
from catalog.service.products import register_product
from catalog.service.variants import find_sku
from tests.backends import aws_backend
from tests.clocks import SteppingClock
from tests.principals import ALICE, merchant


class QueueDown(Exception):
    """The queue refusing a message (SQS unavailable past botocore's retries)."""


class ListQueue:
    def __init__(self) -> None:
        self.queued: list[tuple[str, str]] = []
        self.refusals = 0

    def enqueue(self, merchant_id: str, job_id: str) -> None:
        if self.refusals:
            self.refusals -= 1
            raise QueueDown
        self.queued.append((merchant_id, job_id))


@dataclass
class Setup:
    ctx: CatalogContext
    jobs: JobsContext
    store: MemoryStore | SqliteStore
    queue: ListQueue

    def start(self, rows: Sequence[Any], key: str | None = None) -> Job:
        content = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()
        command = StartImport("acme", ImportFormat.JSONL, content, key)
        return use_cases.start_import(self.ctx, self.jobs, ALICE, command).job

    def run(self, job: Job, **options: Any) -> Job:
        done = use_cases.run_job(self.ctx, self.jobs, job.merchant_id, job.id, **options)
        assert done is not None
        return done

    def events(self) -> list[DomainEvent]:
        return [record.event for record in self.store.read_after(0, 100_000)]

    def product(self, sku: str) -> Any:
        owner = find_sku(self.ctx, ALICE, FindSku("acme", sku))
        product = self.store.get("acme", owner.product_id)
        assert product is not None
        return product


@pytest.fixture(params=["memory", "sqlite", "aws"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    with ExitStack() as closing:
        store: Any
        if request.param == "memory":
            store = MemoryStore()
            jobs: JobStore = MemoryJobStore(store)
            files: JobFiles = MemoryJobFiles()
        elif request.param == "sqlite":
            store = SqliteStore(tmp_path / "catalog.db")
            closing.callback(store.close)
            files = LocalJobFiles(
                tmp_path / "jobs", lambda key: f"https://files.example.test/{key}"
            )
            jobs = SqliteJobStore(store)
        else:
            # DynamoDB on moto, its events read back from the table's stream.
            store = closing.enter_context(aws_backend(request, tmp_path))
            jobs, files = DynamoDbJobStore(store.store), MemoryJobFiles()
        ctx = CatalogContext(
            store=store,
            assets=MemoryAssetStore("https://cdn.example.test"),
            images=PillowImageInspector(),
            clock=SteppingClock(),
            ids=UlidIds(),
            cursors=CursorCodec(b"k" * 32),
        )
        queue = ListQueue()
        yield Setup(ctx, JobsContext(jobs, files, queue), store, queue)


def shoe(sku: str, **fields: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Shoe {sku}",
        "price": {"amount": 1000, "currency": "USD"},
        **fields,
    }


SHIRT = {
    "sku": "SH",
    "name": "Shirt",
    "options": ["size"],
    "variants": [
        {"sku": "SH-S", "options": {"size": "S"}, "stock": 3},
        {"sku": "SH-M", "options": {"size": "M"}, "stock": 5},
    ],
}


def test_an_import_registers_each_row_with_its_history_and_events(setup: Setup) -> None:
    job = setup.start([shoe("A"), shoe("B"), SHIRT])
    assert job.status is JobStatus.QUEUED
    assert setup.queue.queued == [("acme", job.id)]

    done = setup.run(job)

    assert (done.status, done.total, done.processed, done.created) == (
        JobStatus.SUCCEEDED,
        3,
        3,
        3,
    )
    assert (done.updated, done.unchanged, done.failed, done.errors) == (0, 0, 0, [])
    shirt = setup.product("SH")
    assert [v.sku for v in shirt.variants] == ["SH-S", "SH-M"]
    assert setup.product("SH-M").id == shirt.id
    history = setup.store.history("acme", shirt.id, limit=10, before_version=None)
    assert [entry.actor for entry in history] == ["alice"]
    names = [event.name for event in setup.events()]
    assert names == [EventName.PRODUCT_CREATED] * 3 + [EventName.JOB_FINISHED]
    finished = setup.events()[-1]
    assert finished.job_id == job.id and finished.subject == f"jobs/{job.id}"
    assert finished.data["status"] == "SUCCEEDED" and finished.data["created"] == 3


def test_importing_the_same_file_again_changes_nothing(setup: Setup) -> None:
    rows = [shoe("A"), SHIRT]
    setup.run(setup.start(rows))
    events = len(setup.events())

    again = setup.run(setup.start(rows))

    assert (again.unchanged, again.created, again.updated) == (2, 0, 0)
    assert setup.product("SH").version == 1
    assert [e.name for e in setup.events()[events:]] == [EventName.JOB_FINISHED]


def test_known_skus_are_merge_patched_and_new_variants_added(setup: Setup) -> None:
    setup.run(setup.start([shoe("A", attributes={"color": "red"}), SHIRT]))
    changed = [
        {"sku": "A", "price": {"amount": 1500}},
        {
            "sku": "SH",
            "variants": [{"sku": "SH-M", "stock": 9}, {"sku": "SH-L", "options": {"size": "L"}}],
        },
    ]
    done = setup.run(setup.start(changed))
    assert (done.updated, done.failed) == (2, 0), done.errors
    a = setup.product("A")
    assert a.price is not None and (a.price.amount, a.price.currency) == (1500, "USD")
    assert a.attributes == {"color": "red"}  # not named by the row: left alone
    shirt = setup.product("SH")
    assert [(v.sku, v.stock) for v in shirt.variants] == [("SH-S", 3), ("SH-M", 9), ("SH-L", None)]
    assert shirt.name == "Shirt"


def test_bad_rows_are_reported_at_their_line_and_the_others_go_on(setup: Setup) -> None:
    rows = [
        shoe("A"),
        "{not json",
        "",
        {"sku": "B"},  # no name
        shoe("C"),
        [1, 2],
        {**SHIRT, "variants": [{"sku": "A", "options": {"size": "S"}}]},  # A is a product's SKU
    ]
    job = setup.start(rows)
    done = setup.run(job)
    assert (done.total, done.processed, done.created, done.failed) == (6, 6, 2, 4)
    lines = [(e.line, e.sku, e.problem["type"]) for e in done.errors]
    assert lines == [
        (2, None, "/problems/validation-error"),
        (4, "B", "/problems/validation-error"),
        (6, None, "/problems/validation-error"),
        (7, "SH", "/problems/duplicate-sku"),
    ]
    assert done.errors[1].problem["errors"][0]["field"] == "/name"
    assert done.errors[1].problem["status"] == 422
    every = list(use_cases.job_errors(setup.jobs, ALICE, ReadJobErrors("acme", job.id)))
    assert every == done.errors
    # The row that failed wrote nothing: no shirt, and A keeps its own SKU.
    names = [e.name for e in setup.events()]
    assert names.count(EventName.PRODUCT_CREATED) == 2


def test_a_row_is_all_or_nothing(setup: Setup) -> None:
    setup.run(setup.start([SHIRT]))
    row = {
        "sku": "SH",
        "name": "Renamed",
        "variants": [{"sku": "SH-M", "stock": 1}, {"sku": "SH-X", "options": {"size": "S"}}],
    }
    done = setup.run(setup.start([row]))
    assert done.failed == 1
    assert done.errors[0].problem["type"] == "/problems/duplicate-variant"
    shirt = setup.product("SH")
    assert (shirt.name, shirt.version, shirt.variants[1].stock) == ("Shirt", 1, 5)


def test_the_same_key_returns_the_same_job(setup: Setup) -> None:
    first = setup.start([shoe("A")], key="import-1")
    again = setup.start([shoe("A")], key="import-1")
    assert again.id == first.id
    # Still QUEUED, so handed on again (a worker runs a job given twice once).
    assert setup.queue.queued == [("acme", first.id)] * 2
    with pytest.raises(IdempotencyKeyReused):
        setup.start([shoe("B")], key="import-1")
    setup.run(first)
    setup.start([shoe("A")], key="import-1")
    assert len(setup.queue.queued) == 2  # a job that ran is not queued again


def test_a_retry_hands_on_the_job_the_queue_refused(setup: Setup) -> None:
    setup.queue.refusals = 1
    with pytest.raises(QueueDown):
        setup.start([shoe("A")], key="import-1")
    assert setup.queue.queued == []

    job = setup.start([shoe("A")], key="import-1")

    assert setup.queue.queued == [("acme", job.id)]
    assert setup.run(job).created == 1
    (listed,) = use_cases.list_jobs(setup.ctx, setup.jobs, ALICE, ListJobs("acme")).items
    assert listed.id == job.id  # the retry started no second job


def test_a_job_stopped_between_batches_resumes_after_its_last_committed_row(
    setup: Setup,
) -> None:
    rows = [shoe(f"P{n}") for n in range(7)]
    job = setup.start(rows)
    calls = itertools.count()

    stopped = setup.run(job, batch_size=3, stopping=lambda: next(calls) >= 1)

    assert (stopped.status, stopped.position, stopped.processed) == (JobStatus.RUNNING, 6, 6)
    resumed = setup.run(job, batch_size=3)
    assert (resumed.status, resumed.processed, resumed.created) == (JobStatus.SUCCEEDED, 7, 7)
    created = [e.product_id for e in setup.events() if e.name is EventName.PRODUCT_CREATED]
    assert len(created) == len(set(created)) == 7
    assert [e.name for e in setup.events()].count(EventName.JOB_FINISHED) == 1


def test_a_batch_another_writer_got_ahead_of_is_applied_row_by_row(setup: Setup) -> None:
    """A variant's SKU taken through the API between the batch's reads and its write: the
    batch is written row by row instead, and only the row that lost reports it."""
    real = setup.jobs.store

    class Racing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def commit_rows(
            self,
            job: Job,
            expected: int,
            changes: Sequence[Change],
            errors: Sequence[RowError],
            events: Sequence[DomainEvent] = (),
        ) -> None:
            if changes and not setup.store.sku_owner("acme", "SH-S"):
                register_product(setup.ctx, ALICE, RegisterProduct.from_json("acme", shoe("SH-S")))
            real.commit_rows(job, expected, changes, errors, events)

    jobs = JobsContext(Racing(), setup.jobs.files, setup.queue)  # type: ignore[arg-type]
    job = setup.start([shoe("A"), SHIRT, shoe("C")])
    done = use_cases.run_job(setup.ctx, jobs, "acme", job.id)
    assert done is not None
    assert (done.created, done.failed) == (2, 1)
    assert [(e.line, e.problem["type"]) for e in done.errors] == [(2, "/problems/duplicate-sku")]
    assert setup.product("SH-S").name == "Shoe SH-S"
    assert setup.store.sku_owner("acme", "SH") is None


def test_cancelling(setup: Setup) -> None:
    queued = setup.start([shoe("A")])
    cancelled = use_cases.cancel_job(setup.ctx, setup.jobs, ALICE, CancelJob("acme", queued.id))
    assert cancelled.status is JobStatus.CANCELLED
    assert setup.run(queued).status is JobStatus.CANCELLED  # the worker leaves it so
    assert setup.store.sku_owner("acme", "A") is None

    running = setup.start([shoe(f"R{n}") for n in range(5)])

    def cancel_after_first_batch() -> bool:
        use_cases.cancel_job(setup.ctx, setup.jobs, ALICE, CancelJob("acme", running.id))
        return False

    done = setup.run(running, batch_size=2, stopping=cancel_after_first_batch)
    assert (done.status, done.processed) == (JobStatus.CANCELLED, 2)
    assert setup.events()[-1].data["status"] == "CANCELLED"


def test_another_merchant_sees_no_job(setup: Setup) -> None:
    job = setup.start([shoe("A")])
    with pytest.raises(MerchantNotFound):
        use_cases.get_job(setup.jobs, merchant("globex"), GetJob("acme", job.id))
    assert use_cases.get_job(setup.jobs, ALICE, GetJob("acme", job.id)).id == job.id
