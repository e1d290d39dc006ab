"""ISO 4217 currencies and their minor units, from the table vendored in iso4217.json.

The table is generated from the `iso4217` package (`make currencies`), so the domain stays
standard library only; codes without minor units (funds, metals, XTS, XXX) are not in it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files


@cache
def _minor_units() -> dict[str, int]:
    document = json.loads(files("catalog.domain").joinpath("iso4217.json").read_text("utf-8"))
    table: dict[str, int] = document["minor_units"]
    return table


def minor_units(code: str) -> int | None:
    """Digits after the decimal point of `code` (JPY 0, USD 2, KWD 3); None when a price may
    not use it (not an ISO 4217 code, or one without minor units)."""
    return _minor_units().get(code)
