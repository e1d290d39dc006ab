"""Use cases of jobs (DESIGN.md section 11): start an import, read jobs and their errors,
cancel one; and `run_job`, what a worker does with a job it is given.

An import's rows go through the API's own use cases (row_upserts) on a RowBatch; every
`batch_size` rows the batch's changes, the job's counters and the rows' errors are written
in one transaction (JobStore.commit_rows). A worker that dies loses only the batch it had not
written: the next one resumes after the job's `position`, and every row is applied once.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO

from catalog.domain import limits
from catalog.domain.errors import (
    DomainError,
    IdempotencyKeyRaced,
    IdempotencyKeyReused,
    InvalidField,
    JobNotFound,
)
from catalog.domain.jobs import (
    ImportFormat,
    Job,
    JobKind,
    JobStatus,
    RowError,
    RowOutcome,
    RowResult,
)
from catalog.service.commands import CancelJob, GetJob, ListJobs, ReadJobErrors, StartImport
from catalog.service.context import CatalogContext, JobsContext
from catalog.service.import_files import ImportRow, count_jsonl_rows, jsonl_rows
from catalog.service.ports import Change
from catalog.service.principals import Principal, require_read, require_write
from catalog.service.problems import problem_of
from catalog.service.row_batch import RowBatch
from catalog.service.row_upserts import upsert_row

#: Rows written per transaction: enough to pay for the commit many times over, few enough
#: that a crash loses little work and a batch's changes stay small in memory.
BATCH_SIZE = 200


@dataclass(frozen=True)
class Started:
    job: Job
    replayed: bool  # True when an Idempotency-Key retry returned the first request's job


@dataclass(frozen=True)
class JobListing:
    items: list[Job]
    next_cursor: str | None


def file_key(job: Job) -> str:
    return f"{job.merchant_id}/{job.id}/input.{job.params['format']}"


def start_import(
    ctx: CatalogContext, jobs: JobsContext, principal: Principal, command: StartImport
) -> Started:
    """Keep the file and queue the job; the same Idempotency-Key with the same file answers
    the job it started (a 422 with another file)."""
    merchant_id = command.merchant_id
    require_write(principal, merchant_id)
    fingerprint = hashlib.sha256(command.content).hexdigest()
    key = command.idempotency_key
    if key is not None:
        existing = _job_of_key(jobs, merchant_id, key, fingerprint)
        if existing is not None:
            return Started(existing, replayed=True)
    job = Job(
        id=ctx.ids.new_id(),
        merchant_id=merchant_id,
        kind=JobKind.IMPORT,
        created_at=ctx.clock.now(),
        params={"format": command.format.value},
        started_by={
            "subject": principal.subject,
            "merchant_id": principal.merchant_id,
            "roles": sorted(principal.roles),
        },
        idempotency_key=key,
        fingerprint=fingerprint,
    )
    jobs.files.save(file_key(job), io.BytesIO(command.content))
    try:
        jobs.store.create_job(job)
    except IdempotencyKeyRaced:
        assert key is not None
        raced = _job_of_key(jobs, merchant_id, key, fingerprint)
        if raced is None:
            raise
        return Started(raced, replayed=True)
    jobs.queue.enqueue(merchant_id, job.id)
    return Started(job, replayed=False)


def get_job(jobs: JobsContext, principal: Principal, query: GetJob) -> Job:
    require_read(principal, query.merchant_id)
    job = jobs.store.job(query.merchant_id, query.job_id)
    if job is None:
        raise JobNotFound(query.job_id)
    return job


def list_jobs(
    ctx: CatalogContext, jobs: JobsContext, principal: Principal, query: ListJobs
) -> JobListing:
    merchant_id = query.merchant_id
    require_read(principal, merchant_id)
    if not 1 <= query.limit <= limits.MAX_PAGE_SIZE:
        raise InvalidField("/limit", f"must be between 1 and {limits.MAX_PAGE_SIZE}")
    scope: dict[str, object] = {
        "q": "jobs",
        "kind": query.kind.value if query.kind else None,
        "status": query.status.value if query.status else None,
    }
    position = ctx.cursors.decode(merchant_id, scope, query.cursor) if query.cursor else None
    page = jobs.store.jobs(
        merchant_id, kind=query.kind, status=query.status, limit=query.limit, position=position
    )
    cursor = ctx.cursors.encode(merchant_id, scope, page.position) if page.position else None
    return JobListing(page.items, cursor)


def cancel_job(
    ctx: CatalogContext, jobs: JobsContext, principal: Principal, command: CancelJob
) -> Job:
    """Stop the job after its current batch of rows; a finished job is left as it is."""
    require_write(principal, command.merchant_id)
    get_job(jobs, principal, GetJob(command.merchant_id, command.job_id))
    jobs.store.cancel(command.merchant_id, command.job_id, ctx.clock.now())
    return get_job(jobs, principal, GetJob(command.merchant_id, command.job_id))


def job_errors(jobs: JobsContext, principal: Principal, query: ReadJobErrors) -> Iterator[RowError]:
    """Every row error of the job, in line order, read a page at a time."""
    get_job(jobs, principal, GetJob(query.merchant_id, query.job_id))
    after = 0
    while True:
        page = jobs.store.job_errors(query.merchant_id, query.job_id, after_line=after, limit=500)
        yield from page
        if len(page) < 500:
            return
        after = page[-1].line


# ------------------------------------------------------------------ the worker


def run_job(
    ctx: CatalogContext,
    jobs: JobsContext,
    merchant_id: str,
    job_id: str,
    *,
    batch_size: int = BATCH_SIZE,
    stopping: Callable[[], bool] = lambda: False,
) -> Job | None:
    """Run the job from where it stands to its end (or until `stopping()` says the process
    is going down: the job then stays RUNNING, to be resumed). None for an unknown job."""
    job = jobs.store.job(merchant_id, job_id)
    if job is None or job.status.finished:
        return job
    runner = _ImportRun(ctx, jobs, job, batch_size)
    return runner.run(stopping)


class _ImportRun:
    def __init__(self, ctx: CatalogContext, jobs: JobsContext, job: Job, batch_size: int) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.job = job
        self.batch_size = batch_size
        started = job.started_by
        self.principal = Principal(
            subject=str(started.get("subject", "job")),
            merchant_id=started.get("merchant_id"),
            roles=frozenset(started.get("roles", ())),
        )

    def run(self, stopping: Callable[[], bool]) -> Job:
        job = self.job
        try:
            stream = self.jobs.files.open(file_key(job))
        except FileNotFoundError:
            return self._finish(failed="the job's file is gone")
        with stream:
            if job.status is JobStatus.QUEUED or job.total is None:
                job.start()
                job.counted(_count_rows(job, stream))
                stream.seek(0)
                self._write([], [])
            pending: list[ImportRow] = []
            for row in _rows(job, stream):
                if row.line <= job.position:
                    continue
                pending.append(row)
                if len(pending) >= self.batch_size:
                    self._apply(pending)
                    pending = []
                    if stopping():
                        return job
                    if self.jobs.store.cancel_requested(job.merchant_id, job.id):
                        return self._finish(cancelled=True)
            self._apply(pending)
        return self._finish()

    def _apply(self, rows: Sequence[ImportRow]) -> None:
        """The rows as one batch; when the batch cannot be written whole (a product changed
        or a SKU was taken by another writer since the batch read it) each row on its own."""
        if not rows:
            return
        batch = RowBatch(self.ctx.store)
        results = [self._upsert(batch, row) for row in rows]
        try:
            self._write(batch.changes, results)
        except DomainError:
            for row in rows:
                alone = RowBatch(self.ctx.store)
                self._write(alone.changes, [self._upsert(alone, row)])

    def _upsert(self, batch: RowBatch, row: ImportRow) -> RowResult:
        error = row.error
        if error is None:
            assert row.body is not None
            row_ctx = replace(self.ctx, store=batch)
            try:
                with batch.row():
                    outcome = upsert_row(row_ctx, self.principal, self.job.merchant_id, row.body)
                return RowResult(row.line, outcome)
            except DomainError as refused:
                error = refused
        problem = problem_of(error) or {"title": "Row refused", "detail": str(error)}
        return RowResult(row.line, RowOutcome.FAILED, RowError(row.line, row.sku, problem))

    def _write(self, changes: Sequence[Change], results: Sequence[RowResult]) -> None:
        job = self.job
        before = job.snapshot()
        for result in results:
            job.record(result)
        job.version = before.version + 1
        errors = [r.error for r in results if r.error is not None]
        try:
            self.jobs.store.commit_rows(job, before.version, changes, errors)
        except BaseException:
            self.job = before
            raise

    def _finish(self, *, cancelled: bool = False, failed: str | None = None) -> Job:
        job = self.job
        before = job.version
        now = self.ctx.clock.now()
        if failed is not None:
            job.fail(failed, now)
        else:
            job.finish(now, cancelled=cancelled)
        job.version = before + 1
        event = job.finished_event(self.ctx.ids.new_id())
        self.jobs.store.commit_rows(job, before, [], [], [event])
        return job


def _job_of_key(jobs: JobsContext, merchant_id: str, key: str, fingerprint: str) -> Job | None:
    job = jobs.store.job_by_key(merchant_id, key)
    if job is not None and job.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key)
    return job


def _count_rows(job: Job, stream: IO[bytes]) -> int:
    if job.params["format"] == ImportFormat.JSONL.value:
        return count_jsonl_rows(stream)
    raise InvalidField("/format", "csv is not read yet")


def _rows(job: Job, stream: IO[bytes]) -> Iterator[ImportRow]:
    return jsonl_rows(stream)
