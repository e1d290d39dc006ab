#!/usr/bin/env python3
"""Background re-evaluation on the embedded backend (SQLite), against PATCHing the same
products one by one through the same use cases, in one run.

Registers N products of one type on a fresh SQLite catalog built by the composition root,
then, with the relay stopped so nothing else runs:

1. baseline: one merge patch per product (`update_product`: read, validate, commit a version
   with its history entry and event), as N API requests would do minus HTTP;
2. a type change that leaves every product incomplete, re-evaluated (`reevaluate_after` on the
   type's ProductTypeUpdated event): N new versions by `system`, each with its history entry
   and its events;
3. the same re-evaluation again: what a resumed or repeated run costs (N reads, no write).

Prints the time and rate of each and the re-evaluation's rate against the baseline's.

    .venv/bin/python bench/reevaluation.py [--products 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog.bootstrap import build_container
from catalog.domain.events import DomainEvent, EventName
from catalog.service import product_types, products
from catalog.service.commands import (
    CreateProductType,
    PatchProduct,
    PatchProductType,
    RegisterProduct,
)
from catalog.service.context import CatalogContext
from catalog.service.principals import Principal
from catalog.service.reevaluation import reevaluate_after
from catalog.settings import Settings

MERCHANT = "bench"
WHO = Principal("bench-user", MERCHANT, frozenset({"merchant"}))
APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {"brand": {"type": "string"}, "material": {"type": "string"}},
}


def timed(what: Callable[[], object]) -> float:
    start = time.perf_counter()
    what()
    return time.perf_counter() - start


def type_updated(ctx: CatalogContext) -> DomainEvent:
    outbox = ctx.store
    last: DomainEvent | None = None
    seq = 0
    while True:
        records = outbox.read_after(seq, 5000)  # type: ignore[attr-defined]
        if not records:
            break
        seq = records[-1].seq
        for record in records:
            if record.event.name is EventName.PRODUCT_TYPE_UPDATED:
                last = record.event
    assert last is not None
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    count = parser.parse_args().products

    with tempfile.TemporaryDirectory() as folder:
        container = build_container(Settings(data_dir=Path(folder)))  # workers not started
        ctx = container.ctx
        product_types.create_product_type(ctx, WHO, CreateProductType.from_json(MERCHANT, APPAREL))
        ids: list[str] = []
        setup = time.perf_counter()
        for n in range(count):
            body = {
                "sku": f"SH-{n:06d}",
                "name": f"Shirt {n}",
                "description": "Cotton",
                "price": {"amount": 1999, "currency": "USD"},
                "product_type": "apparel",
                "attributes": {"brand": "Acme"},
            }
            registered = products.register_product(
                ctx, WHO, RegisterProduct.from_json(MERCHANT, body)
            )
            ids.append(registered.product.id)
        print(f"registered {count} products in {time.perf_counter() - setup:.1f} s")

        def patch_each() -> None:
            for product_id in ids:
                patch = {"attributes": {"brand": "Acme", "color": "blue"}}
                products.update_product(ctx, WHO, PatchProduct(MERCHANT, product_id, patch))

        baseline = timed(patch_each)

        patch = {"attributes": {"material": {"type": "string", "required": True}}}
        product_types.patch_product_type(
            ctx, WHO, PatchProductType.from_json(MERCHANT, "apparel", patch)
        )
        event = type_updated(ctx)
        reports: list[Any] = []
        first = timed(lambda: reports.append(reevaluate_after(ctx, event)))
        again = timed(lambda: reports.append(reevaluate_after(ctx, event)))
        container.close()

    changed, unchanged = reports
    assert changed.changed == count and unchanged.changed == 0, reports
    print(f"{'':28}{'seconds':>9}{'products/s':>12}")
    for label, seconds in (
        ("PATCH each (baseline)", baseline),
        ("re-evaluation", first),
        ("re-evaluation again", again),
    ):
        print(f"{label:28}{seconds:9.2f}{count / seconds:12.0f}")
    print(f"re-evaluation / baseline rate: {baseline / first:.2f}")


if __name__ == "__main__":
    main()
