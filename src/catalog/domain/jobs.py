"""Jobs (DESIGN.md section 11): long work run asynchronously, observable and resumable.

A job counts what it did row by row; its counters only grow, and `position` is the last row
(a 1-based line of the file for an import) whose outcome is committed, so a job that stops
anywhere resumes after it. The job's own record is written by the one worker running it;
a cancellation is a request the worker honours between rows.

An import may be cut into chunks (the AWS deployment, docs/jobs-aws.md): byte ranges of its
file holding whole rows, each run as a job of its own (`Job.chunk_of`) with its own position,
counters and version, whose batches add to the counters of the job they are part of.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from msgspec import Struct, field, structs

from catalog.domain.errors import InvalidField
from catalog.domain.events import DomainEvent, EventName

#: The errors a job keeps inline; every one of them is at its `errors_url`.
MAX_INLINE_ERRORS = 100

#: The counters of a job, as its document names them.
COUNTERS = ("processed", "created", "updated", "unchanged", "failed")


class JobKind(StrEnum):
    IMPORT = "import"
    EXPORT = "export"
    BULK_ACTION = "bulk_action"


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class RowOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    WRITTEN = "written"  # a product an export wrote out: counted as processed only


class ImportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


class RowError(Struct, frozen=True):
    """A row that wrote nothing: its line (CSV: counting the header), its SKU when it names
    one, and the problem document the API would have answered for it."""

    line: int
    sku: str | None
    problem: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "sku": self.sku, "problem": dict(self.problem)}


class RowResult(Struct, frozen=True):
    line: int
    outcome: RowOutcome
    error: RowError | None = None


class ChunkRange(Struct, frozen=True):
    """Part of an import's file that one worker runs: the bytes from the start of its first
    row (`start`) to the start of the next chunk's (`end`), whole rows only (a CSV product's
    rows together), and the file's lines before `start`, so its rows keep the file's lines."""

    number: int  # 1-based
    start: int
    end: int
    lines_before: int
    rows: int

    def to_json(self) -> dict[str, int]:
        return {
            "number": self.number,
            "start": self.start,
            "end": self.end,
            "lines_before": self.lines_before,
            "rows": self.rows,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ChunkRange:
        return cls(
            int(doc["number"]),
            int(doc["start"]),
            int(doc["end"]),
            int(doc["lines_before"]),
            int(doc["rows"]),
        )


class ChunksLeftChanged(Exception):
    """A chunk's end was written against a count of the job's chunks left that another
    chunk's end has changed since it was read: read it again."""


def chunk_id(job_id: str, number: int) -> str:
    """The id of a job's chunk record (never a job of the API's: it is not listed)."""
    return f"{job_id}.{number}"


class Job(Struct):
    id: str
    merchant_id: str
    kind: JobKind
    created_at: datetime
    params: Mapping[str, Any] = field(default_factory=dict)  # format, filter, action...
    # Who started it, as {"subject", "merchant_id", "roles"}: its rows are changed as by them.
    started_by: Mapping[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    total: int | None = None
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    position: int = 0
    # An export or a bulk action walks the merchant's products in id order: the last one done.
    resume_after: str | None = None
    # What the job writes (an export's file, a bulk action's outcomes): its key and the bytes
    # committed so far, where a resumed job goes on writing.
    output_key: str | None = None
    output_bytes: int = 0
    message: str | None = None  # why a job FAILED
    finished_at: datetime | None = None
    version: int = 1
    idempotency_key: str | None = None
    fingerprint: str | None = None
    cancel_requested: bool = False
    # An import cut into chunks run side by side: how many (0: run as one, by one worker).
    chunks: int = 0

    def input_key(self) -> str:
        """An import's file among the job files: the one uploaded with a ticket, or the body
        kept when the job started."""
        uploaded = self.params.get("input_key")
        if uploaded is not None:
            return str(uploaded)
        return f"{self.merchant_id}/{self.id}/input.{self.params['format']}"

    @property
    def parent_id(self) -> str | None:
        """The job a chunk record is part of; None for a job."""
        parent = self.params.get("parent")
        return str(parent) if parent is not None else None

    @property
    def chunk_range(self) -> ChunkRange | None:
        """The part of the file a chunk record runs; None for a job."""
        span = self.params.get("chunk")
        return ChunkRange.from_json(span) if span is not None else None

    def chunk_of(self, span: ChunkRange) -> Job:
        """The record of one chunk of this import, as it is before its first commit
        (version 0: that commit creates it)."""
        return Job(
            id=chunk_id(self.id, span.number),
            merchant_id=self.merchant_id,
            kind=JobKind.IMPORT,
            created_at=self.created_at,
            params={
                "format": self.params["format"],
                "input_key": self.input_key(),
                "parent": self.id,
                "chunk": span.to_json(),
            },
            started_by=dict(self.started_by),
            total=span.rows,
            version=0,
        )

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTERS}

    def output_key_of_kind(self) -> str:
        """Where the job writes: an export's file, a bulk action's outcomes."""
        exporting = self.kind is JobKind.EXPORT
        extension = self.params.get("format", "jsonl") if exporting else "jsonl"
        name = "export" if exporting else "outcomes"
        return f"{self.merchant_id}/{self.id}/{name}.{extension}"

    def start(self) -> None:
        if self.status is JobStatus.QUEUED:
            self.status = JobStatus.RUNNING

    def counted(self, total: int) -> None:
        """How many rows the job has, once known (an import counts its file first)."""
        self.total = total

    def record(self, result: RowResult) -> None:
        """One more row done, after `position`."""
        if result.line <= self.position:
            raise ValueError(f"row {result.line} is not after row {self.position}")
        self.position = result.line
        self.count(result)

    def count(self, result: RowResult) -> None:
        """One more row done, in whatever order the job walks them."""
        self.processed += 1
        if result.outcome is RowOutcome.CREATED:
            self.created += 1
        elif result.outcome is RowOutcome.UPDATED:
            self.updated += 1
        elif result.outcome is RowOutcome.UNCHANGED:
            self.unchanged += 1
        elif result.outcome is RowOutcome.WRITTEN:
            pass
        else:
            self.failed += 1
            if result.error is not None and len(self.errors) < MAX_INLINE_ERRORS:
                self.errors.append(result.error)

    def finish(self, now: datetime, *, cancelled: bool = False) -> None:
        """Every row done (or a cancellation honoured). Rows that failed do not fail the
        job: it SUCCEEDED with `failed` > 0."""
        self.status = JobStatus.CANCELLED if cancelled else JobStatus.SUCCEEDED
        self.finished_at = now

    def fail(self, message: str, now: datetime) -> None:
        """The job itself could not run (an unreadable file, say)."""
        self.status = JobStatus.FAILED
        self.message = message
        self.finished_at = now

    def snapshot(self) -> Job:
        """A copy a store may keep while this one goes on changing."""
        return structs.replace(self, errors=list(self.errors), params=dict(self.params))

    def finished_event(self, event_id: str) -> DomainEvent:
        """JobFinished, for a job that has finished (its schema: docs/events/)."""
        assert self.finished_at is not None, "the job has not finished"
        return DomainEvent(
            id=event_id,
            name=EventName.JOB_FINISHED,
            merchant_id=self.merchant_id,
            product_id=None,
            version=self.version,
            occurred_at=self.finished_at,
            data=self._finished_data(),
            job_id=self.id,
        )

    def _finished_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "status": self.status.value,
            "total": self.total,
            "processed": self.processed,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }


def parse_import_format(value: str | None, at: str = "/format") -> ImportFormat:
    try:
        return ImportFormat(value or "")
    except ValueError:
        raise InvalidField(at, "must be jsonl or csv") from None
