"""Prices as a person writes them (`25.00`, `USD`) to the API's integer minor units, and back.

The conversion is exact: `25.005` in a two-digit currency is refused, never rounded, and the
error points at the input the person typed into.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.domain.currencies import minor_units
from catalog.domain.errors import FieldErrors


def price_json(
    amount_text: str, currency_text: str, errors: FieldErrors, at: str = "/price"
) -> dict[str, Any] | None:
    """The API's price object for what was typed; None when both inputs are empty. Errors
    are named under `at`, the price's JSON pointer."""
    amount_text = amount_text.strip().replace(",", "")
    currency = currency_text.strip().upper()
    if not amount_text and not currency:
        return None
    if not currency:
        errors.add(f"{at}/currency", "is required with a price (e.g. USD)")
        return None
    digits = minor_units(currency)
    if digits is None:
        errors.add(f"{at}/currency", "must be an ISO 4217 currency code, such as USD or EUR")
        return None
    if not amount_text:
        errors.add(f"{at}/amount", "is required with a currency")
        return None
    try:
        value = Decimal(amount_text)
    except InvalidOperation:
        errors.add(f"{at}/amount", "must be a number, such as 25.00")
        return None
    if not value.is_finite() or value < 0:
        errors.add(f"{at}/amount", "must be a number of at least 0")
        return None
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        places = f"{digits} decimal places" if digits else "no decimal places"
        errors.add(f"{at}/amount", f"{currency} prices have {places}")
        return None
    return {"amount": int(minor), "currency": currency}


def format_amount(price: dict[str, Any] | None) -> str:
    """`{"amount": 2500, "currency": "USD"}` -> `25.00` (the amount input's value)."""
    if not price:
        return ""
    digits = minor_units(price["currency"]) or 0
    return f"{Decimal(price['amount']).scaleb(-digits):.{digits}f}"


def format_price(price: dict[str, Any] | None) -> str:
    """`25.00 USD`, as the tables show a price; empty without one."""
    if not price:
        return ""
    return f"{format_amount(price)} {price['currency']}"
