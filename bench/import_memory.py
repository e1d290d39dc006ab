#!/usr/bin/env python3
"""Peak memory of an import job's worker against the size of its file: flat, since the file
is streamed (read a row at a time, never whole).

For each size it writes a JSONL file of distinct small products to disk, then in a fresh
child process (so that each peak is its own) builds the embedded container on a temporary
data folder (a real SqliteStore and LocalJobFiles; no server, no relay), creates an import
job, saves the file as the job's input through JobFiles.save (a streamed copy, as a direct
upload lands), and runs the job with `run_job` the way the server's worker thread does: the
first pass counts every row of the file, then the rows are applied in batches, here the
first `--rows` of them (the job then stops between two batches, RUNNING, as a server that
shuts down leaves it), or all of them with `--rows all`.

Measured in the child, for each phase (save, count, rows): the peak resident set size
(VmHWM of /proc/self/status, reset before each phase through /proc/self/clear_refs) and,
with --tracemalloc, the peak of the Python heap (tracemalloc.get_traced_memory, reset per
phase). The resident peak includes the interpreter, the modules and SQLite's page cache;
the difference between sizes is what the file's size costs.

    .venv/bin/python bench/import_memory.py [--sizes 100M,1G] [--rows 20000] [--tracemalloc]
    .venv/bin/python bench/import_memory.py --sizes 1G --row-bytes 10000 --rows all
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from unittest import mock

MERCHANT = "bench"
UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}
DEFAULT_ROW_BYTES = 90  # a SKU, a name and a price: the smallest product worth importing
CHUNK_ROWS = 10_000  # rows written to the file at a time


class BenchError(Exception):
    pass


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*", text.upper())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r}: a size is a number of bytes, e.g. 100M, 1G")
    return int(float(match[1]) * UNITS[match[2]])


def parse_sizes(text: str) -> list[int]:
    return [parse_size(part) for part in text.split(",")]


def human(size: float) -> str:
    for unit in ("G", "M", "K"):
        if size >= UNITS[unit]:
            return f"{size / UNITS[unit]:.1f} {unit}B"
    return f"{size:.0f} B"


# ------------------------------------------------------------------ the file


def row(serial: int, row_bytes: int) -> bytes:
    """A product of about `row_bytes` bytes of JSON: SKU, name and price, and a description
    padding it out when asked for more."""
    body: dict[str, Any] = {
        "sku": f"MEM-{serial:010d}",
        "name": f"Product {serial}",
        "price": {"amount": 1000 + serial % 9000, "currency": "USD"},
    }
    line = json.dumps(body, separators=(",", ":"))
    padding = row_bytes - len(line) - len(',"description":""') - 1
    if padding > 0:
        body["description"] = "x" * padding
        line = json.dumps(body, separators=(",", ":"))
    return line.encode() + b"\n"


def write_file(path: Path, size: int, row_bytes: int) -> int:
    """At least `size` bytes of rows; returns how many rows."""
    written = rows = 0
    with path.open("wb") as out:
        while written < size:
            chunk = b"".join(row(serial, row_bytes) for serial in range(rows, rows + CHUNK_ROWS))
            out.write(chunk)
            written += len(chunk)
            rows += CHUNK_ROWS
    return rows


# ------------------------------------------------------------------ the child


def resident_peak() -> int | None:
    """VmHWM: the most resident memory the process has had since the last reset (bytes)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) * 1024 if match else None


def resident_now() -> int | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) * 1024 if match else None


def reset_resident_peak() -> bool:
    """Resets VmHWM to the current resident size (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Phases:
    """Peaks per phase: each `end(name)` records the peaks since the previous one."""

    def __init__(self, tracing: bool) -> None:
        self.tracing = tracing
        self.results: dict[str, dict[str, float | None]] = {}
        self.resettable = reset_resident_peak()
        self._started = time.perf_counter()

    def end(self, name: str, **extra: float) -> None:
        import tracemalloc

        traced = tracemalloc.get_traced_memory()[1] if self.tracing else None
        self.results[name] = {
            "seconds": time.perf_counter() - self._started,
            "rss_peak": resident_peak(),
            "rss_end": resident_now(),
            "traced_peak": traced,
            **extra,
        }
        if self.tracing:
            tracemalloc.reset_peak()
        reset_resident_peak()
        self._started = time.perf_counter()


def child(file: Path, rows: int | None, tracing: bool) -> dict[str, Any]:
    """One import of `file` in this process, measured phase by phase."""
    import tracemalloc

    from catalog.bootstrap import build_container
    from catalog.domain.jobs import ImportFormat
    from catalog.service import job_runs
    from catalog.service import jobs as use_cases
    from catalog.service.commands import StartImport
    from catalog.service.import_files import count_jsonl_rows
    from catalog.service.principals import Principal
    from catalog.settings import Settings

    with tempfile.TemporaryDirectory(prefix="catalog-import-memory-", dir=file.parent) as data:
        container = build_container(Settings(data_dir=Path(data)))  # its workers not started
        ctx, jobs = container.ctx, container.jobs
        assert jobs is not None
        principal = Principal("bench", MERCHANT, frozenset({"merchant"}))
        baseline = resident_now()
        if tracing:
            tracemalloc.start()
        phases = Phases(tracing)
        job = use_cases.start_import(
            ctx, jobs, principal, StartImport(MERCHANT, ImportFormat.JSONL, b"")
        ).job
        with file.open("rb") as upload:
            saved = jobs.files.save(job.input_key(), upload)
        phases.end("save", bytes=saved)

        def count_then_mark(stream: IO[bytes]) -> int:
            total = count_jsonl_rows(stream)
            phases.end("count", rows=total)
            return total

        batch = jobs.store.rows_per_batch
        applied = [0]

        def stopping() -> bool:
            """Asked between batches: stop once the first `rows` rows are in."""
            applied[0] += batch
            return rows is not None and applied[0] >= rows

        # The runner's first pass, marked at its end: the peak of the count, then of the rows.
        with mock.patch.object(job_runs, "count_jsonl_rows", count_then_mark):
            done = use_cases.run_job(ctx, jobs, MERCHANT, job.id, stopping=stopping)
        assert done is not None
        phases.end("rows", rows=done.processed)
        container.close()
        if done.failed or done.created != done.processed:
            raise BenchError(f"rows refused: {done.failed} of {done.processed}")
        return {
            "baseline": baseline,
            "resettable": phases.resettable,
            "status": done.status.value,
            "total": done.total,
            "processed": done.processed,
            "phases": phases.results,
        }


# ------------------------------------------------------------------ the parent


def measure(file: Path, rows: int | None, tracing: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(file)]
    command += ["--rows", "all" if rows is None else str(rows)]
    if tracing:
        command.append("--tracemalloc")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"the measuring process failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def mb(value: float | None, digits: int = 1) -> str:
    return f"{value / 2**20:8.{digits}f}" if value is not None else f"{'-':>8}"


def report(results: Sequence[tuple[int, int, dict[str, Any]]], tracing: bool) -> None:
    print(
        f"\n{'file':>9} {'rows':>11}  {'phase':<6} {'seconds':>8} {'rows/s':>9}"
        f" {'RSS peak MiB':>12} {'RSS end MiB':>11}"
        + (f" {'heap peak MiB':>13}" if tracing else "")
    )
    for size, file_rows, result in results:
        for name, phase in result["phases"].items():
            count = phase.get("rows")
            rate = f"{count / phase['seconds']:9.0f}" if count and phase["seconds"] else " " * 9
            label = human(size) if name == "save" else ""
            rows_label = f"{file_rows:>11}" if name == "save" else f"{count or '':>11}"
            print(
                f"{label:>9} {rows_label}  {name:<6} {phase['seconds']:8.1f} {rate}"
                f" {mb(phase['rss_peak']):>12} {mb(phase['rss_end']):>11}"
                + (f" {mb(phase['traced_peak'], 2):>13}" if tracing else "")
            )
        print(
            f"{'':>9} {'':>11}  resident before the job: {mb(result['baseline']).strip()} MiB;"
            f" job {result['status']}, {result['processed']} of {result['total']} rows applied"
        )
    peaks = [
        max(phase["rss_peak"] or 0 for phase in result["phases"].values())
        for _, _, result in results
    ]
    if len(results) > 1 and all(peaks):
        print(
            "\nRSS peak over the whole job: "
            + ", ".join(
                f"{human(s)}: {p / 2**20:.1f} MiB"
                for (s, _, _), p in zip(results, peaks, strict=True)
            )
            + f" (largest/smallest file {results[-1][0] / results[0][0]:.0f}x,"
            f" peak {peaks[-1] / peaks[0]:.3f}x)"
        )
    if not all(result["resettable"] for _, _, result in results):
        print("(VmHWM could not be reset: each phase's peak is the peak since the start)")


def run(args: argparse.Namespace) -> None:
    directory = Path(args.dir) if args.dir else None
    rows = None if args.rows == "all" else int(args.rows)
    results = []
    with tempfile.TemporaryDirectory(prefix="catalog-import-files-", dir=directory) as temp:
        for size in sorted(args.sizes):
            file = Path(temp) / f"products-{size}.jsonl"
            print(f"writing {human(size)} of rows of ~{args.row_bytes} bytes...", flush=True)
            file_rows = write_file(file, size, args.row_bytes)
            actual = file.stat().st_size
            what = "all rows" if rows is None else f"the first {rows} rows"
            print(f"  {file_rows} rows, {human(actual)}; importing {what}...", flush=True)
            results.append((actual, file_rows, measure(file, rows, args.tracemalloc)))
            file.unlink()
    report(results, args.tracemalloc)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=parse_sizes, default=parse_sizes("100M,1G"), help="file sizes (100M,1G)"
    )
    parser.add_argument(
        "--row-bytes", type=int, default=DEFAULT_ROW_BYTES, help="bytes of JSON a row (90)"
    )
    parser.add_argument(
        "--rows", default="20000", help="rows applied after the count (20000), or `all`"
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also the Python heap's peak (slower)"
    )
    parser.add_argument("--dir", help="where to write the files (the system's temp folder)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows != "all" and not (args.rows.isdigit() and int(args.rows) > 0):
        parser.error("--rows is a number of rows or `all`")
    try:
        if args.child is not None:
            rows = None if args.rows == "all" else int(args.rows)
            print(json.dumps(child(args.child, rows, args.tracemalloc)))
        else:
            run(args)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
