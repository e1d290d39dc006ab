"""Product type definitions: what a merchant may declare, and how a typed product's attributes
are checked against it (DESIGN.md section 9)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.domain.errors import InvalidField
from catalog.domain.product_types import (
    MAX_TYPE_ATTRIBUTES,
    AttributeDefinition,
    AttributeType,
    TypeContent,
    parse_definition,
    parse_type_content,
    parse_type_key,
)

APPAREL: dict[str, Any] = {
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "max_length": 40, "required": True},
        "size": {"type": "enum", "values": ["S", "M", "L"], "variant_axis": True},
        "weight_grams": {"type": "integer", "minimum": 1, "maximum": 5000},
        "cotton_share": {"type": "number", "minimum": 0, "maximum": 1},
        "organic": {"type": "boolean", "required_on": ["mercadolibre"]},
        "care_guide": {"type": "url", "label": "Care guide"},
    },
    "additional_attributes": False,
}


def pointers(error: InvalidField) -> dict[str, str]:
    return {e.field: e.message for e in error.fields}


def test_a_type_round_trips_through_its_json() -> None:
    content = parse_type_content(APPAREL)
    assert content.attributes["size"] == AttributeDefinition(
        type=AttributeType.ENUM, values=("S", "M", "L"), variant_axis=True
    )
    assert content.required_names() == ["brand"]
    assert content.required_names("mercadolibre") == ["organic"]
    assert parse_type_content(content.to_json()) == content
    assert content.to_json() == APPAREL


@pytest.mark.parametrize(
    ("definition", "pointer", "message"),
    [
        ({"type": "text"}, "/attributes/x/type", "must be one of string, integer"),
        ({}, "/attributes/x/type", "must be one of"),
        ({"type": "enum"}, "/attributes/x/values", "needs a list of at least one value"),
        ({"type": "enum", "values": []}, "/attributes/x/values", "at least one value"),
        ({"type": "enum", "values": ["a", "a"]}, "/attributes/x/values/1", "repeats 'a'"),
        ({"type": "string", "values": ["a"]}, "/attributes/x/values", "only enum"),
        ({"type": "integer", "minimum": 5, "maximum": 1}, "/attributes/x/maximum", "less than"),
        ({"type": "integer", "minimum": 1.5}, "/attributes/x/minimum", "must be an integer"),
        ({"type": "string", "minimum": 1}, "/attributes/x/minimum", "only integer and number"),
        ({"type": "integer", "max_length": 3}, "/attributes/x/max_length", "only string and url"),
        ({"type": "string", "max_length": 0}, "/attributes/x/max_length", "from 1 to"),
        ({"type": "boolean", "variant_axis": True}, "/attributes/x/variant_axis", "only string"),
        ({"type": "string", "required": "yes"}, "/attributes/x/required", "true or false"),
        ({"type": "string", "required_on": ["Meta!"]}, "/attributes/x/required_on/0", "slugs"),
        ({"type": "string", "unit": "g"}, "/attributes/x/unit", "not a member"),
    ],
)
def test_a_malformed_definition_names_its_member(
    definition: dict[str, Any], pointer: str, message: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_type_content({"name": "T", "attributes": {"x": definition}})
    assert message in pointers(refused.value)[pointer]


def test_every_bad_member_of_a_type_is_reported_at_once() -> None:
    with pytest.raises(InvalidField) as refused:
        parse_type_content(
            {
                "name": "",
                "attributes": {"Bad-Name": {"type": "string"}, "ok": {"type": "nope"}},
                "additional_attributes": "no",
                "colour": 1,
            }
        )
    assert set(pointers(refused.value)) == {
        "/name",
        "/attributes/Bad-Name",
        "/attributes/ok/type",
        "/additional_attributes",
        "/colour",
    }


def test_a_type_holds_at_most_200_attributes() -> None:
    attributes = {f"a{i}": {"type": "string"} for i in range(MAX_TYPE_ATTRIBUTES + 1)}
    with pytest.raises(InvalidField) as refused:
        parse_type_content({"name": "Big", "attributes": attributes})
    assert refused.value.field == "/attributes"
    assert (
        len(
            parse_type_content(
                {"name": "Big", "attributes": dict(list(attributes.items())[:200])}
            ).attributes
        )
        == 200
    )


@pytest.mark.parametrize("key", ["apparel", "a", "home-and-garden", "tv_4k", "a" * 64])
def test_type_keys_that_are_accepted(key: str) -> None:
    assert parse_type_key(key) == key


@pytest.mark.parametrize("key", ["", "Apparel", "4k", "-x", "a" * 65, "a b", 3, None])
def test_type_keys_that_are_refused(key: Any) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_type_key(key)
    assert refused.value.field == "/key"


def test_attributes_are_checked_against_the_type_all_at_once() -> None:
    content = parse_type_content(APPAREL)
    content.check_attributes({"brand": "Acme", "size": "M", "weight_grams": 300, "organic": True})
    with pytest.raises(InvalidField) as refused:
        content.check_attributes(
            {
                "brand": "x" * 41,
                "size": "XL",
                "weight_grams": 2.5,
                "cotton_share": 1.5,
                "organic": "yes",
                "care_guide": "ftp://example.com/care",
                "colour": "red",
            }
        )
    assert pointers(refused.value) == {
        "/attributes/brand": "must be at most 40 characters",
        "/attributes/size": "must be one of S, M, L",
        "/attributes/weight_grams": "must be an integer",
        "/attributes/cotton_share": "must be at most 1",
        "/attributes/organic": "must be true or false",
        "/attributes/care_guide": "must be an http or https URL",
        "/attributes/colour": "is not an attribute of this product type",
    }


def test_overrides_are_checked_under_their_own_pointer_and_null_is_no_value() -> None:
    content = parse_type_content(APPAREL)
    content.check_attributes({"brand": None}, "/channel_overrides/meta/attributes")
    with pytest.raises(InvalidField) as refused:
        content.check_attributes({"size": "XS"}, "/channel_overrides/meta/attributes")
    assert refused.value.field == "/channel_overrides/meta/attributes/size"


def test_a_type_with_additional_attributes_accepts_names_it_does_not_define() -> None:
    content = parse_type_content({"name": "Open", "attributes": {"brand": {"type": "string"}}})
    assert content.additional_attributes is True
    content.check_attributes({"brand": "Acme", "anything": {"nested": [1, 2]}})


# ------------------------------------------------------------------ properties

_BOUNDS = st.one_of(st.none(), st.integers(-1000, 1000))


@st.composite
def definitions_with_values(draw: st.DrawFn) -> tuple[AttributeDefinition, Any, Any]:
    """A definition, a value it accepts and a value outside it."""
    kind = draw(st.sampled_from(AttributeType))
    if kind is AttributeType.ENUM:
        values = draw(
            st.lists(
                st.text(min_size=1, max_size=10).filter(str.strip),
                min_size=1,
                max_size=5,
                unique=True,
            )
        )
        definition = parse_definition({"type": "enum", "values": values}, "/attributes/x")
        outside = draw(st.text(max_size=10).filter(lambda v: v not in values))
        return definition, draw(st.sampled_from(values)), outside
    if kind in (AttributeType.INTEGER, AttributeType.NUMBER):
        low, high = sorted([draw(st.integers(-1000, 1000)), draw(st.integers(-1000, 1000))])
        definition = parse_definition(
            {"type": kind.value, "minimum": low, "maximum": high}, "/attributes/x"
        )
        inside: int | float = draw(st.integers(low, high))
        if kind is AttributeType.NUMBER:
            inside = draw(st.floats(low, high, allow_nan=False))
        outside_number = draw(
            st.one_of(
                st.integers(max_value=low - 1), st.integers(min_value=high + 1), st.just(math.inf)
            )
        )
        if kind is AttributeType.INTEGER and outside_number == math.inf:
            outside_number = high + 0.5
        return definition, inside, outside_number
    if kind is AttributeType.BOOLEAN:
        return (
            parse_definition({"type": "boolean"}, "/x"),
            draw(st.booleans()),
            draw(st.one_of(st.integers(), st.text())),
        )
    max_length = draw(st.integers(40, 80))
    definition = parse_definition({"type": kind.value, "max_length": max_length}, "/x")
    if kind is AttributeType.URL:
        host = draw(st.from_regex(r"[a-z]{1,16}\.example", fullmatch=True))
        return (
            definition,
            f"https://{host}",
            draw(st.sampled_from(["example.com", "mailto:a@b.c", "https://", 42])),
        )
    text = draw(st.text(max_size=max_length))
    return definition, text, "x" * (max_length + 1)


@given(definitions_with_values())
def test_a_value_a_definition_accepts_round_trips_and_one_outside_is_refused_at_its_pointer(
    case: tuple[AttributeDefinition, Any, Any],
) -> None:
    definition, inside, outside = case
    content = TypeContent(name="T", attributes={"x": definition}, additional_attributes=False)
    assert parse_type_content(content.to_json()) == content
    content.check_attributes({"x": inside})
    with pytest.raises(InvalidField) as refused:
        content.check_attributes({"x": outside})
    assert refused.value.field == "/attributes/x"
