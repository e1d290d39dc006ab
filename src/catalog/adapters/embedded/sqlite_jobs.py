"""JobStore on the embedded SQLite file (tables `jobs` and `job_errors`, schema.sql).

A batch of a job's rows is one transaction of the SqliteStore it shares the file with: the
rows' product changes (each with its history and outbox rows), the job's record, conditioned
on its version, and the rows' errors. Killed at any point, the file holds the batch and the
progress after it, or neither.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from catalog.adapters.embedded.sqlite_store import SqliteStore, write_events
from catalog.adapters.job_documents import (
    job_from_document,
    job_to_document,
    row_error_from_document,
)
from catalog.adapters.product_documents import stored_change
from catalog.adapters.stored_values import compact_json
from catalog.domain.errors import IdempotencyKeyRaced, VersionConflict
from catalog.domain.events import DomainEvent
from catalog.domain.jobs import Job, JobKind, JobStatus, RowError
from catalog.domain.timestamps import format_time
from catalog.service.ports import Change, JobPage


class SqliteJobStore:
    #: Enough rows to pay for the commit many times over, few enough that a crash loses
    #: little work.
    rows_per_batch = 200

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def create_job(self, job: Job) -> None:
        def write(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO jobs (merchant_id, id, kind, status, version, idempotency_key,"
                    " doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        job.merchant_id,
                        job.id,
                        job.kind.value,
                        job.status.value,
                        job.version,
                        job.idempotency_key,
                        compact_json(job_to_document(job)),
                    ),
                )
            except sqlite3.IntegrityError:
                raise IdempotencyKeyRaced(job.idempotency_key or job.id) from None

        self._store.transaction(write, ())

    def job(self, merchant_id: str, job_id: str) -> Job | None:
        with self._store.reading() as db:
            row = db.execute(
                "SELECT doc, cancel_requested FROM jobs WHERE merchant_id = ? AND id = ?",
                (merchant_id, job_id),
            ).fetchone()
        return _job(row) if row else None

    def job_by_key(self, merchant_id: str, key: str) -> Job | None:
        with self._store.reading() as db:
            row = db.execute(
                "SELECT doc, cancel_requested FROM jobs"
                " WHERE merchant_id = ? AND idempotency_key = ?",
                (merchant_id, key),
            ).fetchone()
        return _job(row) if row else None

    def jobs(
        self,
        merchant_id: str,
        *,
        kind: JobKind | None,
        status: JobStatus | None,
        limit: int,
        position: str | None,
    ) -> JobPage:
        conditions, params = ["merchant_id = ?"], [merchant_id]
        if kind is not None:
            conditions.append("kind = ?")
            params.append(kind.value)
        if status is not None:
            conditions.append("status = ?")
            params.append(status.value)
        if position is not None:
            conditions.append("id < ?")
            params.append(position)
        sql = (
            f"SELECT doc, cancel_requested FROM jobs WHERE {' AND '.join(conditions)}"
            " ORDER BY id DESC LIMIT ?"
        )
        with self._store.reading() as db:
            rows = db.execute(sql, (*params, limit + 1)).fetchall()
        items = [_job(row) for row in rows[:limit]]
        return JobPage(items, items[-1].id if len(rows) > limit else None)

    def commit_rows(
        self,
        job: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        events: Sequence[DomainEvent] = (),
    ) -> None:
        stored = [stored_change(change) for change in changes]  # refused before any write

        def write(db: sqlite3.Connection) -> None:
            updated = db.execute(
                "UPDATE jobs SET status = ?, version = ?, doc = ?"
                " WHERE merchant_id = ? AND id = ? AND version = ?",
                (
                    job.status.value,
                    job.version,
                    compact_json(job_to_document(job)),
                    job.merchant_id,
                    job.id,
                    expected_version,
                ),
            )
            if updated.rowcount != 1:
                raise VersionConflict(job.id, expected_version)
            for change, encoded in zip(changes, stored, strict=True):
                self._store.write_change(db, change, encoded)
            db.executemany(
                "INSERT OR REPLACE INTO job_errors (merchant_id, job_id, line, doc)"
                " VALUES (?, ?, ?, ?)",
                [
                    (job.merchant_id, job.id, error.line, compact_json(error.to_json()))
                    for error in errors
                ],
            )
            write_events(db, tuple(events))

        every_event = tuple(e for change in changes for e in change.events) + tuple(events)
        self._store.transaction(write, every_event)

    def cancel(self, merchant_id: str, job_id: str, now: datetime) -> None:
        def write(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT doc FROM jobs WHERE merchant_id = ? AND id = ?", (merchant_id, job_id)
            ).fetchone()
            if row is None:
                return
            doc: dict[str, Any] = json.loads(row[0])
            if doc["status"] == JobStatus.QUEUED.value:
                doc.update(
                    status=JobStatus.CANCELLED.value,
                    version=doc["version"] + 1,
                    finished_at=format_time(now),
                )
                db.execute(
                    "UPDATE jobs SET status = ?, version = ?, doc = ?"
                    " WHERE merchant_id = ? AND id = ?",
                    (doc["status"], doc["version"], compact_json(doc), merchant_id, job_id),
                )
            elif doc["status"] == JobStatus.RUNNING.value:
                db.execute(
                    "UPDATE jobs SET cancel_requested = 1 WHERE merchant_id = ? AND id = ?",
                    (merchant_id, job_id),
                )

        self._store.transaction(write, ())

    def cancel_requested(self, merchant_id: str, job_id: str) -> bool:
        with self._store.reading() as db:
            row = db.execute(
                "SELECT cancel_requested FROM jobs WHERE merchant_id = ? AND id = ?",
                (merchant_id, job_id),
            ).fetchone()
        return bool(row and row[0])

    def job_errors(
        self, merchant_id: str, job_id: str, *, after_line: int, limit: int
    ) -> list[RowError]:
        with self._store.reading() as db:
            rows = db.execute(
                "SELECT doc FROM job_errors WHERE merchant_id = ? AND job_id = ? AND line > ?"
                " ORDER BY line LIMIT ?",
                (merchant_id, job_id, after_line, limit),
            ).fetchall()
        return [row_error_from_document(json.loads(row[0])) for row in rows]

    def unfinished_jobs(self) -> list[tuple[str, str]]:
        with self._store.reading() as db:
            rows = db.execute(
                "SELECT merchant_id, id FROM jobs WHERE status IN ('QUEUED', 'RUNNING') ORDER BY id"
            ).fetchall()
        return [(str(row[0]), str(row[1])) for row in rows]


def _job(row: tuple[str, int]) -> Job:
    return job_from_document(json.loads(row[0]), cancel_requested=bool(row[1]))
