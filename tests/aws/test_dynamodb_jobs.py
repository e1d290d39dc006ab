"""What DynamoDbJobStore does that only DynamoDB asks of it (tests/service/test_imports.py
runs every import behaviour on it as on the other backends): a batch of rows is exactly one
TransactWriteItems of the items its docstring counts, one item written once even when rows
change it several times; a batch over 100 items is refused before any call and its rows go
in one at a time; pages of jobs newest first, filtered across pages; the idempotency guard
under a race; a cancel that meets the worker; the unfinished markers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_jobs import BATCH_SIZE, DynamoDbJobStore, RowBatchTooLarge
from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.job_files import MemoryJobFiles
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.errors import IdempotencyKeyRaced, VersionConflict
from catalog.domain.jobs import ChunkRange, ChunksLeftChanged, ImportFormat, Job, JobKind, JobStatus
from catalog.service import jobs as use_cases
from catalog.service import product_types
from catalog.service.commands import CreateProductType, StartImport
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.jobs import JobsContext
from tests.aws.dynamodb_support import TABLE, CallCounter
from tests.clocks import SteppingClock
from tests.contract.conftest import create_change
from tests.principals import ALICE

T0 = datetime(2026, 12, 3, tzinfo=UTC)


class ListQueue:
    def enqueue(self, merchant_id: str, job_id: str) -> None:
        pass


class Transactions:
    """The items of each TransactWriteItems the client sends: how many, and their operations."""

    def __init__(self, client: Any) -> None:
        self.sizes: list[int] = []
        self.operations: list[list[str]] = []
        client.meta.events.register(
            "before-parameter-build.dynamodb.TransactWriteItems", self._record
        )

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.sizes.append(len(params["TransactItems"]))
        self.operations.append([next(iter(action)) for action in params["TransactItems"]])


@pytest.fixture
def transactions(client: Any) -> Transactions:
    return Transactions(client)


@pytest.fixture
def store(client: Any) -> DynamoDbStore:
    # Requirements read once and remembered (a clock that stands still): row reads stay few.
    store = DynamoDbStore(client, TABLE, requirements_max_age=5.0, monotonic=lambda: 0.0)
    store.channel_requirements()
    return store


@pytest.fixture
def job_store(store: DynamoDbStore) -> DynamoDbJobStore:
    return DynamoDbJobStore(store)


@pytest.fixture
def ctx(store: DynamoDbStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(T0),
        ids=UlidIds(),
        cursors=CursorCodec(b"k" * 32),
    )


@pytest.fixture
def jobs(job_store: DynamoDbJobStore) -> JobsContext:
    return JobsContext(job_store, MemoryJobFiles(), ListQueue())


def shoe(sku: str, **fields: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Shoe {sku}",
        "price": {"amount": 1000, "currency": "USD"},
        **fields,
    }


def run_import(
    ctx: CatalogContext, jobs: JobsContext, rows: list[dict[str, Any]], **options: Any
) -> Job:
    content = "\n".join(json.dumps(row) for row in rows).encode()
    command = StartImport("acme", ImportFormat.JSONL, content, None)
    job = use_cases.start_import(ctx, jobs, ALICE, command).job
    done = use_cases.run_job(ctx, jobs, "acme", job.id, **options)
    assert done is not None
    return done


def a_job(job_id: str, merchant_id: str = "acme", **fields: Any) -> Job:
    return Job(id=job_id, merchant_id=merchant_id, kind=JobKind.IMPORT, created_at=T0, **fields)


def test_each_batch_of_rows_is_one_transaction(
    ctx: CatalogContext, jobs: JobsContext, transactions: Transactions
) -> None:
    done = run_import(ctx, jobs, [shoe(f"P{n}") for n in range(7)], batch_size=3)

    assert (done.status, done.created) == (JobStatus.SUCCEEDED, 7)
    # create_job: the job and its unfinished marker; the start: the job alone; each batch:
    # the job, 4 per new product (product, history, ProductCreated, sku guard) and, in the
    # merchant's first, its registry entry; the end: the job, JobFinished, the marker.
    assert transactions.sizes == [2, 1, 1 + 3 * 4 + 1, 1 + 3 * 4, 1 + 4, 3]


def test_a_batch_of_the_recommended_size_fits_one_transaction(
    ctx: CatalogContext, jobs: JobsContext, transactions: Transactions
) -> None:
    rows = [shoe(f"P{n}") for n in range(2 * BATCH_SIZE)]
    done = run_import(ctx, jobs, rows, batch_size=BATCH_SIZE)

    assert done.created == 2 * BATCH_SIZE
    batches = transactions.sizes[2:-1]
    assert batches == [1 + 4 * BATCH_SIZE + 1, 1 + 4 * BATCH_SIZE]


def test_writes_of_one_item_by_several_rows_are_one_write(
    ctx: CatalogContext, jobs: JobsContext, store: DynamoDbStore, transactions: Transactions
) -> None:
    apparel = {"key": "apparel", "name": "Apparel", "attributes": {"brand": {"type": "string"}}}
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", apparel))
    typed = {"product_type": "apparel", "attributes": {"brand": "Acme"}}
    shirt = {
        "sku": "SH",
        "name": "Shirt",
        "options": ["size"],
        "variants": [{"sku": "SH-S", "options": {"size": "S"}}],
    }
    first = run_import(ctx, jobs, [shoe("A", **typed), shoe("B", **typed), shirt])
    assert first.created == 3
    type_item = store.client.get_item(TableName=TABLE, Key=items.type_key("acme", "apparel"))
    assert type_item["Item"]["in_use"] == {"N": "2"}  # two counts, one write

    transactions.sizes.clear()
    transactions.operations.clear()
    rows: list[dict[str, Any]] = [
        # Two changes of the shirt: a variant patched, a variant added.
        {
            "sku": "SH",
            "variants": [{"sku": "SH-S", "stock": 4}, {"sku": "SH-M", "options": {"size": "M"}}],
        },
        # A leaves its type and takes it again: the counts come to nothing.
        {"sku": "A", "product_type": None},
        {"sku": "A", **typed},
    ]
    second = run_import(ctx, jobs, rows)

    assert (second.updated, second.failed) == (3, 0), second.errors
    # The job; the shirt once, its 2 history entries and 2 events, SH-M's guard; A once, its 2
    # history entries and 2 events, and the check that its type still exists.
    assert transactions.sizes[2] == 1 + (1 + 2 + 2 + 1) + (1 + 2 + 2 + 1)
    assert transactions.operations[2].count("ConditionCheck") == 1
    owner = store.sku_owner("acme", "SH-M")
    assert owner is not None
    product = store.get("acme", owner.product_id)
    assert product is not None and product.version == 3
    assert [v.stock for v in product.variants] == [4, None]
    type_item = store.client.get_item(TableName=TABLE, Key=items.type_key("acme", "apparel"))
    assert type_item["Item"]["in_use"] == {"N": "2"}


def test_a_batch_over_100_items_is_refused_before_any_call(
    job_store: DynamoDbJobStore, store: DynamoDbStore, calls: CallCounter
) -> None:
    job_store.create_job(a_job("J1"))
    started = a_job("J1", status=JobStatus.RUNNING, version=2)
    changes = [create_change() for _ in range(25)]  # 1 + 25 * 4 + 1 items

    calls.reset()
    with pytest.raises(RowBatchTooLarge, match="102 items"):
        job_store.commit_rows(started, 1, changes, [])

    assert calls.calls == []
    stored = job_store.job("acme", "J1")
    assert stored is not None and stored.version == 1
    calls.reset()
    job_store.commit_rows(started, 1, changes[:24], [])  # 98 items
    assert calls.counts() == {"TransactWriteItems": 1}
    assert all(store.get("acme", change.product.id) for change in changes[:24])


def test_rows_of_a_batch_too_large_are_written_one_by_one(
    ctx: CatalogContext, jobs: JobsContext, transactions: Transactions
) -> None:
    done = run_import(ctx, jobs, [shoe(f"P{n}") for n in range(25)], batch_size=25)

    assert (done.status, done.created, done.failed) == (JobStatus.SUCCEEDED, 25, 0)
    # The batch never reached DynamoDB; each row then went alone with the job.
    assert transactions.sizes == [2, 1, 1 + 4 + 1] + [1 + 4] * 24 + [3]


def test_a_stale_version_writes_nothing(job_store: DynamoDbJobStore, store: DynamoDbStore) -> None:
    job_store.create_job(a_job("J1"))
    change = create_change()
    with pytest.raises(VersionConflict):
        job_store.commit_rows(a_job("J1", version=3), 2, [change], [])
    assert store.get("acme", change.product.id) is None
    assert store.sku_owner("acme", change.product.sku) is None


def test_pages_are_newest_first_with_filters_across_pages(
    job_store: DynamoDbJobStore, calls: CallCounter
) -> None:
    statuses = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.RUNNING]
    kinds = [JobKind.IMPORT, JobKind.EXPORT]
    made = []
    for n in range(12):
        job = a_job(f"J{n:02d}", status=statuses[n % 3])
        job.kind = kinds[n % 2]
        job_store.create_job(job)
        made.append(job)
    job_store.create_job(a_job("J99", merchant_id="globex"))  # another merchant's: never seen
    newest_first = list(reversed(made))

    def walk(limit: int, **filters: Any) -> list[list[str]]:
        pages, position = [], None
        while True:
            calls.reset()
            page = job_store.jobs("acme", limit=limit, position=position, **filters)
            assert calls.counts() == {"Query": 1}
            assert len(page.items) <= limit
            pages.append([job.id for job in page.items])
            position = page.position
            if position is None:
                return pages

    assert walk(5, kind=None, status=None) == [
        [job.id for job in newest_first[start : start + 5]] for start in (0, 5, 10)
    ]
    succeeded = walk(2, kind=None, status=JobStatus.SUCCEEDED)
    assert [i for page in succeeded for i in page] == ["J09", "J06", "J03", "J00"]
    # A page reads 3 jobs at most and keeps the succeeded ones: some pages are short.
    assert any(len(page) < 2 for page in succeeded[:-1])
    both = walk(2, kind=JobKind.EXPORT, status=JobStatus.FAILED)
    assert [i for page in both for i in page] == ["J07", "J01"]


def test_one_idempotency_key_races_to_one_job(
    job_store: DynamoDbJobStore, calls: CallCounter
) -> None:
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def create(job_id: str) -> None:
        start.wait()
        try:
            job_store.create_job(a_job(job_id, idempotency_key="import-1"))
            outcomes[job_id] = "created"
        except IdempotencyKeyRaced:
            outcomes[job_id] = "raced"

    threads = [threading.Thread(target=create, args=(job_id,)) for job_id in ("JA", "JB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["created", "raced"]
    winner = next(job_id for job_id, outcome in outcomes.items() if outcome == "created")
    loser = ({"JA", "JB"} - {winner}).pop()
    calls.reset()
    found = job_store.job_by_key("acme", "import-1")
    assert found is not None and found.id == winner
    assert calls.counts() == {"GetItem": 2}
    assert job_store.job("acme", loser) is None  # its transaction wrote nothing
    assert job_store.unfinished_jobs() == [("acme", winner)]
    assert job_store.job_by_key("globex", "import-1") is None


def test_cancelling_a_queued_job_ends_it(job_store: DynamoDbJobStore, calls: CallCounter) -> None:
    job_store.create_job(a_job("J1"))

    job_store.cancel("acme", "J1", T0 + timedelta(minutes=1))

    cancelled = job_store.job("acme", "J1")
    assert cancelled is not None
    assert (cancelled.status, cancelled.version) == (JobStatus.CANCELLED, 2)
    assert cancelled.finished_at == T0 + timedelta(minutes=1)
    assert job_store.unfinished_jobs() == []
    calls.reset()
    job_store.cancel("acme", "J1", T0 + timedelta(minutes=2))  # finished: left as it is
    assert calls.counts() == {"GetItem": 1}
    again = job_store.job("acme", "J1")
    assert again is not None and again.version == 2


def test_a_cancel_that_meets_the_worker_starting_asks_it_to_stop(
    store: DynamoDbStore, calls: CallCounter
) -> None:
    class WorkerStartsMeanwhile(DynamoDbJobStore):
        """The worker starts the job right after the cancel's first read."""

        reads = 0

        def job(self, merchant_id: str, job_id: str) -> Job | None:
            read = super().job(merchant_id, job_id)
            self.reads += 1
            if self.reads == 1 and read is not None:
                started = read.snapshot()
                started.start()
                started.version += 1
                self.commit_rows(started, read.version, [], [])
            return read

    job_store = WorkerStartsMeanwhile(store)
    job_store.create_job(a_job("J1"))
    assert job_store.cancel_requested("acme", "J1") is False

    job_store.cancel("acme", "J1", T0)

    running = job_store.job("acme", "J1")
    assert running is not None
    assert (running.status, running.version, running.cancel_requested) == (
        JobStatus.RUNNING,
        2,
        True,
    )
    calls.reset()
    assert job_store.cancel_requested("acme", "J1") is True
    assert calls.counts() == {"GetItem": 1}
    # The worker's next write keeps the request (an Update of its own attributes).
    job_store.commit_rows(a_job("J1", status=JobStatus.RUNNING, version=3), 2, [], [])
    assert job_store.cancel_requested("acme", "J1") is True


def test_unfinished_jobs_oldest_first_until_they_end(job_store: DynamoDbJobStore) -> None:
    for job_id, merchant_id in (("J1", "acme"), ("J2", "acme"), ("J3", "globex")):
        job_store.create_job(a_job(job_id, merchant_id))
    ended = a_job("J2", status=JobStatus.SUCCEEDED, version=2, finished_at=T0)

    job_store.commit_rows(ended, 1, [], [], [ended.finished_event("E1")])

    assert job_store.unfinished_jobs() == [("acme", "J1"), ("globex", "J3")]


# ---------------------------------------------------------------------- chunks


def split_job(job_store: DynamoDbJobStore, chunks: int) -> Job:
    job = a_job("J-SPLIT", params={"format": "jsonl"})
    job_store.create_job(job)
    ranges = [ChunkRange(n, 10 * n, 10 * n + 10, n, 1) for n in range(1, chunks + 1)]
    job.start()
    job.counted(chunks)
    job.chunks = chunks
    job.version = 2
    job_store.split(job, 1, ranges)
    return job


def test_a_split_is_conditioned_on_the_jobs_version_and_keeps_its_ranges(
    job_store: DynamoDbJobStore, transactions: Transactions
) -> None:
    job = split_job(job_store, 3)
    assert transactions.operations[-1] == ["Update", "Put"]  # the job and its ranges: one write
    assert job_store.chunk_range("acme", job.id, 2) == ChunkRange(2, 20, 30, 2, 1)
    assert job_store.chunk_range("acme", job.id, 4) is None
    assert job_store.parent("acme", job.id) == (job_store.job("acme", job.id), 3)
    with pytest.raises(VersionConflict):
        job_store.split(job, 1, [])  # another run's cut: refused


def test_a_chunks_end_counts_down_from_the_value_it_read(job_store: DynamoDbJobStore) -> None:
    job = split_job(job_store, 2)
    first, second = (job.chunk_of(job_store.chunk_range("acme", job.id, n)) for n in (1, 2))  # type: ignore[arg-type]
    for chunk in (first, second):
        chunk.start()
        chunk.finish(T0)
        chunk.version = 1
    one_row = {"processed": 1, "created": 1}
    job_store.commit_chunk(first, 0, [], [], one_row, chunks_left=2)
    assert job_store.chunk("acme", job.id, 1) == first
    # The second chunk read 2 chunks left before the first one's end: it reads again.
    with pytest.raises(ChunksLeftChanged):
        job_store.commit_chunk(second, 0, [], [], one_row, chunks_left=2)
    parent, left = job_store.parent("acme", job.id)  # type: ignore[misc]
    assert (left, parent.processed, parent.created, parent.status) == (1, 1, 1, JobStatus.RUNNING)
    assert job_store.chunk("acme", job.id, 2) is None  # nothing of the refused end was written
    # A chunk's record moves once: the same end again is another run's, refused.
    with pytest.raises(VersionConflict):
        job_store.commit_chunk(first, 0, [], [], one_row, chunks_left=1)
    assert job_store.parent("acme", job.id)[1] == 1  # type: ignore[index]
