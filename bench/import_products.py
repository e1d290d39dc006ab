#!/usr/bin/env python3
"""Import of N new products as one JSONL job against POSTing them one by one, in one run.

Two fresh embedded servers (`catalog serve`, each on its own temporary data folder) get the
very same N distinct products: the first one by one, `POST .../products` over `--connections`
keep-alive connections; the second as one JSONL file, `POST .../imports`, followed until the
job is SUCCEEDED. Each phase is timed without waiting for the relay (the events reach
events.jsonl in the background); how long the relay then took to deliver every event is
reported on its own. Both runs are then checked the same way: every product in the store
with exactly one history entry (version 1; a sample also read back over HTTP) and exactly one
ProductCreated event in the data folder's events.jsonl. `--rounds` repeats both (the order
alternating, fresh servers each time); prints each round, the median rates, their ratio, and
the CPU time the server spent per product. See docs/performance.md.

    .venv/bin/python bench/import_products.py [--products 20000] [--connections 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MERCHANT = "bench"
HOST = "127.0.0.1"
#: What POST .../imports takes inline (routers/jobs.py MAX_INLINE_IMPORT_BYTES).
MAX_INLINE_IMPORT_BYTES = 10 * 1024 * 1024
NDJSON_MEDIA = "application/x-ndjson"
POLL_SECONDS = 0.05  # the job's GET and the event log's tail: ~20 cheap reads a second
HISTORY_SAMPLE = 100  # products whose history is also read over HTTP
RELAY_TIMEOUT_SECONDS = 900.0


class BenchError(Exception):
    pass


def product_body(serial: int) -> dict[str, Any]:
    """The plain product of bench/get_product.py (no image: an import row cannot carry one),
    with its own SKU and name, and a price that varies a little."""
    return {
        "sku": f"IMP-{serial:06d}",
        "name": f"Trail shoe {serial}",
        "description": "A light trail running shoe with a grippy outsole.",
        "price": {"amount": 12999 + serial % 100, "currency": "USD"},
        "attributes": {"color": "red", "size": 42, "materials": ["mesh", "rubber"]},
        "channel_overrides": {"mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}},
    }


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


# ------------------------------------------------------------------ servers


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    port: int
    data_dir: Path
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process so far (every thread: the request
        handlers, the job worker, the relay); None where /proc is not there."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # After the command's closing parenthesis: state is field 3, utime 14, stime 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(work: Path, name: str) -> Iterator[Server]:
    """A fresh `catalog serve` on its own data folder until the block ends."""
    data_dir = work / name
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CATALOG_")}
    env.update(
        CATALOG_BACKEND="embedded",
        CATALOG_DATA_DIR=str(data_dir),
        CATALOG_PUBLIC_URL=f"http://{HOST}:{port}",
        # One token POSTing thousands of products would be answered 429 by the default limit.
        CATALOG_RATE_LIMIT="off",
    )
    command = [sys.executable, "-m", "catalog.entrypoints.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--log-level", "warning"]
    log = work / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(process, f"http://{HOST}:{port}", port, data_dir, log)
    try:
        wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"the server exited with code {server.process.returncode}:\n" + server.log_tail()
            )
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError("the server did not answer /health:\n" + server.log_tail())


def token_for(data_dir: Path) -> str:
    """A merchant token signed with the data folder's secret (created here, before the
    server starts, so both use the same one)."""
    from catalog.bootstrap import local_tokens
    from catalog.settings import Settings

    return local_tokens(Settings(data_dir=data_dir)).issue(MERCHANT, ["merchant"])


# ------------------------------------------------------------------ the event log


@dataclass
class EventLog:
    """What the relay has appended to <data-dir>/events.jsonl so far, read incrementally."""

    path: Path
    created: Counter[str] = field(default_factory=Counter)  # ProductCreated per product id
    events: Counter[str] = field(default_factory=Counter)  # every event, by type
    _offset: int = 0

    def poll(self) -> None:
        try:
            with self.path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
        except FileNotFoundError:
            return
        complete = chunk.rfind(b"\n") + 1  # a line being appended is read on the next poll
        self._offset += complete
        for line in chunk[:complete].splitlines():
            envelope = json.loads(line)
            self.events[envelope["type"]] += 1
            if envelope["type"] == "ProductCreated":
                self.created[envelope["data"]["product_id"]] += 1

    def wait_for(self, products: int, jobs: int, timeout: float = RELAY_TIMEOUT_SECONDS) -> float:
        """Seconds until `products` distinct ProductCreated events and `jobs` JobFinished
        events are in the log."""
        start = time.perf_counter()
        deadline = start + timeout
        while True:
            self.poll()
            if len(self.created) >= products and self.events["JobFinished"] >= jobs:
                return time.perf_counter() - start
            if time.perf_counter() > deadline:
                raise BenchError(
                    f"after {timeout:.0f} s the relay had delivered {len(self.created)} of"
                    f" {products} ProductCreated and {self.events['JobFinished']} of {jobs}"
                    " JobFinished events"
                )
            time.sleep(POLL_SECONDS)


# ------------------------------------------------------------------ the two ways in


@dataclass
class Phase:
    name: str
    seconds: float
    server_cpu: float | None
    client_cpu: float
    products: int
    jobs: int = 0  # JobFinished events it makes
    relay_seconds: float = 0.0  # after the phase ended, until its every event was in the log
    delivered_at_end: int = 0  # ProductCreated events already in the log when the phase ended
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.products / self.seconds


def post_one_by_one(server: Server, token: str, bodies: Sequence[bytes], connections: int) -> Phase:
    """Every body POSTed once, over `connections` keep-alive connections (one thread each,
    taking the next body as soon as its previous answer is in)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/v1/merchants/{MERCHANT}/products"
    serials = iter(range(len(bodies)))
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        # http.client rather than httpx: the client shares the machine with the server, and
        # the less CPU it takes, the faster (the stronger) this baseline.
        connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
        try:
            while not failures:
                with lock:
                    serial = next(serials, None)
                if serial is None:
                    return
                connection.request("POST", path, body=bodies[serial], headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 201:
                    failures.append(f"product {serial}: {response.status} {answer[:300]!r}")
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"connection: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, name=f"post-{n}") for n in range(connections)]
    cpu_before, client_before = server.cpu_seconds(), time.process_time()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    client_cpu = time.process_time() - client_before
    cpu_after = server.cpu_seconds()
    if failures:
        raise BenchError(f"{len(failures)} POST(s) failed, the first: {failures[0]}")
    server_cpu = (
        cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
    )
    name = f"one by one ({connections} connections)"
    return Phase(name, seconds, server_cpu, client_cpu, len(bodies))


def import_file(server: Server, token: str, content: bytes, products: int) -> Phase:
    """The file as one import job: from its POST until GET says SUCCEEDED."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=auth, timeout=120.0) as client:
        cpu_before, client_before = server.cpu_seconds(), time.process_time()
        start = time.perf_counter()
        answer = client.post(
            f"/v1/merchants/{MERCHANT}/imports",
            content=content,
            headers={"Content-Type": NDJSON_MEDIA},
        )
        accepted = time.perf_counter() - start
        if answer.status_code != 202:
            raise BenchError(f"POST imports: {answer.status_code} {answer.text[:500]}")
        location = answer.headers["Location"]
        while True:
            got = client.get(location)
            if got.status_code != 200:
                raise BenchError(f"GET {location}: {got.status_code} {got.text[:500]}")
            job = got.json()
            if job["status"] not in ("QUEUED", "RUNNING"):
                break
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - start
        client_cpu = time.process_time() - client_before
        cpu_after = server.cpu_seconds()
    if job["status"] != "SUCCEEDED" or job["created"] != products or job["failed"]:
        raise BenchError(f"the import did not create every product: {json.dumps(job)[:1000]}")
    server_cpu = (
        cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
    )
    phase = Phase("import (one JSONL job)", seconds, server_cpu, client_cpu, products, jobs=1)
    phase.notes.append(
        f"202 after {accepted:.2f} s (the {len(content) / 1e6:.1f} MB file sent and saved);"
        f" job counted {job['total']}, created {job['created']}"
    )
    return phase


# ------------------------------------------------------------------ what must hold after


def check_products(server: Server, token: str, skus: set[str], events: EventLog) -> None:
    """Every product stored once under its SKU, with one history entry (version 1) and one
    ProductCreated event; a sample's history also read over HTTP, as a client sees it."""
    database = server.data_dir / "catalog.db"
    # Read-only: the server may still be writing (its relay offsets, say).
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        stored = dict(db.execute("SELECT id, sku FROM products WHERE merchant_id = ?", (MERCHANT,)))
        versions = dict(
            db.execute(
                "SELECT product_id, group_concat(version) FROM history"
                " WHERE merchant_id = ? GROUP BY product_id",
                (MERCHANT,),
            )
        )
    if set(stored.values()) != skus or len(stored) != len(skus):
        raise BenchError(f"{len(stored)} products stored for {len(skus)} SKUs sent")
    if versions != {product_id: "1" for product_id in stored}:
        wrong = sum(1 for p in stored if versions.get(p) != "1")
        raise BenchError(f"{wrong} product(s) without exactly one history entry (version 1)")
    repeated = sum(1 for count in events.created.values() if count != 1)
    if set(events.created) != set(stored) or repeated:
        raise BenchError(
            f"ProductCreated events: {len(events.created)} products, {repeated} more than once,"
            f" for {len(stored)} stored"
        )
    sample = random.Random(13).sample(sorted(stored), min(HISTORY_SAMPLE, len(stored)))
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=auth, timeout=30.0) as client:
        for product_id in sample:
            got = client.get(f"/v1/merchants/{MERCHANT}/products/{product_id}/history")
            items = got.json().get("items") if got.status_code == 200 else None
            if not items or [entry["version"] for entry in items] != [1]:
                raise BenchError(f"history of {product_id}: {got.status_code} {got.text[:300]}")


def measured(work: Path, name: str, skus: set[str], run: Any, *args: Any) -> Phase:
    """One phase on a fresh server: timed by `run`, then the relay waited for, then checked."""
    data_dir = work / name
    token = token_for(data_dir)
    with serving(work, name) as server:
        phase: Phase = run(server, token, *args)
        if hasattr(os, "getloadavg"):
            # Other work on the machine takes CPU from the server: a short phase feels it most.
            phase.notes.append(f"load average {os.getloadavg()[0]:.2f} when it ended")
        events = EventLog(data_dir / "events.jsonl")
        events.poll()
        phase.delivered_at_end = len(events.created)
        phase.relay_seconds = events.wait_for(len(skus), jobs=phase.jobs)
        check_products(server, token, skus, events)
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(events.events.items()))
        phase.notes.append(f"events.jsonl: {kinds}")
    return phase


def describe(phase: Phase) -> None:
    cpu = (
        f"server CPU {phase.server_cpu:.1f} s ="
        f" {phase.server_cpu / phase.products * 1000:.2f} ms/product"
        if phase.server_cpu is not None
        else "server CPU not measured (no /proc)"
    )
    print(
        f"{phase.name:<28} {phase.products} products in {phase.seconds:7.2f} s:"
        f" {phase.rate:8.0f} products/s   ({cpu}; client CPU {phase.client_cpu:.1f} s)"
    )
    print(
        f"{'':<28} relay: {phase.delivered_at_end} ProductCreated in events.jsonl when it"
        f" ended; all {phase.products}"
        + (" and JobFinished" if phase.jobs else "")
        + f" {phase.relay_seconds:.2f} s later"
    )
    for note in phase.notes:
        print(f"{'':<28} {note}")


def report(rounds: Sequence[tuple[Phase, Phase]]) -> None:
    for number, (one_by_one, imported) in enumerate(rounds, start=1):
        print(f"\nround {number}:")
        describe(one_by_one)
        describe(imported)
        print(f"{'':<28} ratio import/one-by-one: {imported.rate / one_by_one.rate:.2f}x")
    posted = statistics.median(one_by_one.rate for one_by_one, _ in rounds)
    imported_rate = statistics.median(imported.rate for _, imported in rounds)
    print(
        f"\nmedian of {len(rounds)} round(s): one by one {posted:.0f} products/s,"
        f" import {imported_rate:.0f} products/s"
    )
    print(f"ratio import/one-by-one: {imported_rate / posted:.2f}x")
    cpus = [
        (one_by_one.server_cpu, imported.server_cpu)
        for one_by_one, imported in rounds
        if one_by_one.server_cpu and imported.server_cpu
    ]
    if cpus:
        ratio = statistics.median(posted_cpu / imported_cpu for posted_cpu, imported_cpu in cpus)
        print(f"server CPU per product, one-by-one/import: {ratio:.2f}x")


def run(args: argparse.Namespace) -> None:
    bodies = [product_body(serial) for serial in range(args.products)]
    posts = [encoded(body) for body in bodies]
    content = b"".join(post + b"\n" for post in posts)
    if len(content) > MAX_INLINE_IMPORT_BYTES:
        raise BenchError(
            f"{args.products} products make a {len(content)}-byte file, more than the"
            f" {MAX_INLINE_IMPORT_BYTES} bytes an inline import takes: ask for fewer"
        )
    skus = {body["sku"] for body in bodies}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.products} distinct products ({len(content) / args.products:.0f} bytes of JSON"
        f" each), on {os.cpu_count()} CPU(s), load average {load:.2f} before the run;"
        f" {args.rounds} round(s)",
        flush=True,
    )
    runs: dict[str, tuple[Any, tuple[Any, ...]]] = {
        "one-by-one": (post_one_by_one, (posts, args.connections)),
        "import": (import_file, (content, args.products)),
    }
    rounds = []
    for number in range(1, args.rounds + 1):
        # Alternating which goes first, so a drift of the machine hits both alike.
        order = ["one-by-one", "import"] if number % 2 else ["import", "one-by-one"]
        done: dict[str, Phase] = {}
        with tempfile.TemporaryDirectory(prefix="catalog-import-bench-") as temp:
            for name in order:
                print(f"round {number}: {name}...", end=" ", flush=True)
                run_phase, extra = runs[name]
                done[name] = measured(Path(temp), name, skus, run_phase, *extra)
                print(f"{done[name].rate:.0f} products/s", flush=True)
        rounds.append((done["one-by-one"], done["import"]))
    report(rounds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=20_000, help="products (20000)")
    parser.add_argument(
        "--connections", type=int, default=8, help="connections POSTing one by one (8)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of both, in alternating order (3)"
    )
    args = parser.parse_args(argv)
    if min(args.products, args.connections, args.rounds) < 1:
        parser.error("--products, --connections and --rounds must be at least 1")
    try:
        run(args)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
