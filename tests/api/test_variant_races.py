"""Variant writes racing over HTTP (DESIGN.md section 10): a merchant's SKU has one holder
however requests interleave, and concurrent variant changes to one product lose nothing.

Each race releases its requests together from threads (a Barrier) and is repeated a few
rounds. It runs where requests really interleave in the store: SQLite (pooled connections,
BEGIN IMMEDIATE) and DynamoDB on moto (conditioned transactions). The memory store does all
of a commit under one lock; tests/contract/test_sku_store_contract.py races it at the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import Api, VariantsApi, assert_problem, complete_body
from tests.backends import BACKENDS, CatalogStore

RACING_BACKENDS = ["sqlite", "aws"]
ROUNDS = 4


@pytest.fixture(params=RACING_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogStore]:
    with BACKENDS[request.param](request, tmp_path) as store:
        yield store


@pytest.fixture
def variants(acme: Api) -> VariantsApi:
    return VariantsApi(acme)


def shirt(acme: Api, sku: str) -> dict[str, Any]:
    return acme.create_ok(complete_body(sku, options=["color", "size"]))


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Each call from its own thread, released together; the responses in the calls' order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def variant(sku: str, color: str, size: str = "M") -> dict[str, Any]:
    return {"sku": sku, "options": {"color": color, "size": size}}


def assert_duplicate_sku(response: httpx.Response, sku: str) -> None:
    problem = assert_problem(response, 409)
    assert problem["type"].endswith("/problems/duplicate-sku")
    assert problem["sku"] == sku


def test_two_products_adding_one_sku_at_once_have_one_winner(
    acme: Api, variants: VariantsApi
) -> None:
    rivals = [shirt(acme, "SH-A"), shirt(acme, "SH-B")]
    for n in range(ROUNDS):
        sku = f"RACE-{n}"
        before = {p["id"]: acme.get(p["id"]).json() for p in rivals}

        responses = at_once(
            *(partial(variants.add, p["id"], variant(sku, f"c{n}")) for p in rivals)
        )

        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        (won,) = (r for r in responses if r.status_code == 201)
        (lost,) = (r for r in responses if r.status_code == 409)
        assert_duplicate_sku(lost, sku)
        winner = won.json()
        added = winner["variants"][-1]
        assert added["sku"] == sku
        assert winner["version"] == before[winner["id"]]["version"] + 1
        found = variants.find_sku(sku).json()
        assert found == {"sku": sku, "product_id": winner["id"], "variant_id": added["id"]}
        (loser_id,) = (p["id"] for p in rivals if p["id"] != winner["id"])
        assert acme.get(loser_id).json() == before[loser_id]  # no variant, no new version


def test_a_registration_and_a_variant_taking_one_sku_at_once_have_one_winner(
    acme: Api, variants: VariantsApi
) -> None:
    product = shirt(acme, "SH")
    for n in range(ROUNDS):
        sku = f"DUEL-{n}"
        before = acme.get(product["id"]).json()

        registered, added = at_once(
            partial(acme.create, complete_body(sku)),
            partial(variants.add, product["id"], variant(sku, f"c{n}")),
        )

        statuses = (registered.status_code, added.status_code)
        assert sorted(statuses) == [201, 409], (registered.text, added.text)
        holders = [p for p in acme.list(limit=100).json()["items"] if p["sku"] == sku]
        found = variants.find_sku(sku).json()
        if registered.status_code == 201:
            assert_duplicate_sku(added, sku)
            assert [p["id"] for p in holders] == [registered.json()["id"]]
            assert found == {"sku": sku, "product_id": registered.json()["id"], "variant_id": None}
            assert acme.get(product["id"]).json() == before
        else:
            assert_duplicate_sku(registered, sku)
            assert holders == []
            new_variant = added.json()["variants"][-1]
            assert new_variant["sku"] == sku
            assert found == {
                "sku": sku,
                "product_id": product["id"],
                "variant_id": new_variant["id"],
            }


def test_two_variants_added_to_one_product_at_once_are_both_kept(
    acme: Api, variants: VariantsApi
) -> None:
    product = shirt(acme, "SH")
    version = product["version"]
    for n in range(ROUNDS):
        bodies = [variant(f"SH-{n}-A", f"a{n}"), variant(f"SH-{n}-B", f"b{n}")]

        responses = at_once(*(partial(variants.add, product["id"], b) for b in bodies))

        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
        # The one that met a moved version read the product again and added to the latest.
        assert sorted(r.json()["version"] for r in responses) == [version + 1, version + 2]
        for response, body in zip(responses, bodies, strict=True):
            assert response.json()["variants"][-1]["sku"] == body["sku"]
        version += 2
        final = acme.get(product["id"]).json()
        assert final["version"] == version
        skus = [v["sku"] for v in final["variants"]]
        assert skus[-2:] in ([b["sku"] for b in bodies], [b["sku"] for b in bodies[::-1]])
        assert len(skus) == 2 * (n + 1)  # every earlier round's pair still there
        for kept in final["variants"][-2:]:
            owner = variants.find_sku(kept["sku"]).json()
            assert (owner["product_id"], owner["variant_id"]) == (product["id"], kept["id"])
    history = acme.history(product["id"], limit=100).json()["items"]
    assert [entry["version"] for entry in history] == list(range(version, 0, -1))


@pytest.mark.parametrize(
    ("clash", "problem_type"),
    [("sku", "/problems/duplicate-sku"), ("combination", "/problems/duplicate-variant")],
)
def test_two_adds_to_one_product_clashing_at_once_have_one_winner(
    acme: Api, variants: VariantsApi, clash: str, problem_type: str
) -> None:
    """The loser met a moved version, read the product again and was judged against the
    variant that won: the product's own rules hold under a race too."""
    for n in range(ROUNDS):
        product = shirt(acme, f"SH-{n}")
        first = variant(f"SH-{n}-A", "red")
        second = variant(f"SH-{n}-A", "blue") if clash == "sku" else variant(f"SH-{n}-B", "red")

        responses = at_once(
            partial(variants.add, product["id"], first),
            partial(variants.add, product["id"], second),
        )

        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        (won,) = (r for r in responses if r.status_code == 201)
        (lost,) = (r for r in responses if r.status_code == 409)
        assert assert_problem(lost, 409)["type"].endswith(problem_type)
        final = acme.get(product["id"]).json()
        assert final == won.json()
        assert final["version"] == 2
        (kept,) = final["variants"]
        owner = variants.find_sku(kept["sku"]).json()
        assert (owner["product_id"], owner["variant_id"]) == (product["id"], kept["id"])
