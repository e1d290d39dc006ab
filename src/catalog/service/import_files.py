"""The rows of an import file, streamed: a JSONL file is one register body a line; a CSV file
is read by `csv_rows` (docs/jobs.md gives its columns). A row the reader cannot make a body
of carries its error instead, so the job reports it at its line and goes on.

Files are read a row at a time, never whole: a row longer than MAX_ROW_BYTES is an error of
its own and the reader skips to the next line, so memory stays flat on any file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO

from catalog.domain.errors import DomainError, InvalidField
from catalog.domain.values import JSON

#: Larger than any product document the stores take (limits.MAX_DOCUMENT_BYTES).
MAX_ROW_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ImportRow:
    """One row of a file: the 1-based line it starts on, the SKU it names (when it names
    one) and its register body, or the error that keeps it from being one."""

    line: int
    sku: str | None
    body: Mapping[str, JSON] | None
    error: DomainError | None = None


def jsonl_rows(stream: IO[bytes]) -> Iterator[ImportRow]:
    """Every non-blank line of a JSONL (newline-delimited JSON) file, as a row."""
    line = 0
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


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    while True:
        chunk = stream.readline(MAX_ROW_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def _too_long() -> str:
    return f"the row is longer than {MAX_ROW_BYTES} bytes"
