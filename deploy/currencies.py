"""Writes src/catalog/domain/iso4217.json, the currencies a price may use, from `iso4217`.

    python -m deploy.currencies          (or `make currencies`)

The domain is standard library only, so it reads this vendored table rather than the package;
tests/domain/test_currencies.py fails when the table and the installed package disagree, so
re-pinning iso4217 in requirements.lock means running this again.

Only codes with a number of minor units are kept: funds, precious metals, the testing code XTS
and "no currency" XXX (ISO's "N.A.") have no smallest unit an integer amount could count.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import iso4217

TABLE = Path(__file__).resolve().parents[1] / "src" / "catalog" / "domain" / "iso4217.json"


def table() -> dict[str, Any]:
    """The vendored document: where it comes from and code -> minor units."""
    minor_units = {
        currency.code: currency.exponent
        for currency in sorted(iso4217.Currency, key=lambda c: c.code)
        if currency.exponent is not None
    }
    return {
        "source": f"iso4217 {iso4217.__version__}, ISO 4217 list of {iso4217.__published__}",
        "minor_units": minor_units,
    }


def render() -> str:
    return json.dumps(table(), indent=2) + "\n"


def main() -> None:
    TABLE.write_text(render())
    print(f"{TABLE}: {len(table()['minor_units'])} currencies")


if __name__ == "__main__":
    main()
