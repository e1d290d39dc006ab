"""ISO 4217 currencies: the vendored table, its minor units, and what prices may use."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from catalog.domain.currencies import minor_units
from catalog.domain.errors import InvalidField
from catalog.domain.values import Money, parse_money
from deploy import currencies


@pytest.mark.parametrize(
    ("code", "digits"), [("JPY", 0), ("CLP", 0), ("USD", 2), ("EUR", 2), ("KWD", 3), ("CLF", 4)]
)
def test_minor_units_follow_iso_4217(code: str, digits: int) -> None:
    assert minor_units(code) == digits
    assert Money(100, code).minor_units == digits


@pytest.mark.parametrize("code", ["ZZZ", "usd", "XAU", "XAG", "XTS", "XXX", "XDR"])
def test_codes_without_minor_units_are_no_currency_for_a_price(code: str) -> None:
    assert minor_units(code) is None
    with pytest.raises(InvalidField) as raised:
        parse_money({"amount": 100, "currency": code}, "/price")
    assert raised.value.field == "/price/currency"


@pytest.mark.parametrize("code", ["JPY", "KWD"])
def test_amounts_are_minor_units_of_any_currency_as_given(code: str) -> None:
    assert parse_money({"amount": 12999, "currency": code}, "/price") == Money(12999, code)


def test_the_vendored_table_is_the_installed_iso4217_package() -> None:
    # Fails after re-pinning iso4217 until `make currencies` regenerates the table.
    vendored = json.loads(files("catalog.domain").joinpath("iso4217.json").read_text("utf-8"))
    assert vendored == currencies.table()
