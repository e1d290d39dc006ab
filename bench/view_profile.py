#!/usr/bin/env python3
"""GET product in-process: the catalog's app against the bare endpoint, CPU time per request.

No server, no network, no wrk: each request is one ASGI call into the app, made one at a
time on one event loop, so what is measured is the CPU the app spends per request and
nothing the machine's other load adds to wrk's figures (it still slows the CPU itself). The
products are those of bench/get_product.py (plain, and 50 variants), created through the
catalog's app on a fresh embedded data folder; the bare app (bench/bare_app.py) serves the
very bytes the catalog answered, which the script checks first. `--parts` then times the
pieces of the 50-variant GET on their own. See bench/README.md.

    .venv/bin/python bench/view_profile.py [--requests 3000] [--warmup 300] [--rounds 5] [--parts]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from bare_app import create_app as create_bare_app
from get_product import (
    IMAGE_FIELD,
    KINDS,
    MERCHANT,
    PRODUCT,
    PRODUCT_WITH_VARIANTS,
    VARIANT_COUNT,
    png_bytes,
)

HOST = "127.0.0.1:8000"
ASGIApp = Callable[..., Any]


class ProfileError(Exception):
    pass


def _scope(path: str, token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", HOST.encode()), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app: ASGIApp, scope: dict[str, Any]) -> tuple[int, bytes]:
    """One request through the app, as a server would make it; its status and body."""
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(dict(scope), receive, send)
    return status, b"".join(chunks)


async def _cpu_per_request(app: ASGIApp, scope: dict[str, Any], warmup: int, count: int) -> float:
    """Microseconds of process CPU time per request, over `count` requests after `warmup`."""
    for _ in range(warmup):
        await _call(app, scope)
    started = time.process_time()
    for _ in range(count):
        await _call(app, scope)
    return (time.process_time() - started) / count * 1e6


async def _create_products(app: ASGIApp, token: str) -> list[tuple[str, str]]:
    """The two products of get_product.py, each with its image: (label, GET path) each."""
    products = f"/v1/merchants/{MERCHANT}/products"
    transport = httpx.ASGITransport(app=app)
    created = []
    async with httpx.AsyncClient(
        transport=transport,
        base_url=f"http://{HOST}",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        for (label, _suffix), body in zip(KINDS, (PRODUCT, PRODUCT_WITH_VARIANTS), strict=True):
            response = await client.post(products, json=body)
            if response.status_code != 201:
                raise ProfileError(f"create ({label}): {response.status_code} {response.text}")
            path = f"{products}/{response.json()['id']}"
            upload = await client.post(
                f"{path}/images", files={IMAGE_FIELD: ("shoe.png", png_bytes(), "image/png")}
            )
            if upload.status_code >= 300:
                raise ProfileError(f"upload ({label}): {upload.status_code} {upload.text}")
            created.append((label, path))
    return created


async def _profile(args: argparse.Namespace, data_dir: Path) -> None:
    os.environ.update(
        {
            "CATALOG_BACKEND": "embedded",
            "CATALOG_DATA_DIR": str(data_dir),
            "CATALOG_PUBLIC_URL": f"http://{HOST}",
            "CATALOG_RATE_LIMIT": "off",
        }
    )
    from catalog.bootstrap import build_container, local_tokens
    from catalog.entrypoints.api.app import create_app
    from catalog.settings import Settings

    settings = Settings()
    container = build_container(settings)
    try:
        app = create_app(container)
        token = local_tokens(settings).issue(MERCHANT, ["merchant"])
        created = await _create_products(app, token)
        scopes = {label: _scope(path, token) for label, path in created}
        documents = {}
        for label, _path in created:
            status, body = await _call(app, scopes[label])
            if status != 200:
                raise ProfileError(f"GET ({label}): {status} {body[:200]!r}")
            documents[label] = body
        bare = create_bare_app(
            {path.rsplit("/", 1)[1]: json.loads(documents[label]) for label, path in created}
        )
        for label, _path in created:
            status, body = await _call(bare, scopes[label])
            if status != 200 or body != documents[label]:
                raise ProfileError(f"the bare app does not answer the catalog's bytes ({label})")
        print(
            f"in-process GET, CPU time per request: {args.rounds} round(s) of {args.requests}"
            f" requests after {args.warmup} to warm up, per server and product"
        )
        for label, _path in created:
            print(f"document {label}: {len(documents[label])} bytes")
        targets = [
            (label, server, target)
            for label, _path in created
            for server, target in (("catalog", app), ("bare", bare))
        ]
        times: dict[tuple[str, str], list[float]] = {(lbl, srv): [] for lbl, srv, _ in targets}
        for round_number in range(args.rounds):
            # Alternate the order, so a change of the machine's load hits every target alike.
            order = targets if round_number % 2 == 0 else list(reversed(targets))
            for label, server, target in order:
                times[label, server].append(
                    await _cpu_per_request(target, scopes[label], args.warmup, args.requests)
                )
        print(f"\n{'GET':<12} {'catalog us':>11} {'bare us':>9} {'bare/catalog':>13}  (median)")
        for label, _path in created:
            catalog_us = statistics.median(times[label, "catalog"])
            bare_us = statistics.median(times[label, "bare"])
            print(f"{label:<12} {catalog_us:>11.0f} {bare_us:>9.0f} {bare_us / catalog_us:>13.2f}")
            for server in ("catalog", "bare"):
                rounds = ", ".join(f"{us:.0f}" for us in times[label, server])
                print(f"  {server:<8} rounds: {rounds}")
        if args.parts:
            _parts(container, created[1][1])
    finally:
        container.close()


def _best_us(statement: Callable[[], object], number: int) -> float:
    """Microseconds per call, the best of 5 repeats (timeit's advice for a noisy machine)."""
    return min(timeit.repeat(statement, number=number, repeat=5)) / number * 1e6


def _parts(container: Any, path: str) -> None:
    """The pieces of the 50-variant GET, each timed on its own."""
    import orjson

    from catalog.adapters.product_documents import product_from_document, product_to_document
    from catalog.adapters.stored_values import compact_json
    from catalog.domain.variants import variant_from_json
    from catalog.entrypoints.api.presenters import product_view
    from catalog.service.commands import GetProduct
    from catalog.service.principals import Principal
    from catalog.service.products import get_product

    ctx = container.ctx
    product_id = path.rsplit("/", 1)[1]
    principal = Principal(f"{MERCHANT}-user", MERCHANT, frozenset({"merchant"}))
    query = GetProduct(MERCHANT, product_id)
    product = get_product(ctx, principal, query)
    view = product_view(product, ctx.assets)
    document = product_to_document(product)
    stored = compact_json(document)
    number = 500
    parts = [
        ("read (store.get, decode, domain objects)", lambda: get_product(ctx, principal, query)),
        ("product_view", lambda: product_view(product, ctx.assets)),
        (f"Variant.to_json x {VARIANT_COUNT}", lambda: [v.to_json() for v in product.variants]),
        (
            f"variant_from_json x {VARIANT_COUNT}",
            lambda: [variant_from_json(raw) for raw in document["variants"]],
        ),
        (f"json.loads of the stored document ({len(stored)} B)", lambda: json.loads(stored)),
        ("product_from_document", lambda: product_from_document(document)),
        ("orjson.dumps of the view", lambda: orjson.dumps(view)),
    ]
    print(f"\nparts of the {VARIANT_COUNT}-variant GET (best of 5 x {number} calls):")
    for name, statement in parts:
        print(f"  {name:<44} {_best_us(statement, number):>7.1f} us")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per round")
    parser.add_argument("--warmup", type=int, default=300, help="untimed requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per server and product")
    parser.add_argument("--parts", action="store_true", help="also time the parts of the GET")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="catalog-view-profile-") as temp:
        try:
            asyncio.run(_profile(args, Path(temp)))
        except ProfileError as error:
            print(f"profile failed: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
