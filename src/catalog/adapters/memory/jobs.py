"""An in-memory JobStore over a MemoryStore: a batch of a job's rows is written with the
store's own changes under its lock, all or nothing, as a database transaction would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from catalog.adapters.job_documents import (
    job_from_document,
    job_to_document,
    row_error_from_document,
)
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.product_documents import stored_change
from catalog.domain.errors import IdempotencyKeyRaced, VersionConflict
from catalog.domain.events import DomainEvent
from catalog.domain.jobs import Job, JobKind, JobStatus, RowError
from catalog.domain.timestamps import format_time
from catalog.service.ports import Change, JobPage


class MemoryJobStore:
    #: Enough rows to pay for the commit many times over, few enough that a crash loses
    #: little work.
    rows_per_batch = 200

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._cancel: set[tuple[str, str]] = set()
        self._errors: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def create_job(self, job: Job) -> None:
        with self._store.lock:
            if job.idempotency_key is not None:
                key = (job.merchant_id, job.idempotency_key)
                if key in self._keys:
                    raise IdempotencyKeyRaced(job.idempotency_key)
                self._keys[key] = job.id
            self._jobs[(job.merchant_id, job.id)] = job_to_document(job)

    def job(self, merchant_id: str, job_id: str) -> Job | None:
        with self._store.lock:
            doc = self._jobs.get((merchant_id, job_id))
            cancelled = (merchant_id, job_id) in self._cancel
        return job_from_document(doc, cancel_requested=cancelled) if doc else None

    def job_by_key(self, merchant_id: str, key: str) -> Job | None:
        with self._store.lock:
            job_id = self._keys.get((merchant_id, key))
        return self.job(merchant_id, job_id) if job_id else None

    def jobs(
        self,
        merchant_id: str,
        *,
        kind: JobKind | None,
        status: JobStatus | None,
        limit: int,
        position: str | None,
    ) -> JobPage:
        with self._store.lock:
            docs = sorted(
                (doc for (m, _), doc in self._jobs.items() if m == merchant_id),
                key=lambda doc: doc["id"],
                reverse=True,
            )
        selected = [
            doc
            for doc in docs
            if (position is None or doc["id"] < position)
            and (kind is None or doc["kind"] == kind.value)
            and (status is None or doc["status"] == status.value)
        ]
        items = [job_from_document(doc) for doc in selected[:limit]]
        return JobPage(items, items[-1].id if len(selected) > limit else None)

    def commit_rows(
        self,
        job: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        events: Sequence[DomainEvent] = (),
    ) -> None:
        for change in changes:
            stored_change(change)  # the same refusal as the other stores
        key = (job.merchant_id, job.id)
        with self._store.lock:
            stored = self._jobs.get(key)
            if stored is None or stored["version"] != expected_version:
                raise VersionConflict(job.id, expected_version)
            undo: list[Callable[[], None]] = []
            try:
                for change in changes:
                    self._store.commit_locked(change, undo)
            except BaseException:
                for step in reversed(undo):
                    step()
                raise
            self._jobs[key] = job_to_document(job)
            self._errors.setdefault(key, []).extend(error.to_json() for error in errors)
            self._store.append_events(events)

    def cancel(self, merchant_id: str, job_id: str, now: datetime) -> None:
        key = (merchant_id, job_id)
        with self._store.lock:
            doc = self._jobs.get(key)
            if doc is None:
                return
            if doc["status"] == JobStatus.QUEUED.value:
                doc = {**doc, "status": JobStatus.CANCELLED.value, "version": doc["version"] + 1}
                doc["finished_at"] = format_time(now)
                self._jobs[key] = doc
            elif doc["status"] == JobStatus.RUNNING.value:
                self._cancel.add(key)

    def cancel_requested(self, merchant_id: str, job_id: str) -> bool:
        with self._store.lock:
            return (merchant_id, job_id) in self._cancel

    def job_errors(
        self, merchant_id: str, job_id: str, *, after_line: int, limit: int
    ) -> list[RowError]:
        with self._store.lock:
            docs = [
                e for e in self._errors.get((merchant_id, job_id), []) if e["line"] > after_line
            ]
        return [row_error_from_document(doc) for doc in docs[:limit]]

    def unfinished_jobs(self) -> list[tuple[str, str]]:
        with self._store.lock:
            docs = [
                doc
                for doc in self._jobs.values()
                if doc["status"] in (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
            ]
        docs.sort(key=lambda doc: doc["id"])
        return [(doc["merchant_id"], doc["id"]) for doc in docs]
