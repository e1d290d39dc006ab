"""The CSV file of an export: its products in the layout `csv_rows` reads (docs/jobs.md,
"CSV exports"), so the file imported again changes nothing.

An export is written a batch at a time and resumed after a crash, so its header is fixed
before the first product is written: the columns of CsvColumns. Which `attribute.<name>` and
`variant_attribute.<name>` columns it has may come from a first pass over the export's
products (CsvColumns.of_rows, kept in the job's params); each attribute whose name has no
column there, or whose value one cell cannot carry (an object, a list, a variant's null),
goes into the JSON object of the `attributes` or `variant_attributes` column. Without a first
pass every attribute is in those two columns; the file is as exact, only harder to edit in a
spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from msgspec import Struct, field

from catalog.domain.currencies import minor_units
from catalog.domain.errors import InvalidField
from catalog.domain.values import JSON, join_pointer
from catalog.service.csv_rows import typed_cell
from catalog.service.import_files import MAX_ROW_BYTES

#: Named attribute columns at most, of the product's and of the variants' each: a merchant
#: may use thousands of names, and every row of the file holds a cell for each column.
MAX_ATTRIBUTE_COLUMNS = 100

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "description",
    "price",
    "currency",
    "product_type",
    "option1_name",
    "option2_name",
    "option3_name",
)
VARIANT_COLUMNS = (
    "option1_value",
    "option2_value",
    "option3_value",
    "variant_sku",
    "variant_price",
    "variant_barcode",
    "variant_stock",
)


class CsvColumns(Struct, frozen=True):
    """The attribute names that have a column of their own, in the header's order."""

    attributes: tuple[str, ...] = ()
    variant_attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for names in (self.attributes, self.variant_attributes):
            if len(set(names)) != len(names) or not all(map(_can_name_a_column, names)):
                raise ValueError(f"not a set of attribute names a CSV header can hold: {names}")

    @classmethod
    def of_rows(cls, rows: Iterable[Mapping[str, Any]]) -> CsvColumns:
        """The names a first pass over the export's rows finds, the most used first when
        there are more than MAX_ATTRIBUTE_COLUMNS, sorted by name in the header. A name
        whose values no cell can carry gets no column: it would always be empty."""
        product: Counter[str] = Counter()
        variant: Counter[str] = Counter()
        for row in rows:
            product.update(_named(row.get("attributes")))
            for body in row.get("variants") or ():
                variant.update(_named(body.get("attributes")))
        return cls(_most_used(product), _most_used(variant))

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> CsvColumns:
        if not value:
            return cls()
        return cls(tuple(value.get("attributes", ())), tuple(value.get("variant_attributes", ())))

    def to_json(self) -> dict[str, list[str]]:
        return {
            "attributes": list(self.attributes),
            "variant_attributes": list(self.variant_attributes),
        }

    def header(self) -> list[str]:
        return [
            *PRODUCT_COLUMNS,
            *(f"attribute.{name}" for name in self.attributes),
            "attributes",
            *VARIANT_COLUMNS,
            *(f"variant_attribute.{name}" for name in self.variant_attributes),
            "variant_attributes",
        ]


def _named(attributes: Any) -> list[str]:
    if not isinstance(attributes, Mapping):
        return []
    return [
        name
        for name, value in attributes.items()
        if _can_name_a_column(name) and _scalar_cell(value) is not None
    ]


def _can_name_a_column(name: str) -> bool:
    # The reader takes a header cell without its surrounding spaces.
    return bool(name) and name == name.strip() and _encodable(name)


def _most_used(counts: Counter[str]) -> tuple[str, ...]:
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return tuple(sorted(ranked[:MAX_ATTRIBUTE_COLUMNS]))


class CsvBatch(Struct, frozen=True):
    """A batch of the export: its bytes, and the rows (by index in the batch) that a CSV
    file cannot hold as they are, each with why; those wrote nothing."""

    data: bytes
    refused: Mapping[int, InvalidField] = field(default_factory=dict)


class CsvExport:
    """Export rows (register bodies, `job_runs.export_row`) as the lines of a CSV file whose
    header is `columns.header()`."""

    def __init__(self, columns: CsvColumns | None = None) -> None:
        self.columns = columns if columns is not None else CsvColumns()
        self._header = self.columns.header()
        self._index = {name: index for index, name in enumerate(self._header)}

    def header(self) -> bytes:
        """The header line alone: the file of an export that found no product."""
        return _lines([self._header]).encode()

    def write(self, rows: Sequence[Mapping[str, Any]], *, header: bool) -> CsvBatch:
        """The lines of `rows`, after the header line when `header` (the file's first batch)."""
        parts = [self.header()] if header else []
        refused: dict[int, InvalidField] = {}
        for index, row in enumerate(rows):
            try:
                parts.append(self._product(row))
            except InvalidField as error:
                refused[index] = error
        return CsvBatch(b"".join(parts), refused)

    def _product(self, row: Mapping[str, Any]) -> bytes:
        """One product's lines: its columns and its first variant, then a line for each other
        variant; InvalidField when a CSV file cannot carry it as it is."""
        sku = str(row["sku"])
        currency = _currency_of(row)
        first = self._empty(sku)
        self._set(first, "name", row.get("name"))
        self._set(first, "description", row.get("description"))
        self._set(first, "product_type", row.get("product_type"))
        if currency is not None:
            first[self._index["currency"]] = currency
        price = row.get("price")
        if price is not None:
            first[self._index["price"]] = _major_units(price["amount"], currency, "/price")
        axes: list[str] = list(row.get("options") or ())
        for axis, name in enumerate(axes):
            first[self._index[f"option{axis + 1}_name"]] = name
        self._attributes(first, row.get("attributes"), "attribute", "/attributes")
        variants: list[Mapping[str, Any]] = list(row.get("variants") or ())
        records = [first]
        for index, variant in enumerate(variants):
            record = first if index == 0 else self._empty(sku)
            self._variant(record, variant, axes, currency, f"/variants/{index}")
            if index > 0:
                records.append(record)
        self._check_cells(records)
        text = _lines(records)
        if len(text) > MAX_ROW_BYTES:
            raise InvalidField(
                "/",
                f"the product's CSV rows would be longer than {MAX_ROW_BYTES} characters "
                "together, more than an import reads: export it as JSONL",
            )
        try:
            return text.encode()
        except UnicodeEncodeError:
            raise InvalidField(
                "/", "holds text that is not valid Unicode: export it as JSONL"
            ) from None

    def _variant(
        self,
        record: list[str],
        variant: Mapping[str, Any],
        axes: Sequence[str],
        currency: str | None,
        at: str,
    ) -> None:
        self._set(record, "variant_sku", variant.get("sku"))
        options: Mapping[str, Any] = variant.get("options") or {}
        for name, value in options.items():
            if name not in axes:
                # The domain keeps a variant's options to the product's axes; a value no axis
                # names would be lost.
                raise InvalidField(join_pointer(f"{at}/options", name), "is not an axis")
            record[self._index[f"option{axes.index(name) + 1}_value"]] = value
        price = variant.get("price")
        if price is not None:
            record[self._index["variant_price"]] = _major_units(
                price["amount"], currency, f"{at}/price"
            )
        self._set(record, "variant_barcode", variant.get("barcode"))
        stock = variant.get("stock")
        if stock is not None:
            record[self._index["variant_stock"]] = str(stock)
        self._attributes(record, variant.get("attributes"), "variant_attribute", f"{at}/attributes")

    def _attributes(self, record: list[str], attributes: Any, prefix: str, at: str) -> None:
        """Each attribute in its own column when it has one and a cell carries its value;
        the others together in the JSON object of the `<prefix>s` column."""
        rest: dict[str, JSON] = {}
        for name, value in (attributes or {}).items():
            column = self._index.get(f"{prefix}.{name}")
            cell = _scalar_cell(value) if column is not None else None
            if column is None or cell is None:
                rest[name] = value
            else:
                record[column] = cell
        if rest:
            cell = json.dumps(rest, ensure_ascii=False)
            _check_length(cell, at)
            record[self._index[f"{prefix}s"]] = cell

    def _check_cells(self, records: Sequence[Sequence[str]]) -> None:
        # Within today's limits only a JSON attributes cell can be this long, and _attributes
        # names its field; this covers the other columns should a limit grow.
        for record in records:
            for index, cell in enumerate(record):
                _check_length(cell, "/", f"the {self._header[index]} column ")

    def _empty(self, sku: str) -> list[str]:
        record = [""] * len(self._header)
        record[0] = sku
        return record

    def _set(self, record: list[str], column: str, value: Any) -> None:
        if value is not None:
            record[self._index[column]] = str(value)


def _check_length(cell: str, at: str, which: str = "") -> None:
    limit = csv.field_size_limit()
    if len(cell) > limit:
        raise InvalidField(
            at,
            f"{which}would be a CSV cell longer than {limit} characters, more than an import "
            "reads: export the product as JSONL",
        )


def _lines(records: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    return out.getvalue()


def _currency_of(row: Mapping[str, Any]) -> str | None:
    """The product's one currency (a CSV file has one for its price and its variants')."""
    prices = [("/price", row.get("price"))] + [
        (f"/variants/{index}/price", variant.get("price"))
        for index, variant in enumerate(row.get("variants") or ())
    ]
    currency: str | None = None
    for at, price in prices:
        if price is None:
            continue
        if currency is None:
            currency = str(price["currency"])
        elif price["currency"] != currency:
            raise InvalidField(
                f"{at}/currency",
                f"is {price['currency']}, another currency than {currency}: a CSV file has one "
                "currency per product; export it as JSONL",
            )
    return currency


def _major_units(amount: int, currency: str | None, at: str) -> str:
    """`amount` minor units written in the currency's major units (2500 USD -> `25.00`)."""
    exponent = minor_units(currency) if currency is not None else None
    if exponent is None:
        raise InvalidField(f"{at}/currency", "is not an ISO 4217 currency with minor units")
    if exponent == 0:
        return str(amount)
    whole, fraction = divmod(amount, 10**exponent)
    return f"{whole}.{fraction:0{exponent}d}"


def _scalar_cell(value: Any) -> str | None:
    """The cell `typed_cell` reads back as exactly `value` (same type), or None when no cell
    does: objects, lists and null, and text only as the JSON string when it would read as
    something else (`"42"`, `"true"`, a blank)."""
    if isinstance(value, bool):
        cell = "true" if value else "false"
    elif isinstance(value, (int, float)):
        cell = json.dumps(value)
    elif isinstance(value, str):
        cell = (
            value
            if value.strip() and _reads_as(value, value)
            else json.dumps(value, ensure_ascii=False)
        )
    else:
        return None
    return cell if _reads_as(cell, value) else None


def _reads_as(cell: str, value: JSON) -> bool:
    read = typed_cell(cell)
    return type(read) is type(value) and read == value


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
