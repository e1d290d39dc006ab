"""A product that its variants would grow past what a store keeps is refused with a 413 on every
backend, before anything is written (DESIGN.md section 10: never a 5xx). On DynamoDB the product
is one item of at most 400 KB; the stores' document limit keeps it within that
(docs/dynamodb.md "Variants")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.domain import limits
from tests.api.support import Api, VariantsApi, assert_problem, complete_body

# Strings long enough that one variant's attributes take over half a stored product, and short
# enough that one variant is a request the API accepts (and each string a valid attribute).
NOTE_LENGTH = limits.MAX_DOCUMENT_BYTES // 2 // limits.MAX_ATTRIBUTES + 100


def heavy_variant(sku: str, color: str) -> dict[str, Any]:
    notes = {f"note_{k:03d}": "n" * NOTE_LENGTH for k in range(limits.MAX_ATTRIBUTES)}
    return {"sku": sku, "options": {"color": color}, "attributes": notes}


def test_a_variant_the_product_cannot_hold_is_413_and_nothing_changes(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    variants = VariantsApi(acme)
    product = acme.create_ok(complete_body("SH", options=["color"]))
    first = variants.add(product["id"], heavy_variant("SH-RED", "red"))
    assert first.status_code == 201, first.text
    before = acme.get(product["id"]).json()
    emitted = len(events())

    refused = variants.add(product["id"], heavy_variant("SH-BLUE", "blue"))

    problem = assert_problem(refused, 413)
    assert problem["type"] == "/problems/product-too-large"
    assert acme.get(product["id"]).json() == before
    assert len(events()) == emitted
    # Its SKU was not taken either: the guard is written with the product or not at all.
    assert_problem(variants.find_sku("SH-BLUE"), 404)
    assert variants.add(product["id"], {"sku": "SH-BLUE", "options": {"color": "blue"}}).is_success
