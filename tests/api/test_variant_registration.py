"""Registering a product with variants over HTTP, on every backend: the SKUs they take and the
problems a client gets (the variant routes are tested in test_variants.py)."""

from __future__ import annotations

from typing import Any

from tests.api.support import Api, assert_problem

SHIRT: dict[str, Any] = {
    "sku": "SH",
    "name": "Shirt",
    "price": {"amount": 2500, "currency": "USD"},
    "options": ["size"],
    "variants": [
        {"sku": "SH-S", "options": {"size": "S"}},
        {"sku": "SH-M", "options": {"size": "M"}},
    ],
}


def test_variant_skus_are_taken_by_the_registration(acme: Api) -> None:
    assert acme.create(SHIRT).status_code == 201
    taken = {**SHIRT, "sku": "TEE", "variants": [{"sku": "SH-M", "options": {"size": "M"}}]}
    problem = assert_problem(acme.create(taken), 409)
    assert problem["sku"] == "SH-M"
    assert acme.list().json()["items"][0]["sku"] == "SH"  # the second one wrote nothing


def test_two_variants_with_one_combination_are_a_409(acme: Api) -> None:
    twins = {
        **SHIRT,
        "variants": [
            {"sku": "A", "options": {"size": "S"}},
            {"sku": "B", "options": {"size": "S"}},
        ],
    }
    problem = assert_problem(acme.create(twins), 409)
    assert problem["type"].endswith("/problems/duplicate-variant")
    assert problem["options"] == {"size": "S"}


def test_a_bad_variant_is_a_422_naming_it_by_index(acme: Api) -> None:
    bad = {**SHIRT, "variants": [{"sku": "A", "options": {"size": "S"}, "barcode": "123"}]}
    problem = assert_problem(acme.create(bad), 422)
    assert [e["field"] for e in problem["errors"]] == ["/variants/0/barcode"]
