"""JobStore on the catalog's DynamoDB table (DESIGN.md section 11), beside DynamoDbStore.

Items (`pk` / `sk`: what else; docs/dynamodb.md has the table's other items):

- job: `M#<m>#JOBS` / `JOB#<id>`: `item_type`=`JOB`, `doc` (the JSON job document), `version`
  (N), `status`, `kind`; `cancel_requested` (BOOL) once a running job is asked to stop.
- row error: `M#<m>#JOB#<id>` / `ERR#<line, 10 digits>`: `item_type`=`JOB_ERROR`, `doc` (JSON
  `{"line", "sku", "problem"}`).
- job event: `M#<m>#JOB#<id>` / `E#<version>#<index>#<event id>`: `item_type`=`EVENT`,
  `event`, `ttl`, as a product's outbox item: the stream relay publishes it like any other.
- idempotency guard: `M#<m>#JOBKEY#<key>` / `JOBKEY`: `item_type`=`JOB_KEY`, `job_id`.
- unfinished marker: `UNFINISHED_JOBS` / `<id>#<m>`: `item_type`=`UNFINISHED_JOB`,
  `merchant_id`, `job_id`; from the job's creation to its end.
- an import cut into chunks (JobChunks, docs/jobs-aws.md "One job in parallel"): its job item
  also holds `chunks_left` (N) and its counters as numbers (`processed`, `created`, ...) that
  each chunk's batch ADDs to; its ranges are `M#<m>#JOB#<id>` / `CUT`: `item_type`=`JOB_CUT`,
  `ranges` (JSON); each chunk's record `M#<m>#JOB#<id>` / `CHUNK#<number, 6 digits>`:
  `item_type`=`JOB_CHUNK`, `doc`, `version`, `status`, written by the chunk's first commit.

A merchant's jobs share one partition that holds nothing else, so a page of them is one
strongly consistent Query, newest first (ids are ULIDs). A job's errors and events live in the
job's own partition: the list never reads them, and a job's errors are one range in line order.

`commit_rows` is one TransactWriteItems: the job item (an Update conditioned on its version;
an Update, not a Put, so a `cancel_requested` set meanwhile survives), the items DynamoDbStore's
`commit` writes for each change, one item per row error, the job's events, and the job's
unfinished marker's Delete when the job ends. A transaction cannot touch one item twice, and a
batch often does (a row changes a product, then its variant; many new products of one
merchant each carry its registry entry, of one type each its count): the writes of one item
are merged into one (see `_merge`). Past 100 items or 4 MB the batch is refused before any
call (RowBatchTooLarge, a DomainError: the worker then writes its rows one at a time).

`commit_chunk` is the same transaction for a chunk's batch, with the chunk's record in place
of the job's (a Put conditioned on its version) and one more write: an Update of the job item
that ADDs the batch's counts, and for the chunk's end decrements `chunks_left` conditioned on
the value the worker read (and, for the last chunk, sets the job's end with it). Errors go to
the job's partition, at the file's lines, as the job's own do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from msgspec import Struct, field

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_items import PK, SK, Item, num_attr, str_attr
from catalog.adapters.aws.dynamodb_store import (
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_ITEMS,
    DynamoDbStore,
    TransactionWrite,
)
from catalog.adapters.aws.exceptions import ItemTooLarge, TransactionTooLarge
from catalog.adapters.event_documents import event_to_document
from catalog.adapters.job_documents import (
    job_from_document,
    job_to_document,
    row_error_from_document,
)
from catalog.adapters.stored_values import compact_json
from catalog.domain.errors import IdempotencyKeyRaced, StoreUnavailable, VersionConflict
from catalog.domain.events import DomainEvent
from catalog.domain.jobs import (
    COUNTERS,
    MAX_INLINE_ERRORS,
    ChunkRange,
    ChunksLeftChanged,
    Job,
    JobKind,
    JobStatus,
    RowError,
)
from catalog.service.ports import Change, ChunkEnd, JobPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: Rows per batch (run_job's `batch_size`) that fit one transaction. A new product without
#: variants or type is 4 items (product, history, ProductCreated, sku guard), a changed one 3
#: (product, history, ProductUpdated), an unchanged one none, a failed one 1 (its error); each
#: variant SKU a row takes adds 1, each extra change of one product (a variant patched by the
#: row) 2. A batch adds the job item and, once per process and merchant, the merchant's
#: registry entry, and one count per product type its new products take. So 24 new plain
#: products fill 98 of the 100 items; 20 leave room for a few variants and types. A batch that
#: does not fit is written row by row (RowBatchTooLarge), never lost.
BATCH_SIZE = 20

#: DynamoDB's cap on the aggregate size of a transaction's items.
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024

# A cancel meets at most the worker's start (QUEUED -> RUNNING) and its end (RUNNING ->
# finished): statuses only move forward, so the third read finds a status it can act on.
CANCEL_ATTEMPTS = 3

JOBS_SUFFIX = "JOBS"
JOB_PREFIX = "JOB#"
ERROR_PREFIX = "ERR#"
KEY_SK = "JOBKEY"
UNFINISHED_PK = "UNFINISHED_JOBS"
LINE_DIGITS = 10
CANCEL_REQUESTED = "cancel_requested"
CHUNKS_LEFT = "chunks_left"
CUT_SK = "CUT"
CHUNK_PREFIX = "CHUNK#"
CHUNK_DIGITS = 6

_JOB = "job"  # the role of the job item's write, beside DynamoDbStore's roles
_PARENT = "parent"  # a chunk's job, whose counters the chunk's batch adds to


class RowBatchTooLarge(TransactionTooLarge):
    """A batch of a job's rows needs more than one TransactWriteItems takes."""

    def __init__(self, job_id: str, size: int, limit: int, unit: str) -> None:
        super().__init__(f"batch of job {job_id}", size, limit)
        self.args = (
            f"a batch of rows of job {job_id} needs {size} {unit} in one transaction;"
            f" DynamoDB accepts at most {limit}",
        )
        self.job_id = job_id


class _JobMoved(Exception):
    """The job changed between a cancel's read and its write: read it again."""


# ---------------------------------------------------------------------- keys and items


def jobs_partition(merchant_id: str) -> str:
    return f"{items.merchant_prefix(merchant_id)}{JOBS_SUFFIX}"


def job_key(merchant_id: str, job_id: str) -> Item:
    return {
        PK: str_attr(jobs_partition(merchant_id)),
        SK: str_attr(JOB_PREFIX + items.part(job_id)),
    }


def job_partition(merchant_id: str, job_id: str) -> str:
    """Where a job's errors and events are (not the job item: see jobs_partition)."""
    return f"{items.merchant_prefix(merchant_id)}JOB#{items.part(job_id)}"


def error_sort_key(line: int) -> str:
    return f"{ERROR_PREFIX}{line:0{LINE_DIGITS}d}"


def cut_key(merchant_id: str, job_id: str) -> Item:
    return {PK: str_attr(job_partition(merchant_id, job_id)), SK: str_attr(CUT_SK)}


def chunk_key(merchant_id: str, job_id: str, number: int) -> Item:
    return {
        PK: str_attr(job_partition(merchant_id, job_id)),
        SK: str_attr(f"{CHUNK_PREFIX}{number:0{CHUNK_DIGITS}d}"),
    }


def guard_key(merchant_id: str, key: str) -> Item:
    return {
        PK: str_attr(f"{items.merchant_prefix(merchant_id)}JOBKEY#{items.part(key)}"),
        SK: str_attr(KEY_SK),
    }


def unfinished_key(merchant_id: str, job_id: str) -> Item:
    # The id first: the partition reads oldest first; the merchant keeps ids of two
    # merchants apart should they ever meet.
    return {
        PK: str_attr(UNFINISHED_PK),
        SK: str_attr(f"{items.part(job_id)}#{items.part(merchant_id)}"),
    }


def _job_attributes(job: Job) -> Item:
    """Every attribute of the job item a job write sets (all but the key and
    `cancel_requested`, which only `cancel` sets)."""
    return {
        items.ITEM_TYPE: str_attr("JOB"),
        "doc": str_attr(compact_json(job_to_document(job))),
        "version": num_attr(job.version),
        "status": str_attr(job.status.value),
        "kind": str_attr(job.kind.value),
    }


def _error_item(job: Job, error: RowError) -> Item:
    """In the job's partition; a chunk's errors are its job's."""
    return {
        PK: str_attr(job_partition(job.merchant_id, job.parent_id or job.id)),
        SK: str_attr(error_sort_key(error.line)),
        items.ITEM_TYPE: str_attr("JOB_ERROR"),
        "doc": str_attr(compact_json(error.to_json())),
    }


def _event_item(job: Job, event: DomainEvent, index: int, committed_at: datetime) -> Item:
    """An outbox item as DynamoDbStore writes a product's, in the job's partition; the event
    id in `sk` as for types' events, so no two events of one job can share an item."""
    sort_key = f"{items.event_sort_key(event.version, index)}#{items.part(event.id)}"
    return {
        PK: str_attr(job_partition(job.merchant_id, job.id)),
        SK: str_attr(sort_key),
        items.ITEM_TYPE: str_attr("EVENT"),
        "event": str_attr(compact_json(event_to_document(event))),
        items.TTL: num_attr(items.epoch_seconds(committed_at + items.EVENT_RETENTION)),
    }


def _job_from_item(item: Item) -> Job:
    requested = item.get(CANCEL_REQUESTED, {}).get("BOOL", False)
    job = job_from_document(json.loads(item["doc"]["S"]), cancel_requested=bool(requested))
    if CHUNKS_LEFT in item:
        # A split job's counters are what its chunks have added up, not its document's.
        for name in COUNTERS:
            setattr(job, name, int(item[name]["N"]))
    return job


# ---------------------------------------------------------------------- the store


class DynamoDbJobStore:
    """Jobs of every merchant on the table of `store`, whose client it uses; stateless
    besides, so one instance serves any number of threads."""

    rows_per_batch = BATCH_SIZE

    def __init__(self, store: DynamoDbStore) -> None:
        self._store = store
        self._client: DynamoDBClient = store.client
        self._table = store.table_name

    def create_job(self, job: Job) -> None:
        """One TransactWriteItems: the job, its unfinished marker and, with a key, the key's
        guard (`attribute_not_exists`: IdempotencyKeyRaced when another job holds it)."""
        job_item = {**job_key(job.merchant_id, job.id), **_job_attributes(job)}
        writes = [
            TransactionWrite(_JOB, {"Put": self._new(self._sized(job_item, f"job {job.id}"))}),
            self._put(self._unfinished_item(job)),
        ]
        key = job.idempotency_key
        if key is not None:
            guard = {
                **guard_key(job.merchant_id, key),
                items.ITEM_TYPE: str_attr("JOB_KEY"),
                "job_id": str_attr(job.id),
            }
            writes.append(TransactionWrite("guard", {"Put": self._new(guard)}))

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            failed = {
                write.role
                for write, reason in zip(writes, reasons, strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"
            }
            if "guard" in failed:
                raise IdempotencyKeyRaced(key or job.id)
            if _JOB in failed:
                raise VersionConflict(job.id, 0)

        self._store.commit_transaction(writes, raise_domain_error, f"job {job.id}")

    def job(self, merchant_id: str, job_id: str) -> Job | None:
        """One GetItem, strongly consistent; and for a split job still running whose rows
        failed, a Query of its first errors (its last chunk's end writes them inline)."""
        response = self._client.get_item(
            TableName=self._table, Key=job_key(merchant_id, job_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        job = _job_from_item(item)
        if CHUNKS_LEFT in item and not job.status.finished and job.failed:
            job.errors = self.job_errors(merchant_id, job_id, after_line=0, limit=MAX_INLINE_ERRORS)
        return job

    def job_by_key(self, merchant_id: str, key: str) -> Job | None:
        """Two GetItems: the key's guard, then the job it names."""
        response = self._client.get_item(
            TableName=self._table, Key=guard_key(merchant_id, key), ConsistentRead=True
        )
        guard = response.get("Item")
        return self.job(merchant_id, guard["job_id"]["S"]) if guard else None

    def jobs(
        self,
        merchant_id: str,
        *,
        kind: JobKind | None,
        status: JobStatus | None,
        limit: int,
        position: str | None,
    ) -> JobPage:
        """One Query of the merchant's jobs partition, newest first, `limit + 1` items read
        before `position`. With `kind` or `status`, DynamoDB filters what it read: the page
        may be short, and continues right after the last job read, kept or not, so none is
        skipped and none read twice (as a page of products of a type and status)."""
        names = {"#pk": PK, "#sk": SK}
        values: dict[str, Any] = {":pk": str_attr(jobs_partition(merchant_id))}
        if position is None:
            condition = "#pk = :pk AND begins_with(#sk, :prefix)"
            values[":prefix"] = str_attr(JOB_PREFIX)
        else:
            # The partition holds job items only: everything before the position is a job.
            condition = "#pk = :pk AND #sk < :before"
            values[":before"] = str_attr(JOB_PREFIX + items.part(position))
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit + 1,
        }
        kept = []
        if kind is not None:
            kept.append("#kind = :kind")
            names["#kind"] = "kind"
            values[":kind"] = str_attr(kind.value)
        if status is not None:
            kept.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = str_attr(status.value)
        if kept:
            request["FilterExpression"] = " AND ".join(kept)
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = values
        response = self._client.query(**request)
        found = [_job_from_item(item) for item in response.get("Items", [])]
        if len(found) > limit:
            found = found[:limit]
            return JobPage(found, found[-1].id)
        last = response.get("LastEvaluatedKey")
        # No more items read than `limit`, yet more may follow: a filter dropped some, or
        # DynamoDB's 1 MB per Query cut the read short.
        last_read = items.unpart(last[SK]["S"].removeprefix(JOB_PREFIX)) if last else None
        return JobPage(found, last_read)

    def commit_rows(
        self,
        job: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        events: Sequence[DomainEvent] = (),
    ) -> None:
        """One TransactWriteItems of the batch (the module's docstring has its items);
        RowBatchTooLarge before any call when it cannot be one."""
        job_write = TransactionWrite(_JOB, self._job_update(job, expected_version))
        merged = _merge([self._store.change_writes(change) for change in changes])
        writes = [job_write, *(write.write for write in merged)]
        writes += self._row_writes(job, errors, events, ending=job.status.finished)
        self._check_size(job, writes)

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            """The job's version first, then each change's error in change order, as the
            embedded store checks them."""
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise VersionConflict(job.id, expected_version)
            self._raise_change_errors(changes, merged, reasons[1 : 1 + len(merged)])

        self._store.commit_transaction(writes, raise_domain_error, f"job {job.id}")
        self._store.changes_committed(changes)

    # ----------------------------------------------------------------- chunks (JobChunks)

    def split(self, job: Job, expected_version: int, ranges: Sequence[ChunkRange]) -> None:
        """One TransactWriteItems: the job item (its document, `chunks_left` and counters
        from 0, conditioned on its version) and the ranges' item."""
        extra = {CHUNKS_LEFT: num_attr(len(ranges))}
        extra.update({name: num_attr(getattr(job, name)) for name in COUNTERS})
        cut = {
            **cut_key(job.merchant_id, job.id),
            items.ITEM_TYPE: str_attr("JOB_CUT"),
            "ranges": str_attr(compact_json([span.to_json() for span in ranges])),
        }
        writes = [
            TransactionWrite(_JOB, self._job_update(job, expected_version, extra)),
            self._put(self._sized(cut, f"ranges of job {job.id}")),
        ]

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise VersionConflict(job.id, expected_version)

        self._store.commit_transaction(writes, raise_domain_error, f"job {job.id}")

    def chunk_range(self, merchant_id: str, job_id: str, number: int) -> ChunkRange | None:
        """One GetItem of the job's ranges (read by a chunk's first run only)."""
        response = self._client.get_item(
            TableName=self._table, Key=cut_key(merchant_id, job_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        ranges = json.loads(item["ranges"]["S"])
        return ChunkRange.from_json(ranges[number - 1]) if 0 < number <= len(ranges) else None

    def chunk(self, merchant_id: str, job_id: str, number: int) -> Job | None:
        """One GetItem, strongly consistent."""
        response = self._client.get_item(
            TableName=self._table,
            Key=chunk_key(merchant_id, job_id, number),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return job_from_document(json.loads(item["doc"]["S"])) if item else None

    def parent(self, merchant_id: str, job_id: str) -> tuple[Job, int] | None:
        """One GetItem of the job item: the job, its counters as its chunks added them up,
        and its `chunks_left`."""
        response = self._client.get_item(
            TableName=self._table, Key=job_key(merchant_id, job_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item or CHUNKS_LEFT not in item:
            return None
        return _job_from_item(item), int(item[CHUNKS_LEFT]["N"])

    def commit_chunk(
        self,
        chunk: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        counted: Mapping[str, int],
        *,
        chunks_left: int | None = None,
        parent_end: ChunkEnd | None = None,
    ) -> None:
        """One TransactWriteItems (the module's docstring): the chunk's record, the job's
        counters (and count of chunks left, and end), the changes, the errors."""
        parent_id = chunk.parent_id
        assert parent_id is not None, "not a chunk"
        writes = [TransactionWrite(_JOB, self._chunk_put(chunk, expected_version))]
        parent_write = self._parent_update(chunk, parent_id, counted, chunks_left, parent_end)
        if parent_write is not None:
            writes.append(parent_write)
        first_change = len(writes)
        merged = _merge([self._store.change_writes(change) for change in changes])
        writes += [write.write for write in merged]
        writes += self._row_writes(chunk, errors, (), ending=False)
        if parent_end is not None:
            writes += self._row_writes(parent_end.job, (), [parent_end.event], ending=True)
        self._check_size(chunk, writes)

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            """The chunk's version first, then the job's count of chunks left, then each
            change's error in change order."""
            failed = [reason.get("Code") == "ConditionalCheckFailed" for reason in reasons]
            if failed and failed[0]:
                raise VersionConflict(chunk.id, expected_version)
            if parent_write is not None and len(failed) > 1 and failed[1]:
                raise ChunksLeftChanged(parent_id)
            self._raise_change_errors(
                changes, merged, reasons[first_change : first_change + len(merged)]
            )

        self._store.commit_transaction(writes, raise_domain_error, f"chunk {chunk.id}")
        self._store.changes_committed(changes)

    def cancel(self, merchant_id: str, job_id: str, now: datetime) -> None:
        """A read, then a write conditioned on what it read: a QUEUED job becomes CANCELLED
        (its document rewritten, its unfinished marker deleted, in one transaction), a
        RUNNING one gets `cancel_requested` (one UpdateItem). A job that moved meanwhile is
        read again."""
        for _ in range(CANCEL_ATTEMPTS):
            job = self.job(merchant_id, job_id)
            if job is None or job.status.finished:
                return
            try:
                if job.status is JobStatus.QUEUED:
                    self._cancel_queued(job, now)
                else:
                    self._request_cancel(job)
                return
            except _JobMoved:
                continue
        raise StoreUnavailable(f"job {job_id} kept changing while being cancelled")

    def cancel_requested(self, merchant_id: str, job_id: str) -> bool:
        """One GetItem of the job's `cancel_requested` alone."""
        response = self._client.get_item(
            TableName=self._table,
            Key=job_key(merchant_id, job_id),
            ConsistentRead=True,
            ProjectionExpression="#c",
            ExpressionAttributeNames={"#c": CANCEL_REQUESTED},
        )
        requested = response.get("Item", {}).get(CANCEL_REQUESTED, {}).get("BOOL", False)
        return bool(requested)

    def job_errors(
        self, merchant_id: str, job_id: str, *, after_line: int, limit: int
    ) -> list[RowError]:
        """A Query of the job's error items after `after_line`, in line order; it reads on
        past DynamoDB's 1 MB per Query up to `limit` errors (the caller stops at a short
        page)."""
        if limit < 1:
            return []
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :first AND :last",
            ExpressionAttributeNames={"#pk": PK, "#sk": SK},
            ExpressionAttributeValues={
                ":pk": str_attr(job_partition(merchant_id, job_id)),
                ":first": str_attr(error_sort_key(after_line + 1)),
                ":last": str_attr(ERROR_PREFIX + "9" * LINE_DIGITS),
            },
            ConsistentRead=True,
            PaginationConfig={"MaxItems": limit, "PageSize": limit},
        )
        found = pages.build_full_result()["Items"]
        return [row_error_from_document(json.loads(item["doc"]["S"])) for item in found]

    def unfinished_jobs(self) -> list[tuple[str, str]]:
        """A Query of the unfinished markers, oldest first (every page: they are few, one
        per QUEUED or RUNNING job). On AWS, SQS redelivers the message of a job whose worker
        died; this finds the jobs no message will bring back (the API died between storing a
        job and queueing it, or its message went to the dead-letter queue)."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": PK},
            ExpressionAttributeValues={":pk": str_attr(UNFINISHED_PK)},
            ConsistentRead=True,
        )
        found = pages.build_full_result()["Items"]
        return [(item["merchant_id"]["S"], item["job_id"]["S"]) for item in found]

    # ----------------------------------------------------------------- internals

    def _row_writes(
        self,
        job: Job,
        errors: Sequence[RowError],
        events: Sequence[DomainEvent],
        *,
        ending: bool,
    ) -> list[TransactionWrite]:
        """A batch's error items, the job's events, and its marker's Delete when it ends."""
        writes: list[TransactionWrite] = []
        for error in errors:
            error_item = _error_item(job, error)
            writes.append(self._put(self._sized(error_item, f"error at line {error.line}")))
        for index, event in enumerate(events):
            event_item = _event_item(job, event, index, event.occurred_at)
            writes.append(self._put(self._sized(event_item, f"event {event.id}")))
        if ending:
            key = unfinished_key(job.merchant_id, job.id)
            writes.append(TransactionWrite("marker", {"Delete": self._at(key)}))
        return writes

    @staticmethod
    def _check_size(job: Job, writes: Sequence[TransactionWrite]) -> None:
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise RowBatchTooLarge(job.id, len(writes), MAX_TRANSACTION_ITEMS, "items")
        size = sum(_action_size(write.action) for write in writes)
        if size > MAX_TRANSACTION_BYTES:
            raise RowBatchTooLarge(job.id, size, MAX_TRANSACTION_BYTES, "bytes")

    def _raise_change_errors(
        self,
        changes: Sequence[Change],
        merged: Sequence[_Merged],
        merged_reasons: Sequence[dict[str, Any]],
    ) -> None:
        for position, change in enumerate(changes):
            own_writes: list[TransactionWrite] = []
            own_reasons: list[dict[str, Any]] = []
            for write, reason in zip(merged, merged_reasons, strict=False):
                for source, original in write.sources:
                    if source == position:
                        own_writes.append(original)
                        own_reasons.append(reason)
            self._store.raise_change_error(change, own_writes, own_reasons)

    def _chunk_put(self, chunk: Job, expected_version: int) -> dict[str, Any]:
        """The chunk's record, new (version 0 expected) or at the version expected."""
        parent_id = chunk.parent_id
        span = chunk.chunk_range
        assert parent_id is not None and span is not None, "not a chunk"
        item = {
            **chunk_key(chunk.merchant_id, parent_id, span.number),
            items.ITEM_TYPE: str_attr("JOB_CHUNK"),
            "doc": str_attr(compact_json(job_to_document(chunk))),
            "version": num_attr(chunk.version),
            "status": str_attr(chunk.status.value),
        }
        put: dict[str, Any] = {"TableName": self._table, "Item": self._sized(item, chunk.id)}
        if expected_version == 0:
            put["ConditionExpression"] = "attribute_not_exists(#pk)"
            put["ExpressionAttributeNames"] = {"#pk": PK}
        else:
            put["ConditionExpression"] = "#version = :expected"
            put["ExpressionAttributeNames"] = {"#version": "version"}
            put["ExpressionAttributeValues"] = {":expected": num_attr(expected_version)}
        return {"Put": put}

    def _parent_update(
        self,
        chunk: Job,
        parent_id: str,
        counted: Mapping[str, int],
        chunks_left: int | None,
        parent_end: ChunkEnd | None,
    ) -> TransactionWrite | None:
        """The job item's Update for a chunk's commit: ADD the counts (and -1 to
        `chunks_left`, conditioned on its value), SET the job's end; None when there is
        nothing to write."""
        names: dict[str, str] = {"#pk": PK}
        values: Item = {}
        added = [name for name in COUNTERS if counted.get(name)]
        for name in added:
            names[f"#{name}"] = name
            values[f":{name}"] = num_attr(counted[name])
        conditions = ["attribute_exists(#pk)"]
        if chunks_left is not None:
            added.append(CHUNKS_LEFT)
            names[f"#{CHUNKS_LEFT}"] = CHUNKS_LEFT
            values[f":{CHUNKS_LEFT}"] = num_attr(-1)
            values[":left"] = num_attr(chunks_left)
            conditions.append(f"#{CHUNKS_LEFT} = :left")
        expression = "ADD " + ", ".join(f"#{name} :{name}" for name in added) if added else ""
        if parent_end is not None:
            job = parent_end.job
            attributes = _job_attributes(job)
            size = items.item_size({**job_key(job.merchant_id, job.id), **attributes})
            if size > MAX_ITEM_BYTES:
                raise ItemTooLarge(f"job {job.id}", size, MAX_ITEM_BYTES)
            names.update({f"#{name}": name for name in attributes})
            values.update({f":{name}": value for name, value in attributes.items()})
            assignments = ", ".join(f"#{name} = :{name}" for name in attributes)
            expression = f"SET {assignments} {expression}"
            values[":expected"] = num_attr(parent_end.expected_version)
            conditions.append("#version = :expected")
        if not expression:
            return None
        return TransactionWrite(
            _PARENT,
            {
                "Update": {
                    **self._at(job_key(chunk.merchant_id, parent_id)),
                    "UpdateExpression": expression.strip(),
                    "ConditionExpression": " AND ".join(conditions),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        )

    def _job_update(
        self, job: Job, expected_version: int, extra: Item | None = None
    ) -> dict[str, Any]:
        attributes = {**_job_attributes(job), **(extra or {})}
        size = items.item_size({**job_key(job.merchant_id, job.id), **attributes})
        if size > MAX_ITEM_BYTES:
            raise ItemTooLarge(f"job {job.id}", size, MAX_ITEM_BYTES)
        # Every name behind a placeholder (`status` is a reserved word), one per attribute.
        names = {f"#{name}": name for name in attributes}
        values = {f":{name}": value for name, value in attributes.items()}
        assignments = ", ".join(f"#{name} = :{name}" for name in attributes)
        return {
            "Update": {
                **self._at(job_key(job.merchant_id, job.id)),
                "UpdateExpression": f"SET {assignments}",
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {**values, ":expected": num_attr(expected_version)},
            }
        }

    def _cancel_queued(self, job: Job, now: datetime) -> None:
        """CANCELLED, if still QUEUED at the version read; _JobMoved otherwise."""
        expected = job.version
        job.status = JobStatus.CANCELLED
        job.finished_at = now
        job.version = expected + 1
        update = self._job_update(job, expected)
        update["Update"]["ConditionExpression"] += " AND #status = :queued"
        update["Update"]["ExpressionAttributeValues"][":queued"] = str_attr(JobStatus.QUEUED.value)
        writes = [
            TransactionWrite(_JOB, update),
            TransactionWrite(
                "marker", {"Delete": self._at(unfinished_key(job.merchant_id, job.id))}
            ),
        ]

        def raise_domain_error(reasons: Sequence[dict[str, Any]]) -> None:
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise _JobMoved()

        self._store.commit_transaction(writes, raise_domain_error, f"job {job.id}")

    def _request_cancel(self, job: Job) -> None:
        """`cancel_requested` on a job still RUNNING; _JobMoved otherwise."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=job_key(job.merchant_id, job.id),
                UpdateExpression="SET #c = :true",
                ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#c": CANCEL_REQUESTED, "#status": "status"},
                ExpressionAttributeValues={
                    ":true": {"BOOL": True},
                    ":running": str_attr(JobStatus.RUNNING.value),
                },
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                raise _JobMoved() from error
            raise

    def _unfinished_item(self, job: Job) -> Item:
        return {
            **unfinished_key(job.merchant_id, job.id),
            items.ITEM_TYPE: str_attr("UNFINISHED_JOB"),
            "merchant_id": str_attr(job.merchant_id),
            "job_id": str_attr(job.id),
        }

    def _at(self, key: Item) -> dict[str, Any]:
        return {"TableName": self._table, "Key": key}

    def _put(self, item: Item) -> TransactionWrite:
        """An unconditioned Put: its item is the transaction's own (an error, an event)."""
        return TransactionWrite("other", {"Put": {"TableName": self._table, "Item": item}})

    def _new(self, item: Item) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": PK},
        }

    @staticmethod
    def _sized(item: Item, what: str) -> Item:
        size = items.item_size(item)
        if size > MAX_ITEM_BYTES:
            raise ItemTooLarge(what, size, MAX_ITEM_BYTES)
        return item


# ---------------------------------------------------------------------- merging writes

_OPERATIONS = ("Put", "Delete", "Update", "ConditionCheck")
_CONDITION_PARTS = (
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValuesOnConditionCheckFailure",
)
_COUNT_UPDATE = "ADD #in_use :step"


class _Merged(Struct):
    """One item's write in the batch's transaction, and the changes' writes it stands for
    (change index, the change's own write): a cancellation reason maps back through them."""

    write: TransactionWrite
    sources: list[tuple[int, TransactionWrite]] = field(default_factory=list)


def _merge(per_change: Sequence[Sequence[TransactionWrite]]) -> list[_Merged]:
    """The changes' writes with one write per item, in the order each item first appears.

    Changes of one batch follow one another (RowBatch checked each against the ones before
    it), so a later write's condition holds of what an earlier one wrote: the item ends as the
    last write leaves it (its Put or Delete) under the condition of the first, the only one
    about the stored item. Counts (`ADD in_use`) add up; a count that comes to nothing keeps
    its condition alone (a ConditionCheck: the type must still exist)."""
    merged: dict[tuple[str, str], _Merged] = {}
    for position, writes in enumerate(per_change):
        for write in writes:
            key = _item_key(write.action)
            held = merged.get(key)
            if held is None:
                merged[key] = _Merged(write, [(position, write)])
                continue
            held.write = _combined(held.write, write)
            held.sources.append((position, write))
    return [_settled(each) for each in merged.values()]


def _combined(first: TransactionWrite, later: TransactionWrite) -> TransactionWrite:
    """One write of an item for two writes of it, `first` earlier in the batch. Its role is
    the first's: a cancellation maps back through each change's own writes (`_Merged`)."""
    (first_op, first_body), (later_op, later_body) = _operation(first), _operation(later)
    if first_op == "Update" or later_op == "Update":
        if (
            not first_body.get("UpdateExpression")
            == _COUNT_UPDATE
            == later_body.get("UpdateExpression")
        ):
            raise ValueError(f"cannot merge these writes of one item: {_item_key(first.action)}")
        steps = sum(
            int(body["ExpressionAttributeValues"][":step"]["N"])
            for body in (first_body, later_body)
        )
        values = {**first_body["ExpressionAttributeValues"], ":step": num_attr(steps)}
        return TransactionWrite(
            first.role, {"Update": {**first_body, "ExpressionAttributeValues": values}}
        )
    body = {name: value for name, value in later_body.items() if name not in _CONDITION_PARTS}
    body.update({name: first_body[name] for name in _CONDITION_PARTS if name in first_body})
    return TransactionWrite(first.role, {later_op: body}, first.sku)


def _settled(merged: _Merged) -> _Merged:
    operation, body = _operation(merged.write)
    if operation != "Update" or body["ExpressionAttributeValues"][":step"] != num_attr(0):
        return merged
    check = {
        name: value
        for name, value in body.items()
        if name in ("TableName", "Key", "ConditionExpression", "ExpressionAttributeNames")
    }
    names = check.get("ExpressionAttributeNames", {})
    # Names the update used and the check does not are refused by DynamoDB.
    check["ExpressionAttributeNames"] = {
        alias: name for alias, name in names.items() if alias in check["ConditionExpression"]
    }
    write = TransactionWrite(merged.write.role, {"ConditionCheck": check}, merged.write.sku)
    return _Merged(write, merged.sources)


def _operation(write: TransactionWrite) -> tuple[str, dict[str, Any]]:
    ((operation, body),) = write.action.items()
    assert operation in _OPERATIONS, operation
    return operation, body


def _item_key(action: dict[str, Any]) -> tuple[str, str]:
    ((operation, body),) = action.items()
    key = body["Item"] if operation == "Put" else body["Key"]
    return key[PK]["S"], key[SK]["S"]


def _action_size(action: dict[str, Any]) -> int:
    """An upper bound of what one action adds to the transaction's size: a Put's item, an
    Update's key and values (a count's item is the type's size, unknown here: counts are
    small beside the products of a batch)."""
    ((_, body),) = action.items()
    size = items.item_size(body.get("Item") or body["Key"])
    values = {
        name: value
        for name, value in body.get("ExpressionAttributeValues", {}).items()
        if "S" in value or "N" in value
    }
    return size + items.item_size(values)
