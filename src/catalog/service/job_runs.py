"""What a worker does with a job: an import's rows, an export's products, a bulk action's
products, each a batch at a time.

Every batch is written in one transaction with the job's progress (JobStore.commit_rows): the
rows' product changes, the counters, where the job stands (`position`, `resume_after`, the
bytes of its output) and the rows' errors. A worker that dies loses only the batch it had not
written; the next run cuts the output back to the committed bytes and goes on after it, so
each row is applied (and each product written out) exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import IO, Any

from catalog.domain.errors import DomainError
from catalog.domain.jobs import (
    ImportFormat,
    Job,
    JobKind,
    JobStatus,
    RowError,
    RowOutcome,
    RowResult,
)
from catalog.domain.lifecycle import Status, parse_requested_status
from catalog.domain.product import Product
from catalog.service.channels import request_publication, request_unpublication
from catalog.service.commands import ChangeStatus, RequestPublication, RequestUnpublication
from catalog.service.context import CatalogContext, JobsContext
from catalog.service.csv_export import CsvColumns, CsvExport
from catalog.service.import_files import ImportRow, count_jsonl_rows, jsonl_rows
from catalog.service.ports import Change
from catalog.service.principals import Principal
from catalog.service.problems import problem_of
from catalog.service.products import change_status
from catalog.service.row_batch import RowBatch
from catalog.service.row_upserts import upsert_row

#: A row (or product) that another writer keeps getting ahead of is tried this many times
#: alone, then reported with the store's error.
ALONE_ATTEMPTS = 3

Stopping = Callable[[], bool]


def run(
    ctx: CatalogContext, jobs: JobsContext, job: Job, batch_size: int, stopping: Stopping
) -> Job:
    runs: dict[JobKind, type[_Run]] = {
        JobKind.IMPORT: _ImportRun,
        JobKind.EXPORT: _ExportRun,
        JobKind.BULK_ACTION: _BulkActionRun,
    }
    return runs[job.kind](ctx, jobs, job, batch_size).run(stopping)


class _Run:
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

    def run(self, stopping: Stopping) -> Job:
        raise NotImplementedError

    def between_batches(self, stopping: Stopping) -> Job | None:
        """The job as it ends here, if it must: the process is stopping (the job stays
        RUNNING, to be resumed) or a cancel was asked for."""
        if stopping():
            return self.job
        if self.jobs.store.cancel_requested(self.job.merchant_id, self.job.id):
            return self.finish(cancelled=True)
        return None

    def write(
        self,
        changes: Sequence[Change],
        results: Sequence[RowResult],
        advance: Callable[[Job], None] = lambda job: None,
    ) -> None:
        """Commit a batch: its changes, its results counted, and `advance` (where the job
        stands now) applied to the job's record."""
        job = self.job
        before = job.snapshot()
        for result in results:
            job.record(result) if job.kind is JobKind.IMPORT else job.count(result)
        advance(job)
        job.version = before.version + 1
        errors = [r.error for r in results if r.error is not None]
        try:
            self.jobs.store.commit_rows(job, before.version, changes, errors)
        except BaseException:
            self.job = before
            raise

    def outcome(self, line: int, sku: str | None, error: DomainError) -> RowResult:
        problem = problem_of(error) or {"title": "Row refused", "detail": str(error)}
        return RowResult(line, RowOutcome.FAILED, RowError(line, sku, problem))

    def finish(self, *, cancelled: bool = False, failed: str | None = None) -> Job:
        job = self.job
        before = job.version
        now = self.ctx.clock.now()
        if failed is not None:
            job.fail(failed, now)
        else:
            job.finish(now, cancelled=cancelled)
            if job.total is None and not cancelled:
                job.total = job.processed  # a walk of a filter knows its total at its end
        job.version = before + 1
        event = job.finished_event(self.ctx.ids.new_id())
        self.jobs.store.commit_rows(job, before, [], [], [event])
        return job

    def start(self, total: int | None) -> None:
        """RUNNING, with its total once counted: a job's first write."""
        job = self.job
        job.start()
        if total is not None:
            job.counted(total)
        if job.output_key is None and job.kind is not JobKind.IMPORT:
            job.output_key = job.output_key_of_kind()
        self.write([], [])

    def filtered_products(self) -> Iterator[list[Product]]:
        """The merchant's products the job's filter (or `ids`) names, a page at a time, after
        `resume_after`."""
        job = self.job
        ids = job.params.get("ids")
        if ids is not None:
            remaining = [i for i in ids if job.resume_after is None or i > job.resume_after]
            for start in range(0, len(remaining), self.batch_size):
                chunk = remaining[start : start + self.batch_size]
                found = [self.ctx.store.get(job.merchant_id, i) for i in chunk]
                yield [product for product in found if product is not None]
            return
        query = job.params.get("filter") or {}
        status = query.get("status")
        position = job.resume_after
        while True:
            page = self.ctx.store.page(
                job.merchant_id,
                status=Status(status) if status else None,
                channel=query.get("channel"),
                limit=self.batch_size,
                position=position,
                product_type=query.get("product_type"),
            )
            if page.items:
                yield page.items
            if page.position is None:
                return
            position = page.position


# ------------------------------------------------------------------ imports


class _ImportRun(_Run):
    def run(self, stopping: Stopping) -> Job:
        job = self.job
        try:
            stream = self.jobs.files.open(job.input_key())
        except FileNotFoundError:
            return self.finish(failed="the job's file is gone")
        with stream:
            if job.status is JobStatus.QUEUED or job.total is None:
                self.start(_count_rows(job, stream))
                stream.seek(0)
            pending: list[ImportRow] = []
            for row in _rows(job, stream):
                if row.line <= job.position:
                    continue
                pending.append(row)
                if len(pending) >= self.batch_size:
                    self._apply(pending)
                    pending = []
                    ended = self.between_batches(stopping)
                    if ended is not None:
                        return ended
            self._apply(pending)
        return self.finish()

    def _apply(self, rows: Sequence[ImportRow]) -> None:
        """The rows as one batch; when the batch cannot be written whole (a product changed
        or a SKU was taken by another writer since the batch read it) each row on its own."""
        if not rows:
            return
        batch = RowBatch(self.ctx.store)
        results = [self._upsert(batch, row) for row in rows]
        try:
            self.write(batch.changes, results)
        except DomainError:
            for row in rows:
                self._apply_alone(row)

    def _apply_alone(self, row: ImportRow) -> None:
        refused: DomainError | None = None
        for _ in range(ALONE_ATTEMPTS):
            alone = RowBatch(self.ctx.store)
            result = self._upsert(alone, row)
            try:
                self.write(alone.changes, [result])
                return
            except DomainError as error:
                refused = error
        assert refused is not None
        self.write([], [self.outcome(row.line, row.sku, refused)])

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
        return self.outcome(row.line, row.sku, error)


def _count_rows(job: Job, stream: IO[bytes]) -> int:
    if job.params["format"] == ImportFormat.CSV.value:
        from catalog.service.csv_rows import count_csv_rows

        return count_csv_rows(stream)
    return count_jsonl_rows(stream)


def _rows(job: Job, stream: IO[bytes]) -> Iterator[ImportRow]:
    if job.params["format"] == ImportFormat.CSV.value:
        from catalog.service.csv_rows import csv_rows

        return csv_rows(stream)
    return jsonl_rows(stream)


# ------------------------------------------------------------------ exports


def export_row(product: Product) -> dict[str, Any]:
    """A product as an import row registering it (or, imported again, changing nothing):
    its SKU, its editable fields and its variants. Images are not part of a file."""
    row: dict[str, Any] = {"sku": product.sku, **product.editable_document()}
    if product.variants:
        row["variants"] = [
            {
                name: value
                for name, value in variant.to_json().items()
                if name not in ("id", "image_ids")
            }
            for variant in product.variants
        ]
    return row


class _ExportRun(_Run):
    def run(self, stopping: Stopping) -> Job:
        if self.job.status is JobStatus.QUEUED:
            if self._csv:
                # A CSV file's header is written once: a first pass names the attributes that
                # get a column of their own (the rest go to the JSON columns, csv_export.py).
                rows = (export_row(p) for batch in self.filtered_products() for p in batch)
                columns = CsvColumns.of_rows(rows).to_json()
                self.job.params = {**self.job.params, "csv_columns": columns}
            self.start(None)
        for products in self.filtered_products():
            if products:
                self._write_out(products)
            ended = self.between_batches(stopping)
            if ended is not None:
                return ended
        if self._csv and self.job.output_bytes == 0:
            self._write_header_alone()
        return self.finish()

    @property
    def _csv(self) -> bool:
        return self.job.params.get("format") == ImportFormat.CSV.value

    def _writer(self) -> CsvExport:
        return CsvExport(CsvColumns.from_json(self.job.params.get("csv_columns")))

    def _write_out(self, products: Sequence[Product]) -> None:
        job = self.job
        assert job.output_key is not None
        refused: Mapping[int, DomainError] = {}
        if self._csv:
            batch = self._writer().write(
                [export_row(p) for p in products], header=job.output_bytes == 0
            )
            data, refused = batch.data, batch.refused
        else:
            lines = (json.dumps(export_row(p), separators=(",", ":")) + "\n" for p in products)
            data = "".join(lines).encode()
        size = self.jobs.files.write(job.output_key, job.output_bytes, data)
        results = [
            self.outcome(job.processed + 1 + index, product.sku, refused[index])
            if index in refused
            else RowResult(0, RowOutcome.WRITTEN)
            for index, product in enumerate(products)
        ]

        def advance(job: Job) -> None:
            job.resume_after = products[-1].id
            job.output_bytes = size

        self.write([], results, advance)

    def _write_header_alone(self) -> None:
        """An export that found nothing is still a file a spreadsheet opens."""
        job = self.job
        assert job.output_key is not None
        size = self.jobs.files.write(job.output_key, 0, self._writer().header())

        def advance(job: Job) -> None:
            job.output_bytes = size

        self.write([], [], advance)


# ------------------------------------------------------------------ bulk actions


class _BulkActionRun(_Run):
    """One use case per product (publish, unpublish, a status change), with the API's rules
    for each; every product's outcome is a line of the job's output."""

    def run(self, stopping: Stopping) -> Job:
        if self.job.status is JobStatus.QUEUED:
            ids = self.job.params.get("ids")
            self.start(len(ids) if ids is not None else None)
        for products in self.filtered_products():
            if products:
                self._apply(products)
            ended = self.between_batches(stopping)
            if ended is not None:
                return ended
        return self.finish()

    def _apply(self, products: Sequence[Product], attempts: int = ALONE_ATTEMPTS) -> None:
        batch = RowBatch(self.ctx.store)
        row_ctx = replace(self.ctx, store=batch)
        results, lines = [], []
        for index, product in enumerate(products, start=self.job.processed + 1):
            try:
                with batch.row():
                    changed = self._act(row_ctx, product)
                result = RowResult(index, RowOutcome.UPDATED if changed else RowOutcome.UNCHANGED)
            except DomainError as refused:
                result = self.outcome(index, product.sku, refused)
            results.append(result)
            outcome: dict[str, Any] = {
                "id": product.id,
                "sku": product.sku,
                "outcome": result.outcome.value,
            }
            if result.error is not None:
                outcome["problem"] = dict(result.error.problem)
            lines.append(json.dumps(outcome, separators=(",", ":")) + "\n")
        job = self.job
        assert job.output_key is not None
        size = self.jobs.files.write(job.output_key, job.output_bytes, "".join(lines).encode())

        def advance(job: Job) -> None:
            job.resume_after = products[-1].id
            job.output_bytes = size

        try:
            self.write(batch.changes, results, advance)
        except DomainError as refused:
            # Another writer changed a product since the batch read it: each on its own, read
            # again; one that still cannot be written is reported with the store's error.
            if len(products) > 1:
                for product in products:
                    self._apply([product], attempts)
            elif attempts > 1:
                self._apply(products, attempts - 1)
            else:
                self.write(
                    [], [self.outcome(self.job.processed + 1, products[0].sku, refused)], advance
                )

    def _act(self, ctx: CatalogContext, product: Product) -> bool:
        params = self.job.params
        action = params["action"]
        merchant_id = product.merchant_id
        # As it is now (the batch's own changes first): the page that named it may be older.
        current = ctx.store.get(merchant_id, product.id)
        version = current.version if current is not None else product.version
        if action == "publish":
            command = RequestPublication(merchant_id, product.id, params["channel"])
            changed = request_publication(ctx, self.principal, command)
        elif action == "unpublish":
            withdraw = RequestUnpublication(merchant_id, product.id, params["channel"])
            changed = request_unpublication(ctx, self.principal, withdraw)
        else:
            status = parse_requested_status(params["status"])
            changed = change_status(
                ctx, self.principal, ChangeStatus(merchant_id, product.id, status)
            )
        return changed.version != version
