"""A Job as the API shows it (schema JobView in job_schemas.py)."""

from __future__ import annotations

from typing import Any

from catalog.domain.jobs import Job
from catalog.domain.timestamps import format_time


def job_view(job: Job, root_path: str = "") -> dict[str, Any]:
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
        "download_url": None,
        "message": job.message,
        "created_at": format_time(job.created_at),
        "finished_at": format_time(job.finished_at) if job.finished_at else None,
    }
