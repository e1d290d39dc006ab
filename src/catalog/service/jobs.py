"""Use cases of jobs (DESIGN.md section 11): start an import, an export or a bulk action,
read jobs and their errors, cancel one; and `run_job`, what a worker does with a job it is
given (job_runs.py).

Starting a job stores it QUEUED and hands it to the queue; with an Idempotency-Key the same
request again answers the job the first one started (the key with another request: 422).
The store and the queue are two writes: when the queue refuses the job (SQS unavailable past
its retries), the request fails with the job stored QUEUED, and its retry with the same key
hands that job to the queue again. A job still QUEUED is handed on at every replay, as the
worker takes a job it is given twice as once (a finished job is left alone; two runs of one
job meet in a version conflict), and the FIFO queue drops the copy within five minutes.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct

from catalog.domain import limits
from catalog.domain.errors import (
    IdempotencyKeyRaced,
    IdempotencyKeyReused,
    InvalidField,
    JobNotFound,
)
from catalog.domain.jobs import ImportFormat, Job, JobKind, JobStatus, RowError
from catalog.service.commands import (
    CancelJob,
    GetJob,
    ListJobs,
    ReadJobErrors,
    RequestImportUpload,
    StartBulkAction,
    StartExport,
    StartImport,
)
from catalog.service.context import CatalogContext, JobsContext
from catalog.service.principals import Principal, require_read, require_write


class Started(Struct, frozen=True):
    job: Job
    replayed: bool  # True when an Idempotency-Key retry returned the first request's job


class JobListing(Struct, frozen=True):
    items: list[Job]
    next_cursor: str | None


class ImportUploadTicket(Struct, frozen=True):
    """How to upload an import file: POST `fields` plus a `file` part to `url` before
    `expires_at`, at most `max_bytes` bytes; then `POST .../imports {"upload_id"}`."""

    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


#: How long an import upload ticket may be used: room for a large file on a slow line.
IMPORT_UPLOAD_TICKET_SECONDS = 6 * 3600


def upload_key(merchant_id: str, upload_id: str, file_format: ImportFormat) -> str:
    """Where the file of an import upload lands, among the job files. Derived, not stored:
    a merchant can only ever import its own uploads."""
    return f"{merchant_id}/uploads/{upload_id}.{file_format.value}"


def request_import_upload(
    ctx: CatalogContext, jobs: JobsContext, principal: Principal, command: RequestImportUpload
) -> ImportUploadTicket:
    """A ticket to upload an import file straight to storage; nothing is written."""
    require_write(principal, command.merchant_id)
    upload_id = ctx.ids.new_id()
    key = upload_key(command.merchant_id, upload_id, command.format)
    media = IMPORT_MEDIA[command.format]
    url, fields = jobs.files.upload_ticket(key, media, command.size, IMPORT_UPLOAD_TICKET_SECONDS)
    expires_at = ctx.clock.now() + timedelta(seconds=IMPORT_UPLOAD_TICKET_SECONDS)
    return ImportUploadTicket(upload_id, url, fields, expires_at, command.size)


#: The media type of each file format, as a file is sent and uploaded.
IMPORT_MEDIA = {ImportFormat.JSONL: "application/x-ndjson", ImportFormat.CSV: "text/csv"}


def start_import(
    ctx: CatalogContext, jobs: JobsContext, principal: Principal, command: StartImport
) -> Started:
    """Keep the file (or find the uploaded one) and queue the job."""
    params = {"format": command.format.value}
    if command.upload_id is not None:
        key = upload_key(command.merchant_id, command.upload_id, command.format)
        params["input_key"] = key
        fingerprint = f"upload:{key}"
        require_write(principal, command.merchant_id)
        try:
            jobs.files.open(key).close()
        except FileNotFoundError:
            raise InvalidField(
                "/upload_id", "no file was uploaded with this ticket (or in this format)"
            ) from None
        return _start(
            ctx,
            jobs,
            principal,
            command.merchant_id,
            JobKind.IMPORT,
            params,
            fingerprint,
            command.idempotency_key,
        )
    content = command.content or b""
    fingerprint = hashlib.sha256(content).hexdigest()

    def keep_file(job: Job) -> None:
        jobs.files.save(job.input_key(), io.BytesIO(content))

    return _start(
        ctx,
        jobs,
        principal,
        command.merchant_id,
        JobKind.IMPORT,
        params,
        fingerprint,
        command.idempotency_key,
        keep_file,
    )


def start_export(
    ctx: CatalogContext, jobs: JobsContext, principal: Principal, command: StartExport
) -> Started:
    """The merchant's products the filter keeps, to a file at the job's download_url."""
    params = {"format": command.format.value, "filter": dict(command.filter)}
    return _start(
        ctx,
        jobs,
        principal,
        command.merchant_id,
        JobKind.EXPORT,
        params,
        _fingerprint(params),
        command.idempotency_key,
    )


def start_bulk_action(
    ctx: CatalogContext, jobs: JobsContext, principal: Principal, command: StartBulkAction
) -> Started:
    """One use case for each product `ids` or the filter names, with the API's rules."""
    params: dict[str, Any] = {"action": command.action}
    if command.channel is not None:
        params["channel"] = command.channel
    if command.status is not None:
        params["status"] = command.status.value
    if command.ids is not None:
        params["ids"] = sorted(set(command.ids))  # the walk goes in id order, as for a filter
    else:
        params["filter"] = dict(command.filter)
    return _start(
        ctx,
        jobs,
        principal,
        command.merchant_id,
        JobKind.BULK_ACTION,
        params,
        _fingerprint(params),
        command.idempotency_key,
    )


def _start(
    ctx: CatalogContext,
    jobs: JobsContext,
    principal: Principal,
    merchant_id: str,
    kind: JobKind,
    params: Mapping[str, Any],
    fingerprint: str,
    key: str | None,
    prepare: Callable[[Job], None] = lambda job: None,
) -> Started:
    require_write(principal, merchant_id)
    # The kind is part of what was asked: the key of an import reused for an export is a 422.
    fingerprint = f"{kind.value}:{fingerprint}"
    if key is not None:
        existing = _job_of_key(jobs, merchant_id, key, fingerprint)
        if existing is not None:
            return _replayed(jobs, existing)
    job = Job(
        id=ctx.ids.new_id(),
        merchant_id=merchant_id,
        kind=kind,
        created_at=ctx.clock.now(),
        params=params,
        started_by={
            "subject": principal.subject,
            "merchant_id": principal.merchant_id,
            "roles": sorted(principal.roles),
        },
        idempotency_key=key,
        fingerprint=fingerprint,
    )
    prepare(job)
    try:
        jobs.store.create_job(job)
    except IdempotencyKeyRaced:
        assert key is not None
        raced = _job_of_key(jobs, merchant_id, key, fingerprint)
        if raced is None:
            raise
        return _replayed(jobs, raced)
    jobs.queue.enqueue(merchant_id, job.id)
    return Started(job, replayed=False)


def _replayed(jobs: JobsContext, job: Job) -> Started:
    """The job a retry's key names; if it was never handed on (the first request failed
    between the store and the queue), it is now."""
    if job.status is JobStatus.QUEUED:
        jobs.queue.enqueue(job.merchant_id, job.id)
    return Started(job, replayed=True)


def _fingerprint(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


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
    batch_size: int | None = None,
    stopping: Callable[[], bool] = lambda: False,
    chunk: int | None = None,
) -> Job | None:
    """Run the job from where it stands to its end (or until `stopping()` says the process
    is going down: the job then stays RUNNING, to be resumed). None for an unknown job.

    With `chunk`, that chunk of a split import (its record: the chunk's own counters and
    version, not the job's); where imports are split, a job cut into chunks returns RUNNING
    once their messages are sent."""
    size = batch_size or jobs.store.rows_per_batch
    if chunk is not None:
        return _run_chunk(ctx, jobs, merchant_id, job_id, chunk, size, stopping)
    job = jobs.store.job(merchant_id, job_id)
    if job is None or job.status.finished:
        return job
    # Only a worker runs jobs: the API's cold path never loads the runners.
    from catalog.service import job_runs

    return job_runs.run(ctx, jobs, job, size, stopping)


def _run_chunk(
    ctx: CatalogContext,
    jobs: JobsContext,
    merchant_id: str,
    job_id: str,
    number: int,
    batch_size: int,
    stopping: Callable[[], bool],
) -> Job | None:
    chunking = jobs.chunking
    if chunking is None:
        raise ValueError("this backend runs every job as one: it has no chunks")
    record = chunking.store.chunk(merchant_id, job_id, number)
    if record is None:
        # Never committed yet: made from the job and its range, as the job's cut wrote them.
        parent = jobs.store.job(merchant_id, job_id)
        span = chunking.store.chunk_range(merchant_id, job_id, number)
        if parent is None or span is None:
            return None
        record = parent.chunk_of(span)
    if record.status.finished:
        return record
    from catalog.service import job_runs

    return job_runs.run_chunk(ctx, jobs, record, batch_size, stopping)


def _job_of_key(jobs: JobsContext, merchant_id: str, key: str, fingerprint: str) -> Job | None:
    job = jobs.store.job_by_key(merchant_id, key)
    if job is not None and job.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key)
    return job
