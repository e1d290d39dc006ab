"""Jobs: the merchant's jobs, an import started from a file, an export, and a job's page with
its live progress (an htmx fragment polled while the job runs), its errors and its download."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from catalog.domain import limits
from catalog.domain.errors import DomainError, InvalidCursor, InvalidField, JobNotFound
from catalog.domain.jobs import ImportFormat, Job, JobKind, RowError, parse_import_format
from catalog.domain.lifecycle import Status
from catalog.entrypoints.api.job_presenter import job_view
from catalog.entrypoints.console.web import Console, Form, FormErrors, Page, text
from catalog.service import jobs as use_cases
from catalog.service.commands import (
    CancelJob,
    GetJob,
    ListJobs,
    ReadJobErrors,
    RequestImportUpload,
    StartExport,
    StartImport,
)
from catalog.service.context import JobsContext
from catalog.service.problems import problem_of

router = APIRouter()

PAGE_SIZE = 25
#: The row errors a job's page shows; the rest are behind "All errors".
SHOWN_ERRORS = 20
FORMATS = [file_format.value for file_format in ImportFormat]
STATUSES = [status.value for status in Status]
# The names `catalog import` reads a format from, too.
FORMAT_OF_SUFFIX = {".jsonl": ImportFormat.JSONL, ".ndjson": ImportFormat.JSONL}
FORMAT_OF_SUFFIX[".csv"] = ImportFormat.CSV
MAX_INLINE_MB = limits.MAX_INLINE_IMPORT_BYTES // (1024 * 1024)

IMPORT_INPUTS = {"/format": "format", "/content": "file", "/upload_id": "file"}
EXPORT_INPUTS = {"/format": "export_format", "/filter/status": "status", "/filter": "status"}
NOTICES = {
    "cancelled": "Cancellation requested: the job stops after the rows it is writing.",
}


# ------------------------------------------------------------------ the list and its forms


@router.get("/jobs", response_class=HTMLResponse)
async def job_list(console: Page, cursor: str = "") -> Response:
    return _list_page(console, cursor=cursor)


def _list_page(
    console: Console,
    *,
    cursor: str = "",
    import_errors: FormErrors | None = None,
    export_errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    import_errors = import_errors or FormErrors()
    export_errors = export_errors or FormErrors()
    refused = import_errors or export_errors
    status_code = refused.status if refused else 200
    rows: list[dict[str, Any]] = []
    next_url = None
    jobs = console.jobs
    if jobs is not None:
        query = ListJobs(console.merchant_id, limit=PAGE_SIZE, cursor=cursor or None)
        try:
            page = use_cases.list_jobs(console.ctx, jobs, console.principal, query)
        except InvalidCursor:  # from another list, or tampered with: the first page
            page = use_cases.list_jobs(
                console.ctx, jobs, console.principal, ListJobs(console.merchant_id, limit=PAGE_SIZE)
            )
        rows = [_job_row(console, jobs, job) for job in page.items]
        if page.next_cursor:
            next_url = console.url("/jobs", cursor=page.next_cursor)
    return console.render(
        "jobs.html",
        status_code=status_code if jobs is not None else 404,
        runs_jobs=jobs is not None,
        jobs=rows,
        next_url=next_url,
        formats=FORMATS,
        statuses=STATUSES,
        # A key for each form: the same key for an import and an export would be refused.
        keys={"import": secrets.token_urlsafe(16), "export": secrets.token_urlsafe(16)},
        values=values or {},
        import_errors=import_errors,
        export_errors=export_errors,
        max_inline_mb=MAX_INLINE_MB,
        max_inline_bytes=limits.MAX_INLINE_IMPORT_BYTES,
    )


@router.post("/jobs/imports", response_class=HTMLResponse)
async def start_import(console: Form) -> Response:
    jobs = console.jobs
    if jobs is None:
        return _list_page(console)
    form = await console.request.form()
    chosen = text(form, "format")
    upload = form.get("file")
    chose_a_file = isinstance(upload, UploadFile) and bool(upload.filename)
    try:
        if text(form, "upload_id") and not chose_a_file:
            return _start_uploaded(console, jobs, text(form, "upload_id"), chosen, form)
        if not isinstance(upload, UploadFile) or not chose_a_file:
            raise InvalidField("/content", "is required: choose a JSONL or CSV file")
        file_format = _format_of(upload.filename or "", chosen)
        if upload.size is not None and upload.size > limits.MAX_INLINE_IMPORT_BYTES:
            raise InvalidField("/content", f"is larger than {MAX_INLINE_MB} MB")
        content = await upload.read()
        if not content.strip():
            raise InvalidField("/content", "is empty")
        command = StartImport(
            console.merchant_id,
            file_format,
            content,
            idempotency_key=text(form, "idempotency_key") or None,
        )
        started = use_cases.start_import(console.ctx, jobs, console.principal, command)
    except DomainError as error:
        errors = FormErrors.of(error, IMPORT_INPUTS)
        return _list_page(console, import_errors=errors, values={"format": chosen})
    return console.redirect(f"/jobs/{started.job.id}")


def _start_uploaded(
    console: Console, jobs: JobsContext, upload_id: str, chosen: str, form: FormData
) -> Response:
    """The import of a file console.js uploaded with a ticket (a file too large to post)."""
    body = {"upload_id": upload_id, "format": chosen or ImportFormat.JSONL.value}
    command = StartImport.of_upload(
        console.merchant_id, body, idempotency_key=text(form, "idempotency_key") or None
    )
    started = use_cases.start_import(console.ctx, jobs, console.principal, command)
    return console.redirect(f"/jobs/{started.job.id}")


@router.post("/jobs/imports/uploads")
async def import_upload_ticket(console: Form) -> Response:
    """Where console.js uploads a file over the inline limit: `{"name", "format", "size"}`
    -> the ticket, and the format the import will be read in (or a message to show)."""
    jobs = _jobs_of(console, "uploads")
    try:
        asked = await console.request.json()
        if not isinstance(asked, dict):
            raise InvalidField("", "must be a JSON object")
        file_format = _format_of(str(asked.get("name", "")), str(asked.get("format") or ""))
        command = RequestImportUpload.from_json(
            console.merchant_id, {"format": file_format.value, "size": asked.get("size")}
        )
        ticket = use_cases.request_import_upload(console.ctx, jobs, console.principal, command)
    except ValueError:
        return JSONResponse({"message": "The upload could not be asked for."}, 422)
    except DomainError as error:
        return JSONResponse({"message": _message_of(error)}, 422)
    view = {"upload_id": ticket.upload_id, "url": ticket.url, "fields": ticket.fields}
    return JSONResponse({**view, "format": file_format.value})


def _message_of(error: DomainError) -> str:
    if isinstance(error, InvalidField):
        labels = {"/format": "Format", "/size": "File size"}
        return "; ".join(
            f"{labels.get(item.field, 'File')} {item.message}" for item in error.fields
        )
    problem = problem_of(error) or {}
    return str(problem.get("detail") or problem.get("title") or "Refused")


def _format_of(filename: str, chosen: str) -> ImportFormat:
    """The format chosen, else the one the file's name says."""
    if chosen:
        return parse_import_format(chosen)
    by_name = FORMAT_OF_SUFFIX.get(PurePath(filename).suffix.lower())
    if by_name is None:
        raise InvalidField("/format", "cannot be told from the file's name: choose JSONL or CSV")
    return by_name


@router.post("/jobs/exports", response_class=HTMLResponse)
async def start_export(console: Form) -> Response:
    jobs = console.jobs
    if jobs is None:
        return _list_page(console)
    form = await console.request.form()
    values = {"export_format": text(form, "export_format"), "status": text(form, "status")}
    body: dict[str, Any] = {"format": values["export_format"] or ImportFormat.JSONL.value}
    if values["status"]:
        body["filter"] = {"status": values["status"]}
    try:
        command = StartExport.from_json(
            console.merchant_id, body, idempotency_key=text(form, "idempotency_key") or None
        )
        started = use_cases.start_export(console.ctx, jobs, console.principal, command)
    except DomainError as error:
        errors = FormErrors.of(error, EXPORT_INPUTS)
        return _list_page(console, export_errors=errors, values=values)
    return console.redirect(f"/jobs/{started.job.id}")


# ------------------------------------------------------------------ one job


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(console: Page, job_id: str, notice: str = "") -> Response:
    jobs = _jobs_of(console, job_id)
    job = use_cases.get_job(jobs, console.principal, GetJob(console.merchant_id, job_id))
    return console.render(
        "job.html", **_progress(console, jobs, job), notice=NOTICES.get(notice, "")
    )


@router.get("/jobs/{job_id}/progress", response_class=HTMLResponse)
async def job_progress(console: Page, job_id: str) -> Response:
    """The live part of the job's page: the page's htmx polls it until the job finishes."""
    jobs = _jobs_of(console, job_id)
    job = use_cases.get_job(jobs, console.principal, GetJob(console.merchant_id, job_id))
    return console.render("job_progress.html", **_progress(console, jobs, job), polled=True)


@router.get("/jobs/{job_id}/errors")
async def job_errors(console: Page, job_id: str) -> Response:
    """Every row error, as JSON lines (the API's errors_url needs a bearer token)."""
    jobs = _jobs_of(console, job_id)
    errors = use_cases.job_errors(
        jobs, console.principal, ReadJobErrors(console.merchant_id, job_id)
    )
    first = next(errors, None)  # an unknown job is a 404 page before the stream starts

    def lines() -> Iterator[bytes]:
        if first is not None:
            yield _json_line(first)
            for error in errors:
                yield _json_line(error)

    name = f"job-{job_id}-errors.jsonl"
    return StreamingResponse(
        lines(),
        media_type=use_cases.IMPORT_MEDIA[ImportFormat.JSONL],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _json_line(error: RowError) -> bytes:
    return (json.dumps(error.to_json(), ensure_ascii=False) + "\n").encode()


@router.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
async def cancel_job(console: Form, job_id: str) -> Response:
    jobs = _jobs_of(console, job_id)
    use_cases.cancel_job(
        console.ctx, jobs, console.principal, CancelJob(console.merchant_id, job_id)
    )
    return console.redirect(f"/jobs/{job_id}", notice="cancelled")


def _jobs_of(console: Console, job_id: str) -> JobsContext:
    if console.jobs is None:
        raise JobNotFound(job_id)  # no jobs here: no job is
    return console.jobs


# ------------------------------------------------------------------ what the pages show


def _job_row(console: Console, jobs: JobsContext, job: Job) -> dict[str, Any]:
    view = job_view(job, jobs.files, console.request.scope.get("root_path", ""))
    return {
        **view,
        "created_label": _moment(job.created_at),
        "format": job.params.get("format", ""),
        "filter": job.params.get("filter") or {},
        "finished": job.status.finished,
        "url": console.url(f"/jobs/{job.id}"),
    }


def _progress(console: Console, jobs: JobsContext, job: Job) -> dict[str, Any]:
    """The job as its page shows it: counters, bar, rate, first errors, download."""
    row = _job_row(console, jobs, job)
    total = job.total
    if job.status.finished:
        total = total if total is not None else job.processed
    return {
        "job": row,
        "kind_label": KIND_LABELS[job.kind],
        # No total yet: an indeterminate bar. An empty file's job is a full one.
        "bar": None if total is None else (min(job.processed, total), total) if total else (1, 1),
        "rows_text": _rows_text(job, total),
        "rate": _rate(console, job),
        "finished_label": _moment(job.finished_at) if job.finished_at else "",
        "shown_errors": [_error_row(error) for error in job.errors[:SHOWN_ERRORS]],
        "errors_url": console.url(f"/jobs/{job.id}/errors"),
        "progress_url": console.url(f"/jobs/{job.id}/progress"),
        "cancel_url": console.url(f"/jobs/{job.id}/cancel"),
    }


KIND_LABELS = {
    JobKind.IMPORT: "Import",
    JobKind.EXPORT: "Export",
    JobKind.BULK_ACTION: "Bulk action",
}


def _rows_text(job: Job, total: int | None) -> str:
    if total is None:
        if job.kind is JobKind.IMPORT:
            return "Counting the file's rows…" if job.processed == 0 else f"{job.processed} rows"
        return f"{job.processed} rows so far"
    return f"{job.processed} of {total} rows"


def _rate(console: Console, job: Job) -> str:
    """Rows a second since the job was started (its time queued included)."""
    end = job.finished_at or console.ctx.clock.now()
    seconds = (end - job.created_at).total_seconds()
    if job.processed == 0 or seconds <= 0:
        return ""
    return f"{job.processed / seconds:,.0f} rows/s"


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _error_row(error: RowError) -> dict[str, Any]:
    """A row's problem as a person reads it: the title, each field with its message."""
    problem = error.problem
    fields = [
        {"pointer": str(item.get("field", "")), "message": str(item.get("message", ""))}
        for item in problem.get("errors") or ()
        if isinstance(item, dict)
    ]
    fields += [
        {"pointer": str(pointer), "message": "is required"}
        for pointer in problem.get("missing") or ()
    ]
    return {
        "line": error.line,
        "sku": error.sku or "",
        "title": str(problem.get("title", "Refused")),
        # An invalid row's detail lists its fields again: they are shown one by one.
        "detail": "" if fields else str(problem.get("detail", "")),
        "fields": fields,
    }
