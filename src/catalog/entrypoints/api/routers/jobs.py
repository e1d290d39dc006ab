"""Jobs (DESIGN.md section 11): start an import, follow a job, read its errors, cancel it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse

from catalog.domain import limits
from catalog.domain.jobs import ImportFormat, JobKind, JobStatus
from catalog.domain.timestamps import format_time
from catalog.entrypoints.api.deps import (
    JSON_MEDIA,
    IdempotencyKey,
    JsonBody,
    MerchantReader,
    MerchantWriter,
    jobs_of,
    json_body_reader,
)
from catalog.entrypoints.api.job_presenter import job_view
from catalog.entrypoints.api.job_schemas import (
    BulkActionRequest,
    ExportRequest,
    ImportUploadRequest,
    ImportUploadTicketView,
    JobKindName,
    JobPage,
    JobStatusName,
    JobView,
)
from catalog.entrypoints.api.problems import ApiProblem
from catalog.entrypoints.api.responses import ViewResponse, request_body
from catalog.entrypoints.api.routing import resource_router
from catalog.service import jobs as use_cases
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
from catalog.service.context import JobsContext
from catalog.service.jobs import Started

router = resource_router(prefix="/v1/merchants/{merchant_id}", tags=["jobs"])

NDJSON_MEDIA = use_cases.IMPORT_MEDIA[ImportFormat.JSONL]
CSV_MEDIA = use_cases.IMPORT_MEDIA[ImportFormat.CSV]
FORMAT_OF_MEDIA = {media: file_format for file_format, media in use_cases.IMPORT_MEDIA.items()}
MAX_INLINE_IMPORT_BYTES = limits.MAX_INLINE_IMPORT_BYTES
IMPORT_PATH_PATTERN = r"^/v1/merchants/[^/]+/imports$"
# An inline file is the whole body.
MAX_IMPORT_BODY_BYTES = MAX_INLINE_IMPORT_BYTES


_read_json = json_body_reader(JSON_MEDIA)


def _no_store(view: dict[str, object], status_code: int = 200, **headers: str) -> Response:
    return ViewResponse(
        view, status_code=status_code, headers={"Cache-Control": "no-store", **headers}
    )


@router.post(
    "/imports",
    status_code=202,
    response_model=JobView,
    summary="Import products",
    description=(
        f"The file is the body: `{NDJSON_MEDIA}` (one register body a line) or `{CSV_MEDIA}` "
        f"(docs/jobs.md), up to {MAX_INLINE_IMPORT_BYTES} bytes; or, for a larger file "
        "uploaded with a ticket (`POST .../imports/uploads`), `application/json` "
        '`{"upload_id", "format"}`. Each row is upserted by '
        "`sku` through the same rules as the API: a new SKU registers the product, a known "
        "one merge-patches the fields the row gives. A bad row writes nothing and is reported "
        "at its line; the others go on. The answer is the QUEUED job: follow it at its "
        "`Location`. With an `Idempotency-Key`, the same file again answers the same job."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                NDJSON_MEDIA: {"schema": {"type": "string", "format": "binary"}},
                CSV_MEDIA: {"schema": {"type": "string", "format": "binary"}},
                JSON_MEDIA: {"schema": {"$ref": "#/components/schemas/UploadedImport"}},
            },
        }
    },
)
async def import_products(
    request: Request, access: MerchantWriter, idempotency_key: IdempotencyKey = None
) -> Response:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    file_format = FORMAT_OF_MEDIA.get(media)
    jobs = jobs_of(request)
    if media == JSON_MEDIA:
        body = await _read_json(request)
        uploaded = StartImport.of_upload(access.merchant_id, body, idempotency_key)
        started = use_cases.start_import(access.ctx, jobs, access.principal, uploaded)
        return _started(request, jobs, started)
    if file_format is None:
        raise ApiProblem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"send the file as {NDJSON_MEDIA} or {CSV_MEDIA}, or {JSON_MEDIA} naming an upload",
        )
    content = await request.body()
    command = StartImport(access.merchant_id, file_format, content, idempotency_key)
    return _started(
        request, jobs, use_cases.start_import(access.ctx, jobs, access.principal, command)
    )


@router.post(
    "/imports/uploads",
    status_code=201,
    response_model=ImportUploadTicketView,
    summary="Upload a large import file",
    description=(
        "A ticket to upload an import file of up to "
        f"{limits.MAX_IMPORT_UPLOAD_BYTES} bytes straight to storage (S3 on AWS, the "
        "embedded server's `POST /assets`): POST a `multipart/form-data` form of the ticket's "
        "`fields` unchanged and the file in a `file` part to `url`, before `expires_at`, then "
        '`POST .../imports` with `{"upload_id", "format"}`. Nothing is written until then.'
    ),
    openapi_extra=request_body(ImportUploadRequest, JSON_MEDIA),
)
def request_import_upload(request: Request, access: MerchantWriter, body: JsonBody) -> Response:
    command = RequestImportUpload.from_json(access.merchant_id, body)
    ticket = use_cases.request_import_upload(
        access.ctx, jobs_of(request), access.principal, command
    )
    view = {
        "upload_id": ticket.upload_id,
        "url": ticket.url,
        "fields": ticket.fields,
        "expires_at": format_time(ticket.expires_at),
        "max_bytes": ticket.max_bytes,
    }
    return _no_store(view, 201)


@router.post(
    "/exports",
    status_code=202,
    response_model=JobView,
    summary="Export products",
    description=(
        "The merchant's products the `filter` keeps (`status`, `channel`, `product_type`), "
        "in id order, as JSON lines (`format: jsonl`; each line a register body, so the file "
        "imports again as all `unchanged`) or CSV. When the job SUCCEEDED its "
        "`download_url` serves the file (signed, no token needed, for a while)."
    ),
    openapi_extra=request_body(ExportRequest, JSON_MEDIA),
)
def export_products(
    request: Request, access: MerchantWriter, body: JsonBody, idempotency_key: IdempotencyKey = None
) -> Response:
    command = StartExport.from_json(access.merchant_id, body, idempotency_key)
    jobs = jobs_of(request)
    return _started(
        request, jobs, use_cases.start_export(access.ctx, jobs, access.principal, command)
    )


@router.post(
    "/bulk-actions",
    status_code=202,
    response_model=JobView,
    summary="Act on many products",
    description=(
        "`publish` or `unpublish` on `channel`, or a `status` change, for each product `ids` "
        "names (up to 10000) or the `filter` keeps, with the API's rules for each product "
        "(a product the rule refuses is a `failed` row with its problem; the others go on). "
        "When the job ends, `download_url` serves each product's outcome as JSON lines."
    ),
    openapi_extra=request_body(BulkActionRequest, JSON_MEDIA),
)
def bulk_action(
    request: Request, access: MerchantWriter, body: JsonBody, idempotency_key: IdempotencyKey = None
) -> Response:
    command = StartBulkAction.from_json(access.merchant_id, body, idempotency_key)
    jobs = jobs_of(request)
    started = use_cases.start_bulk_action(access.ctx, jobs, access.principal, command)
    return _started(request, jobs, started)


def _started(request: Request, jobs: JobsContext, started: Started) -> Response:
    view = job_view(started.job, jobs.files, request.scope.get("root_path", ""))
    headers = {"Location": view["errors_url"].removesuffix("/errors")}
    if started.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _no_store(view, 202, **headers)


@router.get(
    "/jobs",
    response_model=JobPage,
    summary="List jobs",
    description="The merchant's jobs, newest first, one page at a time.",
)
def list_jobs(
    request: Request,
    access: MerchantReader,
    kind: Annotated[JobKindName | None, Query(description="Only jobs of this kind.")] = None,
    status: Annotated[JobStatusName | None, Query(description="Only jobs in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=limits.MAX_PAGE_SIZE)] = limits.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
) -> Response:
    query = ListJobs(
        access.merchant_id,
        JobKind(kind) if kind else None,
        JobStatus(status) if status else None,
        limit,
        cursor,
    )
    jobs = jobs_of(request)
    page = use_cases.list_jobs(access.ctx, jobs, access.principal, query)
    root = request.scope.get("root_path", "")
    items = [job_view(job, jobs.files, root) for job in page.items]
    return _no_store({"items": items, "next_cursor": page.next_cursor})


@router.get(
    "/jobs/{job_id}",
    response_model=JobView,
    summary="Get a job",
    description="The job's status and counters (they only grow) and its first 100 row errors.",
)
def get_job(request: Request, access: MerchantReader, job_id: str) -> Response:
    jobs = jobs_of(request)
    job = use_cases.get_job(jobs, access.principal, GetJob(access.merchant_id, job_id))
    return _no_store(job_view(job, jobs.files, request.scope.get("root_path", "")))


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobView,
    summary="Cancel a job",
    description=(
        "A QUEUED job is CANCELLED at once; a RUNNING one stops after the rows it is writing "
        "(what it wrote stays); a finished job is left as it is. Safe to repeat."
    ),
)
def cancel_job(request: Request, access: MerchantWriter, job_id: str) -> Response:
    command = CancelJob(access.merchant_id, job_id)
    jobs = jobs_of(request)
    job = use_cases.cancel_job(access.ctx, jobs, access.principal, command)
    return _no_store(job_view(job, jobs.files, request.scope.get("root_path", "")))


@router.get(
    "/jobs/{job_id}/errors",
    summary="A job's row errors",
    description="Every row error of the job, in line order, as JSON lines "
    '(`{"line", "sku", "problem"}`).',
    responses={200: {"content": {NDJSON_MEDIA: {"schema": {"type": "string"}}}}},
)
def job_errors(request: Request, access: MerchantReader, job_id: str) -> Response:
    query = ReadJobErrors(access.merchant_id, job_id)
    errors = use_cases.job_errors(jobs_of(request), access.principal, query)
    first = next(errors, None)  # a 404 for an unknown job before the stream starts

    def lines() -> Iterator[bytes]:
        if first is None:
            return
        yield (json.dumps(first.to_json()) + "\n").encode()
        for error in errors:
            yield (json.dumps(error.to_json()) + "\n").encode()

    return StreamingResponse(
        lines(), media_type=NDJSON_MEDIA, headers={"Cache-Control": "no-store"}
    )
