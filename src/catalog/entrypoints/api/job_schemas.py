"""The HTTP shapes of jobs (DESIGN.md section 11), for the OpenAPI document: the job view,
a page of jobs, a row error. The presenter (job_presenter.py) maps a Job to these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.entrypoints.api.schemas import ProductStatus

JobKindName = Literal["import", "export", "bulk_action"]
JobStatusName = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]

JOB_EXAMPLE: dict[str, Any] = {
    "id": "01JE2K4Q8ZP0N5V7W9X1Y3Z5A7",
    "kind": "import",
    "status": "RUNNING",
    "total": 20000,
    "processed": 12400,
    "created": 12000,
    "updated": 350,
    "unchanged": 40,
    "failed": 10,
    "errors": [
        {
            "line": 17,
            "sku": "TS-17",
            "problem": {
                "type": "/problems/validation-error",
                "title": "Invalid request",
                "status": 422,
                "detail": "/name: is required",
                "errors": [{"field": "/name", "in": "body", "message": "is required"}],
            },
        }
    ],
    "errors_url": "/v1/merchants/acme/jobs/01JE2K4Q8ZP0N5V7W9X1Y3Z5A7/errors",
    "download_url": None,
    "message": None,
    "created_at": "2026-12-03T09:00:00.000Z",
    "finished_at": None,
}


class RowErrorView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    line: int = Field(
        description="1-based line of the file where the row starts (CSV: counting the header)."
    )
    sku: str | None = Field(description="The SKU the row names, when it names one.")
    problem: dict[str, Any] = Field(
        description="The problem document the API answers for the same request.",
        examples=[JOB_EXAMPLE["errors"][0]["problem"]],
    )


class JobView(BaseModel):
    model_config = ConfigDict(defer_build=True, json_schema_extra={"examples": [JOB_EXAMPLE]})

    id: str
    kind: JobKindName
    status: JobStatusName
    total: int | None = Field(description="Rows the job has; null until it has counted them.")
    processed: int = Field(description="Rows done, whatever their outcome; it only grows.")
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[RowErrorView] = Field(description="The first 100 row errors; all at errors_url.")
    errors_url: str = Field(description="Every row error, as JSON lines (GET, same token).")
    download_url: str | None = Field(description="An export's file, once it SUCCEEDED.")
    message: str | None = Field(description="Why the job FAILED (the job itself, not a row).")
    created_at: datetime
    finished_at: datetime | None


class JobPage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: list[JobView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: last.")


class ProductFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    status: ProductStatus | None = None
    channel: str | None = Field(None, description="Products listed (or being listed) there.")
    product_type: str | None = Field(None, description="Products of this type (its key).")


class ExportRequest(BaseModel):
    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        json_schema_extra={"examples": [{"format": "jsonl", "filter": {"status": "ACTIVE"}}]},
    )

    format: Literal["jsonl", "csv"] = "jsonl"
    filter: ProductFilter | None = None


class BulkActionRequest(BaseModel):
    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"action": "publish", "channel": "mercadolibre", "filter": {"status": "READY"}}
            ]
        },
    )

    action: Literal["publish", "unpublish", "status"]
    channel: str | None = Field(None, description="For publish and unpublish.")
    status: Literal["DRAFT", "READY", "INACTIVE"] | None = Field(None, description="For status.")
    ids: list[str] | None = Field(None, max_length=10_000, description="Product ids; or a filter.")
    filter: ProductFilter | None = None


class ImportUploadRequest(BaseModel):
    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        json_schema_extra={"examples": [{"format": "csv", "size": 734003200}]},
    )

    format: Literal["jsonl", "csv"] = "jsonl"
    size: int = Field(ge=1, description="The file's size in bytes: the most the ticket takes.")


class UploadedImport(BaseModel):
    """An import of a file uploaded with a ticket of `POST .../imports/uploads`."""

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        json_schema_extra={"examples": [{"upload_id": JOB_EXAMPLE["id"], "format": "csv"}]},
    )

    upload_id: str
    format: Literal["jsonl", "csv"] = "jsonl"


class ImportUploadTicketView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    upload_id: str
    url: str = Field(description="Where to POST the form.")
    fields: dict[str, str] = Field(
        description="Form fields to send unchanged, before the `file` part.",
        examples=[{"key": "jobs/acme/uploads/01JE….csv", "policy": "…", "signature": "…"}],
    )
    expires_at: datetime
    max_bytes: int


REQUEST_BODY_MODELS: tuple[type[BaseModel], ...] = (
    ExportRequest,
    BulkActionRequest,
    ImportUploadRequest,
    UploadedImport,
)
