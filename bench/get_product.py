#!/usr/bin/env python3
"""GET product on the embedded server against a bare FastAPI endpoint, in one run.

Starts both as separate uvicorn processes on 127.0.0.1, creates two products on the embedded
server (a plain one with one PNG image, and the same with 50 variants), checks the bare app
answers the very same bytes for each, then drives all four with wrk under each shape (warm-up
first, then timed rounds in alternating order) and prints requests/second of each and the
ratio embedded/bare per product and shape: the median of the rounds' ratios, each round's
two servers having run back to back. See bench/README.md.

    .venv/bin/python bench/get_product.py [--duration 4] [--rounds 5] [--shapes 1x16,2x32]
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
from dataclasses import dataclass, field
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

PRODUCT: dict[str, Any] = {
    "sku": "BENCH-1",
    "name": "Trail shoe",
    "description": "A light trail running shoe with a grippy outsole.",
    "price": {"amount": 12999, "currency": "USD"},
    "attributes": {"color": "red", "size": 42, "materials": ["mesh", "rubber"]},
    "channel_overrides": {"mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}},
}

VARIANT_COUNT = 50
COLORS = ("black", "white", "red", "blue", "green", "yellow", "grey", "navy", "olive", "sand")
SIZES = ("XS", "S", "M", "L", "XL")
DEFAULT_SHAPES = "1x16,2x32"
NAME_WIDTH = 18  # server names in the tables
# Headers about the message itself, which each server sets on its own.
FRAMING_HEADERS = {"content-length", "content-type", "date", "server"}
# The two products measured: their label in the report and the suffix of their servers' names.
KINDS = (("plain", ""), (f"{VARIANT_COUNT} variants", f" {VARIANT_COUNT}v"))


def gtin13(serial: int) -> str:
    """A valid GTIN-13 (the catalog checks the GS1 check digit of every barcode)."""
    body = f"400638{serial:06d}"
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str(-total % 10)


def variant_bodies(count: int) -> list[dict[str, Any]]:
    """`count` distinct colour x size combinations, each with its SKU, stock and barcode;
    every other one has its own price (the rest inherit the product's)."""
    combinations = [(color, size) for color in COLORS for size in SIZES]
    if count > len(combinations):
        raise BenchError(f"at most {len(combinations)} variants, not {count}")
    bodies: list[dict[str, Any]] = []
    for serial, (color, size) in enumerate(combinations[:count]):
        body: dict[str, Any] = {
            "sku": f"BENCH-2-{color.upper()}-{size}",
            "options": {"color": color, "size": size},
            "stock": serial * 7 % 40,
            "barcode": gtin13(serial),
        }
        if serial % 2:
            body["price"] = {"amount": 12999 + 500 * (serial % 5), "currency": "USD"}
        bodies.append(body)
    return bodies


# The plain product plus options and variants; its attributes leave out the two axes, which
# each variant names instead.
PRODUCT_WITH_VARIANTS: dict[str, Any] = {
    **PRODUCT,
    "sku": "BENCH-2",
    "attributes": {"materials": ["mesh", "rubber"]},
    "options": ["color", "size"],
    "variants": variant_bodies(VARIANT_COUNT),
}

# --bare-only has no catalog to ask: it serves documents shaped like the real ones.
SAMPLE_DOCUMENT: dict[str, Any] = {
    "id": "01JDBENCHPRODUCT0000000000",
    "merchant_id": MERCHANT,
    "sku": PRODUCT["sku"],
    "product_type": None,
    "status": "DRAFT",
    "version": 2,
    **{key: value for key, value in PRODUCT.items() if key != "sku"},
    "options": [],
    "variants": [],
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
    "completeness": {
        "ready": {"complete": True, "missing": []},
        "channels": {"mercadolibre": {"complete": True, "missing": []}},
    },
    "created_at": "2026-11-30T12:00:00Z",
    "updated_at": "2026-11-30T12:00:01Z",
}
SAMPLE_VARIANTS_DOCUMENT: dict[str, Any] = {
    **SAMPLE_DOCUMENT,
    "id": "01JDBENCHPRODUCT0000000050",
    "sku": PRODUCT_WITH_VARIANTS["sku"],
    "attributes": PRODUCT_WITH_VARIANTS["attributes"],
    "options": PRODUCT_WITH_VARIANTS["options"],
    "variants": [
        {
            "id": f"01JDBENCHVARIANT{serial:010d}",
            "price": None,
            "attributes": None,
            "image_ids": [],
            "barcode": None,
            "stock": None,
            **body,
        }
        for serial, body in enumerate(PRODUCT_WITH_VARIANTS["variants"])
    ],
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


@dataclass
class Document:
    """One product as GET answers it: the bytes both servers must send for `path`."""

    label: str  # in the report: "plain", "50 variants"
    suffix: str  # of its two servers' names in the tables: "", " 50v"
    path: str
    body: bytes
    # The response headers that are the catalog's own (not framing: length, type, date).
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def server_names(self) -> tuple[str, str]:
        return "embedded" + self.suffix, "bare" + self.suffix

    @property
    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = json.loads(self.body)
        return content


def prepare_products(base_url: str, token: str) -> list[Document]:
    """Creates the plain product and the one with variants, each with one image; returns
    what GET answers for each."""
    auth = {"Authorization": f"Bearer {token}"}
    products = f"/v1/merchants/{MERCHANT}/products"
    documents = []
    with httpx.Client(base_url=base_url, headers=auth, timeout=30.0) as client:
        for (label, suffix), body in zip(KINDS, (PRODUCT, PRODUCT_WITH_VARIANTS), strict=True):
            created = expect(client.post(products, json=body), 201, f"create product ({label})")
            path = f"{products}/{created['id']}"
            upload = client.post(
                f"{path}/images", files={IMAGE_FIELD: ("shoe.png", png_bytes(), "image/png")}
            )
            if upload.status_code >= 300:
                raise BenchError(f"upload image: got {upload.status_code}: {upload.text}")
            got = client.get(path)
            expect(got, 200, f"get product ({label})")
            own = {k: v for k, v in got.headers.items() if k.lower() not in FRAMING_HEADERS}
            documents.append(Document(label, suffix, path, got.content, own))
    for document in documents:
        if not document.content.get("images"):
            raise BenchError(f"the {document.label} product has no image after the upload")
    if len(documents[1].content["variants"]) != VARIANT_COUNT:
        raise BenchError(f"the product does not show its {VARIANT_COUNT} variants")
    return documents


def sample_documents() -> list[Document]:
    """What --bare-only serves, encoded as the catalog encodes its views (compact, UTF-8)."""
    return [
        Document(
            label,
            suffix,
            f"/v1/merchants/{MERCHANT}/products/{content['id']}",
            json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode(),
        )
        for (label, suffix), content in zip(
            KINDS, (SAMPLE_DOCUMENT, SAMPLE_VARIANTS_DOCUMENT), strict=True
        )
    ]


def check_same_bytes(document: Document, served: httpx.Response) -> None:
    if served.status_code != 200:
        raise BenchError(f"bare GET ({document.label}): got {served.status_code}: {served.text}")
    if served.content != document.body:
        at = next(
            (
                i
                for i, (a, b) in enumerate(zip(served.content, document.body, strict=False))
                if a != b
            ),
            min(len(served.content), len(document.body)),
        )
        raise BenchError(
            f"the bare app does not answer the catalog's bytes for the {document.label} product"
            f" ({len(served.content)} vs {len(document.body)} bytes, first difference at {at}:"
            f" {served.content[at - 20 : at + 20]!r} vs {document.body[at - 20 : at + 20]!r})"
        )


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


@dataclass(frozen=True)
class Shape:
    """wrk's load: threads and connections."""

    threads: int
    connections: int

    def __str__(self) -> str:
        return f"-t{self.threads} -c{self.connections}"


def parse_shapes(text: str) -> list[Shape]:
    shapes = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)x(\d+)\s*", part)
        if match is None or int(match[1]) < 1 or int(match[2]) < int(match[1]):
            raise argparse.ArgumentTypeError(
                f"{part!r}: a shape is THREADSxCONNECTIONS, e.g. 2x32 (connections >= threads)"
            )
        shapes.append(Shape(int(match[1]), int(match[2])))
    return shapes


def measure(
    wrk: str, targets: list[Target], shape: Shape, args: argparse.Namespace
) -> dict[str, list[WrkResult]]:
    print(f"\nwrk {shape}: {args.rounds} round(s) of {args.duration:g} s per server and product")
    for target in targets:
        print(f"warming up {target.name} ({args.warmup:g} s)...", flush=True)
        run_wrk(wrk, target.url, target.headers, args.warmup, shape.threads, shape.connections)
    print(f"\n{'round':>5}  {'server':<{NAME_WIDTH}} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    results: dict[str, list[WrkResult]] = {target.name: [] for target in targets}
    for round_number in range(args.rounds):
        # Alternate who goes first (ABBA...), so drift of the machine hits both alike; each
        # product's two servers stay next to each other in both orders.
        order = targets if round_number % 2 == 0 else list(reversed(targets))
        for target in order:
            result = run_wrk(
                wrk, target.url, target.headers, args.duration, shape.threads, shape.connections
            )
            results[target.name].append(result)
            print(
                f"{round_number + 1:>5}  {target.name:<{NAME_WIDTH}}"
                f" {result.requests_per_second:>10.0f}"
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
    shapes = ", ".join(str(shape) for shape in args.shapes)
    print(
        f"GET product: {args.rounds} round(s) of {args.duration:g} s per server, plain and with"
        f" {VARIANT_COUNT} variants, wrk {shapes} ({wrk_version(wrk)}), "
        f"CATALOG_RATE_LIMIT={args.rate_limit}"
        + (", the bare endpoint with the catalog's headers" if args.same_headers else ""),
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
            auth: dict[str, str] = {}
            if embedded is None:
                documents = sample_documents()
            else:
                token = issue_token(data_dir, env)
                documents = prepare_products(embedded.base_url, token)
                auth = {"Authorization": f"Bearer {token}"}
            # The bare app decodes these once and encodes the same content on every request.
            served_by_id = {
                document.path.rsplit("/", 1)[1]: document.content for document in documents
            }
            (work / "documents.json").write_text(json.dumps(served_by_id))
            bare_env = {**os.environ, "BENCH_DOCUMENTS": str(work / "documents.json")}
            if args.same_headers:
                headers_by_id = {
                    document.path.rsplit("/", 1)[1]: document.headers for document in documents
                }
                (work / "headers.json").write_text(json.dumps(headers_by_id))
                bare_env["BENCH_HEADERS"] = str(work / "headers.json")
            with serving("bare", bare_command(bare_port), bare_env, bare_port, work) as bare:
                targets = []
                for document in documents:
                    check_same_bytes(document, httpx.get(bare.base_url + document.path))
                    content = document.content
                    print(
                        f"document {document.label}: {len(document.body)} bytes of JSON,"
                        f" {len(content['images'])} image(s), {len(content['variants'])} variant(s)"
                    )
                    embedded_name, bare_name = document.server_names
                    if embedded is not None:
                        targets.append(
                            Target(embedded_name, embedded.base_url + document.path, auth)
                        )
                    targets.append(Target(bare_name, bare.base_url + document.path, auth))
                results = {shape: measure(wrk, targets, shape, args) for shape in args.shapes}
    report(documents, results)


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


def paired_ratios(embedded: list[WrkResult], bare: list[WrkResult]) -> list[float]:
    """embedded/bare of each round: the two ran back to back, so a drift of the machine
    between rounds (another process, the CPU's clock) hits both sides of one ratio alike."""
    return [
        e.requests_per_second / b.requests_per_second for e, b in zip(embedded, bare, strict=True)
    ]


def report(documents: list[Document], results: dict[Shape, dict[str, list[WrkResult]]]) -> None:
    ratios: dict[tuple[Shape, str], float] = {}
    for shape, by_name in results.items():
        for document in documents:
            print(f"\nwrk {shape}, {document.label} ({len(document.body)} bytes):")
            names = document.server_names
            for name in names:
                if name not in by_name:
                    continue
                rates = [result.requests_per_second for result in by_name[name]]
                spread = f" (rounds: {', '.join(f'{rate:.0f}' for rate in rates)})"
                print(f"{name:<{NAME_WIDTH}} {statistics.fmean(rates):>10.0f} req/s{spread}")
            if names[0] in by_name:
                pairs = paired_ratios(by_name[names[0]], by_name[names[1]])
                ratio = ratios[shape, document.label] = statistics.median(pairs)
                print(
                    f"ratio embedded/bare: {ratio:.2f}, the median of {len(pairs)} rounds'"
                    f" ({', '.join(f'{pair:.2f}' for pair in pairs)})"
                )
    if not ratios:
        return
    print(
        f"\n{'ratio embedded/bare':<{NAME_WIDTH}}" + "".join(f" {shape!s:>10}" for shape in results)
    )
    for document in documents:
        print(
            f"{document.label:<{NAME_WIDTH}}"
            + "".join(f" {ratios[shape, document.label]:>10.2f}" for shape in results)
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=4, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, default=5, help="measurements per server")
    parser.add_argument(
        "--shapes",
        type=parse_shapes,
        default=parse_shapes(DEFAULT_SHAPES),
        help=f"wrk loads to measure, THREADSxCONNECTIONS separated by commas ({DEFAULT_SHAPES})",
    )
    parser.add_argument("--threads", type=int, help="wrk threads: one shape instead of --shapes")
    parser.add_argument(
        "--connections", type=int, help="wrk connections: one shape instead of --shapes"
    )
    parser.add_argument(
        "--rate-limit",
        default="off",
        help="CATALOG_RATE_LIMIT of the catalog (default off); e.g. 1000000/s to measure its cost",
    )
    parser.add_argument(
        "--same-headers",
        action="store_true",
        help="the bare endpoint also sends the catalog's own response headers (ETag, "
        "Cache-Control, the security headers): what the rest of the gap is",
    )
    parser.add_argument(
        "--bare-only",
        action="store_true",
        help="only the bare endpoint, with a sample document (checks the machine and wrk)",
    )
    args = parser.parse_args(argv)
    if args.threads is not None or args.connections is not None:
        # The single shape of earlier versions of this script (and of the figures recorded
        # with it): 2 threads, 32 connections unless told.
        args.shapes = [Shape(args.threads or 2, args.connections or 32)]
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
