#!/usr/bin/env python3
"""Where an import's time goes: the job of bench/import_products.py run in-process, as the
embedded server's worker thread runs it (`run_job` on the container `catalog serve` builds,
over a temporary data folder), timed and then profiled.

1. Timed, without the relay: wall and CPU seconds, split into the rows (parsing each line and
   running it through the API's use cases into the batch) and the batches' writes
   (SqliteJobStore.commit_rows: one SQLite transaction of 200 rows with their history, outbox
   rows and the job's progress, fsync included).
2. Timed again with the relay running beside it, as in the server (its threads append every
   event to events.jsonl): what the relay takes from the job, and how long after the job it
   had delivered everything.
3. Profiled (cProfile, relay off): the top entries by cumulative and by own time.

    .venv/bin/python bench/import_profile.py [--products 20000] [--top 30] [--no-profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from import_products import MERCHANT, product_body

from catalog.bootstrap import Container, build_container
from catalog.domain.jobs import ImportFormat, JobStatus
from catalog.service import jobs as use_cases
from catalog.service.commands import StartImport
from catalog.service.principals import Principal
from catalog.settings import Settings

PRINCIPAL = Principal("bench", MERCHANT, frozenset({"merchant"}))


@dataclass
class Timing:
    seconds: float
    cpu: float
    writing: float  # in commit_rows
    relay_after: float | None = None  # seconds after the job until every event was delivered

    def line(self, products: int) -> str:
        rows = self.seconds - self.writing
        text = (
            f"{products / self.seconds:6.0f} products/s: {self.seconds:.2f} s wall,"
            f" {self.cpu:.2f} s CPU ({self.cpu / products * 1e3:.3f} ms/product);"
            f" rows {rows:.2f} s, commit_rows {self.writing:.2f} s"
        )
        if self.relay_after is not None:
            text += f"; every event in events.jsonl {self.relay_after:.2f} s after the job"
        return text


@contextmanager
def container_on(temp: Path) -> Iterator[Container]:
    container = build_container(Settings(data_dir=temp))
    try:
        yield container
    finally:
        container.close()


def start(container: Container, content: bytes) -> str:
    assert container.jobs is not None
    command = StartImport(MERCHANT, ImportFormat.JSONL, content)
    return use_cases.start_import(container.ctx, container.jobs, PRINCIPAL, command).job.id


def run(container: Container, job_id: str, products: int) -> None:
    assert container.jobs is not None
    done = use_cases.run_job(container.ctx, container.jobs, MERCHANT, job_id)
    if done is None or done.status is not JobStatus.SUCCEEDED or done.created != products:
        raise SystemExit(f"the import did not create every product: {done}")


def timed(content: bytes, products: int, *, relay: bool) -> Timing:
    with tempfile.TemporaryDirectory(prefix="catalog-import-profile-") as temp:
        with container_on(Path(temp)) as container:
            assert container.jobs is not None
            job_id = start(container, content)
            store: Any = container.jobs.store
            commit_rows = store.commit_rows
            writing = [0.0]

            def timed_commit_rows(*args: Any, **kwargs: Any) -> None:
                began = time.perf_counter()
                try:
                    commit_rows(*args, **kwargs)
                finally:
                    writing[0] += time.perf_counter() - began

            store.commit_rows = timed_commit_rows
            if relay:
                relays = [w for w in container.workers if type(w).__name__ == "OutboxRelay"]
                relays[0].start()
            began, cpu = time.perf_counter(), time.process_time()
            run(container, job_id, products)
            timing = Timing(time.perf_counter() - began, time.process_time() - cpu, writing[0])
            if relay:
                ended = time.perf_counter()
                log = Path(temp) / "events.jsonl"
                while not log.exists() or log.read_bytes().count(b'"ProductCreated"') < products:
                    time.sleep(0.02)
                timing.relay_after = time.perf_counter() - ended
        return timing


def profiled(content: bytes, products: int, top: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="catalog-import-profile-") as temp,
        container_on(Path(temp)) as container,
    ):
        job_id = start(container, content)
        profile = cProfile.Profile()
        profile.enable()
        run(container, job_id, products)
        profile.disable()
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.strip_dirs()
    print(f"\ncProfile of run_job, {products} products, relay off; by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)
    print("by own time:")
    stats.sort_stats("tottime").print_stats(top)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=20_000, help="products (20000)")
    parser.add_argument("--top", type=int, default=30, help="profile entries shown (30)")
    parser.add_argument("--no-profile", action="store_true", help="timings only")
    args = parser.parse_args(argv)
    bodies = (product_body(serial) for serial in range(args.products))
    content = b"".join(json.dumps(body, separators=(",", ":")).encode() + b"\n" for body in bodies)
    print(f"import of {args.products} products ({len(content) / 1e6:.1f} MB), in-process")
    alone = timed(content, args.products, relay=False)
    print(f"relay off: {alone.line(args.products)}", flush=True)
    beside = timed(content, args.products, relay=True)
    print(f"relay on:  {beside.line(args.products)}", flush=True)
    print(
        f"the relay beside the job: {beside.seconds / alone.seconds:.2f}x the wall time,"
        f" {beside.cpu - alone.cpu:+.2f} s CPU (the process's, relay threads included)"
    )
    if not args.no_profile:
        profiled(content, args.products, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
