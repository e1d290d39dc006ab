"""A Job as the API shows it (schema JobView in job_schemas.py)."""

from __future__ import annotations

from typing import Any

from catalog.domain.jobs import Job, JobKind, JobStatus
from catalog.domain.timestamps import format_time
from catalog.service.ports import JobFiles


def job_view(job: Job, files: JobFiles, root_path: str = "") -> dict[str, Any]:
    """`download_url` once the job's output is whole: an export that SUCCEEDED, a bulk
    action's outcomes once it ended."""
    jobs_url = f"{root_path}/v1/merchants/{job.merchant_id}/jobs/{job.id}"
    return {
        "id": job.id,
        "kind": job.kind.value,
        "status": job.status.value,
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "failed": job.failed,
        "errors": [error.to_json() for error in job.errors],
        "errors_url": f"{jobs_url}/errors",
        "download_url": _download_url(job, files),
        "message": job.message,
        "created_at": format_time(job.created_at),
        "finished_at": format_time(job.finished_at) if job.finished_at else None,
    }


def _download_url(job: Job, files: JobFiles) -> str | None:
    if job.output_key is None or not job.status.finished:
        return None
    if job.kind is JobKind.EXPORT and job.status is not JobStatus.SUCCEEDED:
        return None
    return files.download_url(job.output_key)
