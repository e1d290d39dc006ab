"""Jobs as the JSON documents every store keeps (and the API's view is mapped from the Job,
not from these)."""

from __future__ import annotations

from typing import Any

from catalog.domain.jobs import Job, JobKind, JobStatus, RowError
from catalog.domain.timestamps import format_time, parse_time

Document = dict[str, Any]

#: Version 1: the first. A later shape adds an upgrade step, as product documents do.
JOB_SCHEMA = 1


def job_to_document(job: Job) -> Document:
    return {
        "schema": JOB_SCHEMA,
        "id": job.id,
        "merchant_id": job.merchant_id,
        "kind": job.kind.value,
        "status": job.status.value,
        "params": dict(job.params),
        "started_by": dict(job.started_by),
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "failed": job.failed,
        "errors": [error.to_json() for error in job.errors],
        "position": job.position,
        "resume_after": job.resume_after,
        "output_key": job.output_key,
        "output_bytes": job.output_bytes,
        "message": job.message,
        "created_at": format_time(job.created_at),
        "finished_at": format_time(job.finished_at) if job.finished_at else None,
        "version": job.version,
        "idempotency_key": job.idempotency_key,
        "fingerprint": job.fingerprint,
        "chunks": job.chunks,
    }


def job_from_document(doc: Document, *, cancel_requested: bool = False) -> Job:
    finished_at = doc.get("finished_at")
    return Job(
        id=doc["id"],
        merchant_id=doc["merchant_id"],
        kind=JobKind(doc["kind"]),
        created_at=parse_time(doc["created_at"]),
        params=doc.get("params") or {},
        started_by=doc.get("started_by") or {},
        status=JobStatus(doc["status"]),
        total=doc.get("total"),
        processed=doc["processed"],
        created=doc["created"],
        updated=doc["updated"],
        unchanged=doc["unchanged"],
        failed=doc["failed"],
        errors=[row_error_from_document(e) for e in doc.get("errors") or []],
        position=doc["position"],
        resume_after=doc.get("resume_after"),
        output_key=doc.get("output_key"),
        output_bytes=doc.get("output_bytes", 0),
        message=doc.get("message"),
        finished_at=parse_time(finished_at) if finished_at else None,
        version=doc["version"],
        idempotency_key=doc.get("idempotency_key"),
        fingerprint=doc.get("fingerprint"),
        cancel_requested=cancel_requested,
        chunks=doc.get("chunks", 0),
    )


def row_error_from_document(doc: Document) -> RowError:
    return RowError(line=doc["line"], sku=doc.get("sku"), problem=doc["problem"])
