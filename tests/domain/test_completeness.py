"""Completeness: the pointers missing from a view, for READY and per channel."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.domain.completeness import (
    READY_POINTERS,
    Completeness,
    completeness_from_json,
    evaluate,
    missing,
    parse_requirements,
)
from catalog.domain.errors import InvalidField

VIEW: dict[str, Any] = {
    "name": "Trail shoe",
    "description": "  ",
    "price": {"amount": 1000, "currency": "USD"},
    "images": [],
    "attributes": {"brand": "Acme", "size": {"eu": 42, "us": ""}, "a/b": 1, "tags": []},
}


@pytest.mark.parametrize(
    ("pointer", "is_missing"),
    [
        ("/name", False),
        ("/description", True),  # blank is no value
        ("/price", False),
        ("/images", True),  # an empty list is no value
        ("/attributes/brand", False),
        ("/attributes/size/eu", False),
        ("/attributes/size/us", True),
        ("/attributes/a~1b", False),  # RFC 6901 escape
        ("/attributes/tags", True),
        ("/attributes/colour", True),
        ("/attributes/brand/deeper", True),
    ],
)
def test_a_pointer_is_missing_when_it_holds_no_value(pointer: str, is_missing: bool) -> None:
    assert missing(VIEW, [pointer]) == ((pointer,) if is_missing else ())


def test_channels_add_their_needs_to_readys_on_their_own_view() -> None:
    meta_view = {**VIEW, "description": "From the override", "images": [{"id": "i"}]}
    completeness = evaluate(
        VIEW,
        [*READY_POINTERS, "/attributes/brand"],
        {"meta": meta_view, "mercadolibre": VIEW},
        {"meta": ["/attributes/gtin", "/description"], "mercadolibre": ["/attributes/brand"]},
    )
    assert completeness.ready == ("/description", "/images")
    assert completeness.channels == {
        "mercadolibre": ("/description", "/images"),
        "meta": ("/attributes/gtin",),
    }
    assert not completeness.complete_on("meta")
    assert completeness.missing_on("other") == completeness.ready
    assert completeness.to_json() == {
        "ready": {"complete": False, "missing": ["/description", "/images"]},
        "channels": {
            "mercadolibre": {"complete": False, "missing": ["/description", "/images"]},
            "meta": {"complete": False, "missing": ["/attributes/gtin"]},
        },
    }
    assert completeness_from_json(completeness.to_json()) == completeness


def test_a_complete_product_misses_nothing() -> None:
    full = {**VIEW, "description": "Grippy", "images": [{"id": "i"}]}
    done = evaluate(full, READY_POINTERS, {"meta": full}, {})
    assert done == Completeness(ready=(), channels={"meta": ()})
    assert done.complete_on("meta")


def test_requirements_keep_their_order_and_drop_repeats() -> None:
    body = {"required": ["/price", "/attributes/brand", "/price", "/attributes/a~1b/c"]}
    assert parse_requirements(body) == ("/price", "/attributes/brand", "/attributes/a~1b/c")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ([], "/"),
        ({"required": "/price"}, "/required"),
        ({"required": ["/price"], "optional": []}, "/optional"),
        ({"required": ["price"]}, "/required/0"),
        ({"required": ["/price", "/stock"]}, "/required/1"),
        ({"required": ["/attributes/"]}, "/required/0"),
        ({"required": ["/attributes/a~2"]}, "/required/0"),
        ({"required": [3]}, "/required/0"),
        ({"required": ["/attributes/x"] * 101}, "/required"),
    ],
)
def test_malformed_requirements_name_the_bad_member(body: Any, pointer: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_requirements(body)
    assert pointer in {e.field for e in refused.value.fields}
