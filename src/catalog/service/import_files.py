"""The rows of an import file, streamed: a JSONL file is one register body a line; a CSV file
is read by `csv_rows` (docs/jobs.md gives its columns). A row the reader cannot make a body
of carries its error instead, so the job reports it at its line and goes on.

Files are read a row at a time, never whole: a row longer than MAX_ROW_BYTES is an error of
its own and the reader skips to the next line, so memory stays flat on any file.

A file can be cut into chunks for several workers (`cut`): the readers also give where each
row starts (its line, its byte offset), and read a chunk alone (`range_of`), its lines
numbered as in the whole file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from msgspec import Struct

from catalog.domain.errors import DomainError, InvalidField
from catalog.domain.jobs import ChunkRange
from catalog.domain.values import JSON

#: Larger than any product document the stores take (limits.MAX_DOCUMENT_BYTES).
MAX_ROW_BYTES = 1024 * 1024


class ImportRow(Struct, frozen=True):
    """One row of a file: the 1-based line it starts on, the SKU it names (when it names
    one) and its register body, or the error that keeps it from being one."""

    line: int
    sku: str | None
    body: Mapping[str, JSON] | None
    error: DomainError | None = None


class RowStart(Struct, frozen=True):
    """Where a row of a file starts: its first line, and the byte offset of that line."""

    line: int
    offset: int


#: The most chunks a file is cut into: past it, the chunks grow (their ranges are one item).
MAX_CHUNKS = 1000


def cut(starts: Iterable[RowStart], size: int, chunk_bytes: int) -> list[ChunkRange]:
    """The file's rows in chunks of about `chunk_bytes` (a chunk ends at the first row that
    starts `chunk_bytes` or more past its own start), each from the start of its first row to
    the start of the next chunk's; the last one ends with the file."""
    step = max(chunk_bytes, -(-size // MAX_CHUNKS), 1)
    ranges: list[ChunkRange] = []
    first: RowStart | None = None
    rows = 0
    for start in starts:
        if first is not None and start.offset - first.offset >= step:
            ranges.append(
                ChunkRange(len(ranges) + 1, first.offset, start.offset, first.line - 1, rows)
            )
            first, rows = None, 0
        if first is None:
            first = start
        rows += 1
    if first is not None:
        ranges.append(ChunkRange(len(ranges) + 1, first.offset, size, first.line - 1, rows))
    return ranges


class _Range(io.RawIOBase):
    """The bytes of `stream` from `start` to `end`, as a file of their own."""

    def __init__(self, stream: IO[bytes], start: int, end: int) -> None:
        stream.seek(start)
        self._stream = stream
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(min(len(view), self._left))
        view[: len(data)] = data
        self._left -= len(data)
        return len(data)


def range_of(stream: IO[bytes], span: ChunkRange) -> IO[bytes]:
    """A chunk's bytes of the file, read through a buffer. Closing it leaves `stream` open."""
    return io.BufferedReader(_Range(stream, span.start, span.end))


def jsonl_rows(stream: IO[bytes], lines_before: int = 0) -> Iterator[ImportRow]:
    """Every non-blank line of a JSONL (newline-delimited JSON) file, as a row; its lines
    numbered after `lines_before` (a chunk's)."""
    line = lines_before
    while True:
        raw = stream.readline(MAX_ROW_BYTES + 1)
        if not raw:
            return
        line += 1
        if len(raw) > MAX_ROW_BYTES and not raw.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield ImportRow(line, None, None, InvalidField("/", _too_long()))
            continue
        if not raw.strip():
            continue
        yield _row_of(line, raw)


def jsonl_row_starts(stream: IO[bytes]) -> Iterator[RowStart]:
    """Where each row jsonl_rows gives starts, reading the file once without parsing it."""
    line = offset = 0
    while True:
        raw = stream.readline(MAX_ROW_BYTES + 1)
        if not raw:
            return
        line += 1
        start = offset
        offset += len(raw)
        if len(raw) > MAX_ROW_BYTES and not raw.endswith(b"\n"):
            offset += _skip_rest_of_line(stream)
            yield RowStart(line, start)
        elif raw.strip():
            yield RowStart(line, start)


def count_jsonl_rows(stream: IO[bytes]) -> int:
    """How many rows jsonl_rows will give, reading the file once without parsing it."""
    rows = 0
    while True:
        raw = stream.readline(MAX_ROW_BYTES + 1)
        if not raw:
            return rows
        if len(raw) > MAX_ROW_BYTES and not raw.endswith(b"\n"):
            _skip_rest_of_line(stream)
            rows += 1
        elif raw.strip():
            rows += 1


def _row_of(line: int, raw: bytes) -> ImportRow:
    try:
        body = json.loads(raw)
    except UnicodeDecodeError:
        return ImportRow(line, None, None, InvalidField("/", "the line is not UTF-8"))
    except ValueError as error:
        return ImportRow(line, None, None, InvalidField("/", f"the line is not JSON: {error}"))
    if not isinstance(body, dict):
        return ImportRow(line, None, None, InvalidField("/", "a row must be a JSON object"))
    sku = body.get("sku")
    return ImportRow(line, sku if isinstance(sku, str) else None, body)


def _skip_rest_of_line(stream: IO[bytes]) -> int:
    """Read on to the end of the line; the bytes read."""
    skipped = 0
    while True:
        chunk = stream.readline(MAX_ROW_BYTES)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _too_long() -> str:
    return f"the row is longer than {MAX_ROW_BYTES} bytes"
