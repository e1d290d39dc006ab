"""Prices as a person types them, to minor units and back, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.domain.errors import FieldErrors, InvalidField
from catalog.entrypoints.console.money import format_amount, format_price, price_json


def parsed(amount: str, currency: str) -> object:
    errors = FieldErrors()
    price = price_json(amount, currency, errors)
    errors.raise_any()
    return price


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("25.00", "USD", {"amount": 2500, "currency": "USD"}),
        ("25", "usd", {"amount": 2500, "currency": "USD"}),
        ("1,299.5", "EUR", {"amount": 129950, "currency": "EUR"}),
        ("12999", "JPY", {"amount": 12999, "currency": "JPY"}),
        ("12.999", "KWD", {"amount": 12999, "currency": "KWD"}),
        ("", "", None),
    ],
)
def test_typed_prices(amount: str, currency: str, expected: object) -> None:
    assert parsed(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "pointer", "message"),
    [
        ("25.005", "USD", "/price/amount", "USD prices have 2 decimal places"),
        ("1.5", "JPY", "/price/amount", "JPY prices have no decimal places"),
        ("abc", "USD", "/price/amount", "must be a number"),
        ("-1", "USD", "/price/amount", "at least 0"),
        ("25.00", "", "/price/currency", "is required"),
        ("25.00", "XYZ", "/price/currency", "ISO 4217"),
        ("", "USD", "/price/amount", "is required"),
    ],
)
def test_refused_prices_name_their_input(
    amount: str, currency: str, pointer: str, message: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        parsed(amount, currency)
    assert refused.value.field == pointer
    assert message in refused.value.message


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_what_is_shown_reads_back_as_the_same_price(amount: int, currency: str) -> None:
    price = {"amount": amount, "currency": currency}
    assert parsed(format_amount(price), currency) == price
    assert format_price(price).endswith(f" {currency}")
