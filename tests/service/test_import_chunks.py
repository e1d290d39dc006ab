"""An import file cut into chunks for several workers (docs/jobs-aws.md, "One job in
parallel"): whatever the chunk size, the chunks hold every row of the file once, in order,
each read alone as the whole file reads it (same lines, same bodies, same errors), and a CSV
product's rows are never split between two chunks."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import pytest

from catalog.domain.jobs import ChunkRange
from catalog.service.csv_rows import count_csv_rows, csv_row_starts, csv_rows
from catalog.service.import_files import (
    MAX_CHUNKS,
    ImportRow,
    count_jsonl_rows,
    cut,
    jsonl_row_starts,
    jsonl_rows,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "products-with-variants.csv"

JSONL = (
    b"\n"
    + b'{"sku": "A1", "name": "Caf\xc3\xa9"}\n'
    + b"{not json\n"
    + b"\n\n"
    + b'{"sku": "A2", "name": "Two"}\r\n'
    + b"\xff\xfe not utf-8\n"
    + b'{"sku": "A3", "name": "'
    + b"x" * 300
    + b'"}\n'
    + b"[1, 2]\n"
    + b'{"sku": "A4"}'  # no line break at the end
)

CSV = (
    "\ufeffsku,name,description,price,currency,option1_name,option1_value,variant_sku\n"
    'SH,Shirt,"A shirt.\nOn two lines.",25.00,USD,size,S,SH-S\n'
    "SH,,,,,,M,SH-M\n"
    "SH,,,,,,L,SH-L\n"
    "\n"
    "MUG,Mug,Caf\u00e9 mug,9.90,USD,,,\n"
    "BAD,Bad,,12.345,USD,,,\n"
    "SH,Shirt again,,,,,,\n"
    '"broken"x,,,,,,,\n'
    "CAP,Cap,,5,USD,color,red,CAP-R\r\n"
    "CAP,,,,,,blue,CAP-B\r\n"
    "LAST,Last,,1,USD,,,\n"
).encode()


def as_compared(rows: list[ImportRow]) -> list[tuple[int, str | None, object, str | None]]:
    return [
        (row.line, row.sku, row.body, None if row.error is None else str(row.error)) for row in rows
    ]


def read_chunks_jsonl(data: bytes, ranges: list[ChunkRange]) -> list[ImportRow]:
    rows: list[ImportRow] = []
    for span in ranges:
        part = io.BytesIO(data[span.start : span.end])
        found = list(jsonl_rows(part, span.lines_before))
        assert len(found) == span.rows
        rows += found
    return rows


def read_chunks_csv(data: bytes, ranges: list[ChunkRange]) -> list[ImportRow]:
    rows: list[ImportRow] = []
    stream = io.BytesIO(data)
    for span in ranges:
        found = list(csv_rows(stream, span))
        assert len(found) == span.rows
        rows += found
    return rows


@pytest.mark.parametrize("chunk_bytes", [1, 40, 100, 333, 10_000])
def test_jsonl_chunks_read_as_the_whole_file(chunk_bytes: int) -> None:
    ranges = cut(jsonl_row_starts(io.BytesIO(JSONL)), len(JSONL), chunk_bytes)
    whole = list(jsonl_rows(io.BytesIO(JSONL)))
    assert sum(span.rows for span in ranges) == len(whole) == count_jsonl_rows(io.BytesIO(JSONL))
    assert as_compared(read_chunks_jsonl(JSONL, ranges)) == as_compared(whole)
    # Back to back, to the end of the file.
    assert [span.number for span in ranges] == list(range(1, len(ranges) + 1))
    assert all(a.end == b.start for a, b in itertools.pairwise(ranges))
    assert ranges[-1].end == len(JSONL)
    if chunk_bytes == 1:
        assert len(ranges) == len(whole)  # a row each
    if chunk_bytes == 10_000:
        assert len(ranges) == 1  # a small file stays one chunk


@pytest.mark.parametrize("chunk_bytes", [1, 60, 150, 10_000])
def test_csv_chunks_keep_a_products_rows_together_and_the_files_lines(chunk_bytes: int) -> None:
    ranges = cut(csv_row_starts(io.BytesIO(CSV)), len(CSV), chunk_bytes)
    whole = list(csv_rows(io.BytesIO(CSV)))
    assert sum(span.rows for span in ranges) == len(whole) == count_csv_rows(io.BytesIO(CSV))
    assert as_compared(read_chunks_csv(CSV, ranges)) == as_compared(whole)
    # The shirt's three rows (lines 2 to 5: its description spans two) are one product.
    assert whole[0].line == 2
    assert whole[0].body is not None and len(whole[0].body["variants"]) == 3  # type: ignore[arg-type]
    assert ranges[0].start == CSV.index(b"SH,Shirt")  # after the header and its byte order mark


def test_the_example_file_cut_at_every_row_reads_as_a_whole() -> None:
    data = EXAMPLE.read_bytes()
    ranges = cut(csv_row_starts(io.BytesIO(data)), len(data), 1)
    assert [(span.lines_before + 1, span.rows) for span in ranges] == [(2, 1), (6, 1)]
    assert as_compared(read_chunks_csv(data, ranges)) == as_compared(
        list(csv_rows(io.BytesIO(data)))
    )


def test_a_quote_left_open_ends_the_last_chunk_as_it_ends_the_file() -> None:
    data = b'sku,name\nA,One\nB,"never closed\nC,Three\n'
    ranges = cut(csv_row_starts(io.BytesIO(data)), len(data), 1)
    whole = list(csv_rows(io.BytesIO(data)))
    assert [row.line for row in whole] == [2, 3]
    assert as_compared(read_chunks_csv(data, ranges)) == as_compared(whole)


def test_a_file_never_makes_more_than_the_most_chunks() -> None:
    data = b"".join(json.dumps({"sku": f"S{n}"}).encode() + b"\n" for n in range(3 * MAX_CHUNKS))
    ranges = cut(jsonl_row_starts(io.BytesIO(data)), len(data), 1)
    assert len(ranges) <= MAX_CHUNKS
    assert sum(span.rows for span in ranges) == 3 * MAX_CHUNKS


def test_an_empty_file_has_no_chunk() -> None:
    assert cut(jsonl_row_starts(io.BytesIO(b"\n\n")), 2, 1) == []
    assert cut(csv_row_starts(io.BytesIO(b"sku,name\n")), 9, 1) == []
