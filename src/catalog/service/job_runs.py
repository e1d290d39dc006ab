"""What a worker does with a job: an import's rows, an export's products, a bulk action's
products, each a batch at a time.

Every batch is written in one transaction with the job's progress (JobStore.commit_rows): the
rows' product changes, the counters, where the job stands (`position`, `resume_after`, the
bytes of its output) and the rows' errors. A worker that dies loses only the batch it had not
written; the next run cuts the output back to the committed bytes and goes on after it, so
each row is applied (and each product written out) exactly once.

Where the backend runs jobs on many workers (JobsContext.chunking), an import whose file holds
more than one chunk is cut by the first worker to take it: its rows counted and cut at row
boundaries in one pass of the file, the job RUNNING with its ranges in one write, then one
message per chunk. Each chunk then runs as an import of its own byte range (`_ChunkRun`): its
own record, position and version, every batch adding its counts to the job's in the same
transaction; the end of the last chunk ends the job and emits its JobFinished.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from msgspec import structs

from catalog.domain.errors import DomainError
from catalog.domain.jobs import (
    MAX_INLINE_ERRORS,
    ChunkRange,
    ChunksLeftChanged,
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
from catalog.service.context import CatalogContext, Chunking, JobsContext
from catalog.service.csv_export import CsvColumns, CsvExport
from catalog.service.import_files import (
    ImportRow,
    count_jsonl_rows,
    cut,
    jsonl_row_starts,
    jsonl_rows,
    range_of,
)
from catalog.service.ports import Change, ChunkEnd
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


def run_chunk(
    ctx: CatalogContext, jobs: JobsContext, chunk: Job, batch_size: int, stopping: Stopping
) -> Job:
    """Run one chunk of a split import (its record, as Job.chunk_of makes it) to its end."""
    return _ChunkRun(ctx, jobs, chunk, batch_size).run(stopping)


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
        if self._cancelled():
            return self.finish(cancelled=True)
        return None

    def _cancelled(self) -> bool:
        return self.jobs.store.cancel_requested(self.job.merchant_id, self.job.id)

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
        chunking = self.jobs.chunking
        if job.chunks and chunking is not None:
            return self._send_chunks(chunking)  # its message again: its chunks run it
        try:
            stream = self.jobs.files.open(job.input_key())
        except FileNotFoundError:
            return self.finish(failed="the job's file is gone")
        with stream:
            if job.status is JobStatus.QUEUED or job.total is None:
                if chunking is None:
                    total = _count_rows(job, stream)
                else:
                    ranges = _cut(job, stream, chunking.chunk_bytes)
                    if len(ranges) > 1:
                        return self._split(chunking, ranges)
                    total = sum(span.rows for span in ranges)
                self.start(total)
                stream.seek(0)
            return self._rows_of(stream, stopping)

    def _rows_of(self, stream: IO[bytes], stopping: Stopping) -> Job:
        job = self.job
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

    def _split(self, chunking: Chunking, ranges: Sequence[ChunkRange]) -> Job:
        """RUNNING as chunks: the job's total and ranges in one write, then their messages
        (the job's message delivered again sends them again: `_send_chunks`)."""
        job = self.job
        before = job.snapshot()
        job.start()
        job.counted(sum(span.rows for span in ranges))
        job.chunks = len(ranges)
        job.version = before.version + 1
        try:
            chunking.store.split(job, before.version, ranges)
        except BaseException:
            self.job = before
            raise
        return self._send_chunks(chunking)

    def _send_chunks(self, chunking: Chunking) -> Job:
        job = self.job
        chunking.queue.enqueue_chunks(job.merchant_id, job.id, range(1, job.chunks + 1))
        return job

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
            row_ctx = structs.replace(self.ctx, store=batch)
            try:
                with batch.row():
                    outcome = upsert_row(row_ctx, self.principal, self.job.merchant_id, row.body)
                return RowResult(row.line, outcome)
            except DomainError as refused:
                error = refused
        return self.outcome(row.line, row.sku, error)


class _ChunkRun(_ImportRun):
    """One chunk of a split import: the rows of its byte range, committed with its own record
    (JobChunks.commit_chunk), their counts added to the job's. Its end ends the job when it
    is the last chunk to end. A cancel of the job stops it before its next batch."""

    def run(self, stopping: Stopping) -> Job:
        job = self.job
        span = job.chunk_range
        assert span is not None, "not a chunk"
        job.start()
        if self._cancelled():
            return self.finish(cancelled=True)
        try:
            stream = self.jobs.files.open(job.input_key())
        except FileNotFoundError:
            return self.finish(failed="the job's file is gone")
        with stream:
            return self._rows_of(stream, stopping)

    @property
    def _chunking(self) -> Chunking:
        chunking = self.jobs.chunking
        assert chunking is not None, "a chunk runs where jobs are split"
        return chunking

    @property
    def _parent_id(self) -> str:
        parent = self.job.parent_id
        assert parent is not None, "not a chunk"
        return parent

    def _cancelled(self) -> bool:
        """A chunk stops when its job (the parent) is cancelled."""
        return self.jobs.store.cancel_requested(self.job.merchant_id, self._parent_id)

    def write(
        self,
        changes: Sequence[Change],
        results: Sequence[RowResult],
        advance: Callable[[Job], None] = lambda job: None,
    ) -> None:
        job = self.job
        before = job.snapshot()
        for result in results:
            job.record(result)
        job.version = before.version + 1
        errors = [r.error for r in results if r.error is not None]
        counted = {name: job.counts()[name] - value for name, value in before.counts().items()}
        try:
            self._chunking.store.commit_chunk(job, before.version, changes, errors, counted)
        except BaseException:
            self.job = before
            raise

    def finish(self, *, cancelled: bool = False, failed: str | None = None) -> Job:
        """The chunk's end, and the job's when no other chunk is left: read the job, then
        write against the count of chunks left it read (read again when another chunk's end
        got there first)."""
        job = self.job
        before = job.snapshot()
        now = self.ctx.clock.now()
        if failed is not None:
            job.fail(failed, now)
        else:
            job.finish(now, cancelled=cancelled)
        job.version = before.version + 1
        store = self._chunking.store
        try:
            while True:
                found = store.parent(job.merchant_id, self._parent_id)
                if found is None:
                    raise LookupError(f"job {self._parent_id} of chunk {job.id} is gone")
                parent, left = found
                parent_end = self._parent_end(parent, failed) if left == 1 else None
                try:
                    store.commit_chunk(
                        job, before.version, [], [], {}, chunks_left=left, parent_end=parent_end
                    )
                    return job
                except ChunksLeftChanged:
                    continue
        except BaseException:
            self.job = before
            raise

    def _parent_end(self, parent: Job, failed: str | None) -> ChunkEnd:
        """The job as its last chunk ends it: every row counted (the other chunks have
        ended), its first errors inline. SUCCEEDED when every row was done; otherwise a
        chunk was cancelled (CANCELLED) or could not run (FAILED)."""
        expected = parent.version
        parent.errors = self.jobs.store.job_errors(
            parent.merchant_id, parent.id, after_line=0, limit=MAX_INLINE_ERRORS
        )
        now = self.ctx.clock.now()
        if parent.total is not None and parent.processed < parent.total:
            if failed is not None:
                parent.fail(failed, now)
            elif parent.cancel_requested or self.job.status is JobStatus.CANCELLED:
                parent.finish(now, cancelled=True)
            else:
                parent.fail("a part of the file could not be run", now)
        else:
            parent.finish(now)
        parent.version = expected + 1
        return ChunkEnd(parent, expected, parent.finished_event(self.ctx.ids.new_id()))


def _cut(job: Job, stream: IO[bytes], chunk_bytes: int) -> list[ChunkRange]:
    """The file's rows counted and cut into chunks, in one pass."""
    size = stream.seek(0, 2)
    stream.seek(0)
    if job.params["format"] == ImportFormat.CSV.value:
        from catalog.service.csv_rows import csv_row_starts

        return cut(csv_row_starts(stream), size, chunk_bytes)
    return cut(jsonl_row_starts(stream), size, chunk_bytes)


def _count_rows(job: Job, stream: IO[bytes]) -> int:
    if job.params["format"] == ImportFormat.CSV.value:
        from catalog.service.csv_rows import count_csv_rows

        return count_csv_rows(stream)
    return count_jsonl_rows(stream)


def _rows(job: Job, stream: IO[bytes]) -> Iterator[ImportRow]:
    """The rows of the job's file, or of its chunk's range of the file."""
    span = job.chunk_range
    if job.params["format"] == ImportFormat.CSV.value:
        from catalog.service.csv_rows import csv_rows

        yield from csv_rows(stream, span)
    elif span is None:
        yield from jsonl_rows(stream)
    else:
        with range_of(stream, span) as part:
            yield from jsonl_rows(part, span.lines_before)


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
        row_ctx = structs.replace(self.ctx, store=batch)
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
