#!/usr/bin/env python3
"""Cold start of the API Lambda handler against the floor `import fastapi, mangum, boto3`.

Each measurement is a fresh Python process, as a new Lambda container is. In it the clock
starts after the interpreter is up and stops when the answer is back:

- floor:   `import fastapi, mangum, boto3`, the least any FastAPI-on-Lambda handler imports;
- health:  `from catalog.entrypoints.lambda_api import handler`, then one API Gateway HTTP
           API event (payload 2.0) for GET /health: settings, container, app, first answer;
- product: the same with GET /v1/merchants/bench/products/{id} (JWT authorizer claims), read
           from DynamoDB on moto's server on 127.0.0.1 (skipped with --no-product or without
           moto). Its figure includes one local HTTP round trip, which the floor does not.

The catalog's bytecode is compiled first, as the Lambda package ships it. Runs alternate the
order of the three, N runs each; the result is the median of each and
the ratio handler/floor. See bench/README.md.

    .venv/bin/python bench/cold_start.py [--runs 15] [--no-product] [--importtime]
"""

from __future__ import annotations

import argparse
import base64
import compileall
import contextlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MERCHANT = "bench"
CLAIMS = {"sub": "bench-user", "merchant_id": MERCHANT, "roles": "[merchant]", "exp": "1895000000"}
ENV = {
    "CATALOG_BACKEND": "aws",
    "CATALOG_AUTH": "apigw",
    "CATALOG_CURSOR_SECRET": "bench-cursor-secret-0123456789abcdef0123",
    "CATALOG_TABLE_NAME": "bench-catalog",
    "CATALOG_BUCKET_NAME": "bench-assets",
    "CATALOG_RATE_LIMIT": "off",  # as template.yaml sets it on Lambda
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    # Never reached by the health run (it sends nothing to AWS); moto's for the product run.
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}

# The same preamble in every child, so only what follows it differs.
PREAMBLE = """
import json, sys, time
class Context:
    function_name = "catalog-api"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:catalog-api"
    aws_request_id = "bench"
event = json.loads(sys.argv[1]) if len(sys.argv) > 1 else None
started = time.perf_counter()
"""
FLOOR = (
    PREAMBLE
    + """
import fastapi, mangum, boto3
imported = time.perf_counter()
print("RESULT", json.dumps([imported - started, 0.0, 0]))
"""
)
HANDLER = (
    PREAMBLE
    + """
from catalog.entrypoints.lambda_api import handler
imported = time.perf_counter()
response = handler(event, Context())
answered = time.perf_counter()
print("RESULT", json.dumps([imported - started, answered - imported, response["statusCode"]]))
"""
)


def http_event(method: str, path: str, claims: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload format 2.0."""
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "bench",
        "domainName": "api.example.test",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "bench",
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": "$default",
        "stage": "$default",
        "timeEpoch": int(time.time() * 1000),
    }
    headers = {"host": "api.example.test", "x-forwarded-proto": "https"}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
        headers["authorization"] = "Bearer verified-by-api-gateway"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }


@dataclass
class Case:
    name: str
    script: str
    event: dict[str, Any] | None = None
    env: dict[str, str] = field(default_factory=dict)
    imports: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)

    @property
    def totals(self) -> list[float]:
        return [i + a for i, a in zip(self.imports, self.answers, strict=True)]


def compile_catalog() -> None:
    """The catalog's bytecode, as the Lambda package ships it (deploy/package.py): Lambda's
    code folder is read-only, so the package carries its .pyc. A checkout may have none (with
    PYTHONDONTWRITEBYTECODE set, nothing is ever written), and every child would then compile
    the catalog's modules from source, a cost no Lambda container pays. The children only
    read the caches, so this writes them once, up front."""
    if not compileall.compile_dir(ROOT / "src" / "catalog", quiet=1, workers=0):
        sys.exit("could not compile the catalog's bytecode")


def run_once(case: Case, extra_args: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, *(extra_args or []), "-c", case.script]
    if case.event is not None:
        args.append(json.dumps(case.event))
    return subprocess.run(
        args,
        env={**os.environ, **ENV, **case.env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def measure(case: Case) -> None:
    started = time.perf_counter()
    done = run_once(case)
    wall = time.perf_counter() - started
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        sys.exit(f"{case.name}: the child failed\n{done.stderr[-3000:]}")
    imported, answered, status = json.loads(results[-1].removeprefix("RESULT "))
    if case.event is not None and status != 200:
        sys.exit(f"{case.name}: answered {status}, not 200\n{done.stdout[-3000:]}")
    case.imports.append(imported)
    case.answers.append(answered)
    case.walls.append(wall)


@contextmanager
def moto_with_a_product() -> Iterator[tuple[str, str]]:
    """moto's server with the catalog's resources and one product with an image; yields the
    endpoint and the product's path."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    os.environ.update({**ENV, "AWS_ENDPOINT_URL": endpoint})
    try:
        bootstrap = subprocess.run(
            [sys.executable, "-m", "catalog.entrypoints.cli", "aws", "bootstrap"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if bootstrap.returncode != 0:
            sys.exit(f"catalog aws bootstrap failed\n{bootstrap.stderr}")
        from catalog.entrypoints import lambda_api

        create = http_event("POST", f"/v1/merchants/{MERCHANT}/products", CLAIMS)
        create["headers"]["content-type"] = "application/json"
        create["body"] = json.dumps(
            {
                "sku": "BENCH-1",
                "name": "Trail shoe",
                "description": "A light trail running shoe.",
                "price": {"amount": 12999, "currency": "USD"},
                "attributes": {"color": "red", "size": 42},
            }
        )
        with contextlib.redirect_stdout(io.StringIO()):  # the handler's logs and metrics
            created = lambda_api.handler(create, None)
        if created["statusCode"] != 201:
            sys.exit(f"could not create the product: {created}")
        path = f"/v1/merchants/{MERCHANT}/products/{json.loads(created['body'])['id']}"
        upload = http_event("POST", f"{path}/images", CLAIMS)
        upload["headers"]["content-type"] = "multipart/form-data; boundary=bench"
        form = (
            b'--bench\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + tiny_png() + b"\r\n--bench--\r\n"
        )
        upload.update(body=base64.b64encode(form).decode(), isBase64Encoded=True)
        with contextlib.redirect_stdout(io.StringIO()):
            uploaded = lambda_api.handler(upload, None)
        if uploaded["statusCode"] != 201:
            sys.exit(f"could not upload the image: {uploaded}")
        yield endpoint, path
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def importtime_report(case: Case, floor: Case, top: int = 25) -> None:
    """Modules the handler imports beyond the floor, by cumulative import time."""

    def modules(c: Case) -> list[tuple[int, int, str]]:
        done = run_once(c, ["-X", "importtime"])
        rows = []
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            own, cumulative, name = line.removeprefix("import time:").split("|", 2)
            if own.strip().isdigit():
                rows.append((int(own), int(cumulative), name.rstrip()))
        return rows

    floor_names = {name.strip() for _, _, name in modules(floor)}
    extra = [row for row in modules(case) if row[2].strip() not in floor_names]
    print(f"\nimports beyond the floor ({case.name}): {len(extra)} modules,")
    print(f"{sum(own for own, _, _ in extra) / 1000:.0f} ms of own import time; largest:")
    print("   own ms   cumulative ms  module")
    for own, cumulative, name in sorted(extra, key=lambda row: -row[1])[:top]:
        print(f"  {own / 1000:7.1f}  {cumulative / 1000:14.1f}  {name}")


def report(cases: list[Case], floor: Case) -> None:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:7.0f}"

    runs = len(floor.imports)
    print(f"\ncold start, median of {runs} fresh processes each (ms)")
    print("case        import   1st event      total   ratio   process wall")
    base = statistics.median(floor.totals)
    for case in [floor, *cases]:
        ratio = statistics.median(case.totals) / base
        print(
            f"{case.name:<9} {ms(case.imports)}     {ms(case.answers)}    {ms(case.totals)}"
            f"   {ratio:5.2f}        {ms(case.walls)}"
        )
    print("ratio = total / floor total; process wall includes interpreter start-up and exit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per case")
    parser.add_argument("--no-product", action="store_true", help="skip GET product on moto")
    parser.add_argument(
        "--importtime", action="store_true", help="list the imports beyond the floor"
    )
    options = parser.parse_args()

    compile_catalog()
    floor = Case("floor", FLOOR)
    health = Case("health", HANDLER, http_event("GET", "/health"))
    cases = [health]
    with contextmanager_or_none(not options.no_product and moto_available()) as moto:
        if moto is not None:
            endpoint, path = moto
            product = Case(
                "product",
                HANDLER,
                http_event("GET", path, CLAIMS),
                env={"AWS_ENDPOINT_URL": endpoint},
            )
            cases.append(product)
        everything = [floor, *cases]
        for _ in range(2):  # warm the disk cache; not counted
            for case in everything:
                run_once(case)
        for round_number in range(options.runs):
            shift = round_number % len(everything)
            for case in everything[shift:] + everything[:shift]:
                measure(case)
        if options.importtime:
            importtime_report(health, floor)
    report(cases, floor)


def moto_available() -> bool:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        print("moto is not installed: GET product is skipped (pip install -e '.[test]')")
        return False
    return True


@contextmanager
def contextmanager_or_none(enabled: bool) -> Iterator[tuple[str, str] | None]:
    if not enabled:
        yield None
        return
    with moto_with_a_product() as moto:
        yield moto


if __name__ == "__main__":
    main()
