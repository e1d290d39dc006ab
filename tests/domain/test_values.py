"""Parsers of untrusted JSON: each bad value names its field."""

from __future__ import annotations

import pytest

from catalog.domain import limits
from catalog.domain.errors import InvalidField
from catalog.domain.values import (
    ChannelOverride,
    Money,
    parse_attributes,
    parse_money,
    parse_overrides,
    parse_sku,
)


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


@pytest.mark.parametrize(
    ("parse", "value", "field"),
    [
        (parse_sku, None, "/sku"),
        (parse_sku, "", "/sku"),
        (parse_sku, "has space", "/sku"),
        (parse_sku, "TS-1\n", "/sku"),
        (lambda v: parse_money(v, "/price"), {"amount": 1, "currency": "USD\n"}, "/price/currency"),
        (parse_overrides, {"ml\n": {}}, "/channel_overrides/ml\n"),
        (parse_sku, "x" * (limits.MAX_SKU_LENGTH + 1), "/sku"),
        (lambda v: parse_money(v, "/price"), {"amount": 1.5, "currency": "USD"}, "/price/amount"),
        (lambda v: parse_money(v, "/price"), {"amount": True, "currency": "USD"}, "/price/amount"),
        (lambda v: parse_money(v, "/price"), {"amount": -1, "currency": "USD"}, "/price/amount"),
        (lambda v: parse_money(v, "/price"), {"amount": 1, "currency": "usd"}, "/price/currency"),
        (lambda v: parse_money(v, "/price"), {"amount": 1, "currency": "USD", "x": 1}, "/price/x"),
        (lambda v: parse_money(v, "/price"), "12.99", "/price"),
        (lambda v: parse_attributes(v, "/attributes"), [], "/attributes"),
        (
            lambda v: parse_attributes(v, "/attributes"),
            {f"k{i}": i for i in range(limits.MAX_ATTRIBUTES + 1)},
            "/attributes",
        ),
        (
            lambda v: parse_attributes(v, "/attributes"),
            nested(limits.MAX_ATTRIBUTE_DEPTH + 1),
            "/attributes/n/n/n/n/n",
        ),
        (
            lambda v: parse_attributes(v, "/attributes"),
            {"a": "x" * (limits.MAX_ATTRIBUTE_STRING_LENGTH + 1)},
            "/attributes/a",
        ),
        (lambda v: parse_attributes(v, "/attributes"), {"a/b": {"": 1}}, "/attributes/a~1b/"),
        (parse_overrides, {"Bad Slug": {}}, "/channel_overrides/Bad Slug"),
        (parse_overrides, {"ml": {"sku": "x"}}, "/channel_overrides/ml/sku"),
        (parse_overrides, {"ml": {"price": {"amount": 1}}}, "/channel_overrides/ml/price/currency"),
    ],
)
def test_bad_values_name_their_field(parse, value, field):
    with pytest.raises(InvalidField) as raised:
        parse(value)
    assert raised.value.field == field


def test_attributes_at_the_limits_are_accepted():
    at_depth = nested(limits.MAX_ATTRIBUTE_DEPTH - 1)
    assert parse_attributes(at_depth, "/attributes") == at_depth
    many = {f"k{i}": i for i in range(limits.MAX_ATTRIBUTES)}
    assert parse_attributes(many, "/attributes") == many


def test_overrides_drop_empty_and_null_channels():
    parsed = parse_overrides(
        {"ml": {"price": {"amount": 5, "currency": "ARS"}}, "fb": None, "ig": {}}
    )
    assert parsed == {"ml": ChannelOverride(price=Money(5, "ARS"))}
