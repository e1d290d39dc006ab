#!/usr/bin/env python3
"""GET product on the embedded server against a bare FastAPI endpoint, in one run.

Starts both as separate uvicorn processes on 127.0.0.1, creates one product with one PNG
image on the embedded server, checks the bare app returns the very same document, then
drives both with wrk (warm-up first, then timed rounds in alternating order) and prints
requests/second of each and their ratio. See bench/README.md.

    .venv/bin/python bench/get_product.py [--duration 10] [--rounds 2] [--bare-only]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
MERCHANT = "bench"
IMAGE_FIELD = "file"  # multipart field of POST .../images
HOST = "127.0.0.1"
WRK_MISSING = """wrk is not installed; this benchmark drives the servers with it.
  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y wrk
  macOS:         brew install wrk
  From source:   https://github.com/wg/wrk"""

PRODUCT = {
    "sku": "BENCH-1",
    "name": "Trail shoe",
    "description": "A light trail running shoe with a grippy outsole.",
    "price": {"amount": 12999, "currency": "USD"},
    "attributes": {"color": "red", "size": 42, "materials": ["mesh", "rubber"]},
    "channel_overrides": {"mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}},
}

# --bare-only has no catalog to ask: it serves a document shaped like the real one.
SAMPLE_DOCUMENT: dict[str, Any] = {
    "id": "01JDBENCHPRODUCT0000000000",
    "merchant_id": MERCHANT,
    "status": "DRAFT",
    "version": 2,
    **PRODUCT,
    "images": [
        {
            "id": "01JDBENCHIMAGE000000000000",
            "url": f"http://{HOST}:8000/assets/bench/p/i.png?expires=1796169600&signature="
            + "x" * 43,
            "content_type": "image/png",
            "width": 800,
            "height": 800,
            "bytes": 10240,
            "alt": None,
        }
    ],
    "listings": {},
    "created_at": "2026-11-30T12:00:00Z",
    "updated_at": "2026-11-30T12:00:01Z",
}


class BenchError(Exception):
    pass


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_responses: int
    socket_errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(
    name: str, command: Sequence[str], env: dict[str, str], port: int, logs: Path
) -> Iterator[Server]:
    """Runs one server process until the block ends; waits for GET /health first."""
    log = logs / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(name, process, f"http://{HOST}:{port}", log)
    try:
        wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"the {server.name} server exited with code {server.process.returncode}:\n"
                + server.log_tail()
            )
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError(f"the {server.name} server did not answer /health:\n" + server.log_tail())


def catalog_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "catalog.entrypoints.cli", *args]


def issue_token(data_dir: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        catalog_command("token", "--merchant", MERCHANT, "--data-dir", str(data_dir)),
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"`catalog token` failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 30, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise BenchError(f"{what}: expected {status}, got {response.status_code}: {response.text}")
    body: dict[str, Any] = response.json()
    return body


def prepare_product(base_url: str, token: str) -> tuple[str, dict[str, Any]]:
    """Creates the product and its image; returns the GET path and the document it serves."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=30.0) as client:
        products = f"/v1/merchants/{MERCHANT}/products"
        created = expect(client.post(products, json=PRODUCT), 201, "create product")
        path = f"{products}/{created['id']}"
        upload = client.post(
            f"{path}/images", files={IMAGE_FIELD: ("shoe.png", png_bytes(), "image/png")}
        )
        if upload.status_code >= 300:
            raise BenchError(f"upload image: got {upload.status_code}: {upload.text}")
        document = expect(client.get(path), 200, "get product")
    if not document.get("images"):
        raise BenchError(f"the product has no image after the upload: {document}")
    return path, document


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    return (done.stdout + done.stderr).strip().splitlines()[0].split(" Copyright")[0]


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise BenchError(f"cannot read wrk latency {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and total and p50 and p99):
        raise BenchError(f"unexpected wrk output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_second=float(rps[1]),
        p50_ms=_duration_ms(p50[1]),
        p99_ms=_duration_ms(p99[1]),
        requests=int(total[1]),
        bad_responses=int(bad[1]) if bad else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_wrk(
    wrk: str, url: str, headers: dict[str, str], seconds: float, threads: int, connections: int
) -> WrkResult:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout)
    if result.bad_responses:
        # A benchmark of 401s or 500s would measure the wrong thing.
        raise BenchError(f"{url}: {result.bad_responses} non-2xx responses under load")
    return result


@dataclass
class Target:
    name: str
    url: str
    headers: dict[str, str]


def measure(wrk: str, targets: list[Target], args: argparse.Namespace) -> dict[str, list[float]]:
    for target in targets:
        print(f"warming up {target.name} ({args.warmup:g} s)...", flush=True)
        run_wrk(wrk, target.url, target.headers, args.warmup, args.threads, args.connections)
    print(f"\n{'round':>5}  {'server':<9} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    results: dict[str, list[float]] = {target.name: [] for target in targets}
    for round_number in range(args.rounds):
        # Alternate who goes first (ABBA...), so drift of the machine hits both alike.
        order = targets if round_number % 2 == 0 else list(reversed(targets))
        for target in order:
            result = run_wrk(
                wrk, target.url, target.headers, args.duration, args.threads, args.connections
            )
            results[target.name].append(result.requests_per_second)
            print(
                f"{round_number + 1:>5}  {target.name:<9} {result.requests_per_second:>10.0f}"
                f" {result.p50_ms:>8.2f} {result.p99_ms:>8.2f}"
                + (f"  ({result.socket_errors} socket errors)" if result.socket_errors else ""),
                flush=True,
            )
    return results


def bare_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bare_app:create_app",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def run(args: argparse.Namespace, wrk: str) -> None:
    print(
        f"GET product: {args.rounds} round(s) of {args.duration:g} s per server, "
        f"{args.threads} threads, {args.connections} connections ({wrk_version(wrk)}), "
        f"CATALOG_RATE_LIMIT={args.rate_limit}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as temp:
        work = Path(temp)
        data_dir = work / "data"
        embedded_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "CATALOG_BACKEND": "embedded",
            "CATALOG_DATA_DIR": str(data_dir),
            "CATALOG_PUBLIC_URL": f"http://{HOST}:{embedded_port}",
            # Off unless asked for: a limit per caller would answer wrk's flood with 429s.
            # `--rate-limit 1000000/s` measures what the limit costs when it never refuses.
            "CATALOG_RATE_LIMIT": args.rate_limit,
        }
        with _embedded(args, env, data_dir, embedded_port, work) as embedded:
            if embedded is None:
                path, document, auth = (
                    f"/v1/merchants/{MERCHANT}/products/{SAMPLE_DOCUMENT['id']}",
                    SAMPLE_DOCUMENT,
                    {},
                )
            else:
                token = issue_token(data_dir, env)
                path, document = prepare_product(embedded.base_url, token)
                auth = {"Authorization": f"Bearer {token}"}
            (work / "document.json").write_text(json.dumps(document))
            bare_env = {**os.environ, "BENCH_DOCUMENT": str(work / "document.json")}
            with serving("bare", bare_command(bare_port), bare_env, bare_port, work) as bare:
                served = expect(httpx.get(bare.base_url + path), 200, "bare GET")
                if served != document:
                    raise BenchError("the bare app does not serve the catalog's document")
                size = len(json.dumps(document))
                print(f"document: {size} bytes of JSON, {len(document['images'])} image(s)\n")
                targets = [Target("bare", bare.base_url + path, auth)]
                if embedded is not None:
                    targets.insert(0, Target("embedded", embedded.base_url + path, auth))
                results = measure(wrk, targets, args)
    report(results)


@contextmanager
def _embedded(
    args: argparse.Namespace, env: dict[str, str], data_dir: Path, port: int, logs: Path
) -> Iterator[Server | None]:
    if args.bare_only:
        yield None
        return
    command = catalog_command(
        "serve", "--port", str(port), "--data-dir", str(data_dir), "--log-level", "warning"
    )
    with serving("embedded", command, env, port, logs) as server:
        yield server


def report(results: dict[str, list[float]]) -> None:
    means = {name: statistics.fmean(values) for name, values in results.items()}
    print()
    for name, mean in means.items():
        spread = f" (rounds: {', '.join(f'{v:.0f}' for v in results[name])})"
        print(f"{name:<9} {mean:>10.0f} req/s{spread}")
    if "embedded" in means:
        ratio = means["embedded"] / means["bare"]
        print(f"ratio embedded/bare: {ratio:.2f} ({ratio:.0%} of the bare endpoint's throughput)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, default=2, help="measurements per server")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--rate-limit",
        default="off",
        help="CATALOG_RATE_LIMIT of the catalog (default off); e.g. 1000000/s to measure its cost",
    )
    parser.add_argument(
        "--bare-only",
        action="store_true",
        help="only the bare endpoint, with a sample document (checks the machine and wrk)",
    )
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    try:
        run(args, wrk)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
