"""The rows of a product CSV file (docs/jobs.md gives its columns and rules).

The layout is the one users know from Shopify's product CSV: the rows that share a product's
`sku` (Shopify's Handle) one after another are one product; its first row holds the product's
columns and its first variant, each row after it one more variant. Each product becomes one
ImportRow whose body holds only the cells that are not empty: an empty cell is a field the
row does not give, so the upsert leaves it as it is. A product whose cells cannot make a body
is one row carrying all of its errors at once, at the line of its first row.

The file is read a line at a time through the csv module, never whole. A row (with its
multi-line quoted cells) over MAX_ROW_BYTES characters, a cell over the csv module's field
limit, or bytes that are not UTF-8 make an error row and the reading goes on; only an error
inside quotes stops it (one error row), since where the next row starts cannot be known then.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import IO

from msgspec import Struct

from catalog.domain import limits
from catalog.domain.currencies import minor_units
from catalog.domain.errors import InvalidField, InvalidFields
from catalog.domain.jobs import ChunkRange
from catalog.domain.values import JSON, join_pointer
from catalog.service.import_files import MAX_ROW_BYTES, ImportRow, RowStart, range_of


def csv_rows(stream: IO[bytes], span: ChunkRange | None = None) -> Iterator[ImportRow]:
    """Every product of a CSV file (a header row, then rows grouped by `sku`), as a row; with
    `span`, those of that chunk of the file only, read under the file's header."""
    if span is None:
        with _text_of(stream) as text:
            for header, group in _read(text):
                yield _Product(header, group).row()
        return
    stream.seek(0)
    with _text_of(stream) as text:
        first = next(_records(text), None)
    if first is None or first.error is not None:
        raise ValueError("a CSV file cut into chunks has a header")
    header = _header_of(first)
    with range_of(stream, span) as part, _text_of(part, "utf-8") as text:
        for group in _groups(_records(text, span.lines_before), header):
            yield _Product(header, group).row()


def count_csv_rows(stream: IO[bytes]) -> int:
    """How many rows csv_rows will give, reading the file once without making bodies."""
    with _text_of(stream) as text:
        return sum(1 for _ in _read(text))


def csv_row_starts(stream: IO[bytes]) -> Iterator[RowStart]:
    """Where each row csv_rows gives starts (its product's first line), reading the file once
    without making bodies. Byte offsets are counted from the characters read: undecodable
    bytes come back exactly from their surrogate escapes."""
    bom = stream.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    stream.seek(0)
    with _text_of(stream) as text:
        lines = _Lines(text, offset=len(codecs.BOM_UTF8) if bom else 0)
        for _, group in _read(text, lines):
            yield RowStart(group.records[0].line, group.offset)


@contextlib.contextmanager
def _text_of(stream: IO[bytes], encoding: str = "utf-8-sig") -> Iterator[io.TextIOWrapper]:
    # newline="" lets the csv module see the line breaks inside quoted cells; surrogateescape
    # turns bytes that are not UTF-8 into characters the row reports instead of a crash. A
    # chunk is read as UTF-8: a byte order mark is the file's first bytes, never a chunk's.
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
    try:
        yield text
    finally:
        # Detached, the wrapper leaves the caller's stream open (a job counts, then seeks).
        with contextlib.suppress(ValueError):
            text.detach()


# ---------------------------------------------------------------------------------- records

# What surrogateescape makes of each byte UTF-8 cannot decode.
_NOT_UTF8 = re.compile(r"[\udc80-\udcff]")


class _TooLong(Exception):
    """A record grew past MAX_ROW_BYTES characters."""


class _Lines:
    """The physical lines the csv reader parses: counted, so a record's first line is known,
    and bounded, so no line or record is ever held whole past MAX_ROW_BYTES."""

    def __init__(
        self, text: io.TextIOWrapper, *, lines_before: int = 0, offset: int | None = None
    ) -> None:
        self._text = text
        self.number = lines_before  # lines read so far
        self.chars = 0  # of the record being read
        self.quoted = False  # whether the record being read holds a quote character
        # The bytes read so far, when counted (a file being cut into chunks).
        self.offset = offset

    def start_record(self) -> None:
        self.chars = 0
        self.quoted = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(MAX_ROW_BYTES + 1)
        if not line:
            raise StopIteration
        self._count(line)
        self.number += 1
        self.chars += len(line)
        self.quoted = self.quoted or '"' in line
        if len(line) > MAX_ROW_BYTES and not line.endswith(("\n", "\r")):
            self._skip_rest_of_line()
            raise _TooLong
        if self.chars > MAX_ROW_BYTES:
            raise _TooLong
        return line

    def _skip_rest_of_line(self) -> None:
        while True:
            chunk = self._text.readline(MAX_ROW_BYTES)
            self._count(chunk)
            self.quoted = self.quoted or '"' in chunk
            if not chunk or chunk.endswith(("\n", "\r")):
                return

    def _count(self, text: str) -> None:
        if self.offset is not None:
            self.offset += len(text.encode("utf-8", "surrogateescape"))


class _Record(Struct, frozen=True):
    """One CSV record (a row of cells, over one line or more), or why it could not be read."""

    line: int  # where it starts
    cells: Sequence[str]
    chars: int
    error: InvalidField | None = None
    offset: int = 0  # the byte where it starts, when the lines count them


def _records(
    text: io.TextIOWrapper, lines_before: int = 0, lines: _Lines | None = None
) -> Iterator[_Record]:
    """The records of the file that are not blank; a record that cannot be read is an error
    record, and the last one when a quote was open (the rest of the file is not read)."""
    lines = lines or _Lines(text, lines_before=lines_before)
    reader = csv.reader(lines, strict=True)
    while True:
        lines.start_record()
        start = lines.number + 1
        offset = lines.offset or 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _TooLong:
            problem = f"the row is longer than {MAX_ROW_BYTES} characters"
        except csv.Error as error:
            problem = f"the row is not valid CSV: {error}"
        else:
            if any(cell.strip() for cell in cells):
                yield _Record(start, cells, lines.chars, offset=offset)
            continue
        # The reader starts afresh on the next line; that is where the next row starts unless
        # the bad record opened a quote, which may go on over any number of lines.
        if lines.quoted:
            problem += (
                "; the rest of the file is not read: a quote was open, so where the next row"
                " starts cannot be known"
            )
        yield _Record(start, (), lines.chars, InvalidField("/", problem), offset)
        if lines.quoted:
            return


# ---------------------------------------------------------------------------------- columns


class _Kind(Enum):
    SKU = "sku"
    NAME = "name"
    DESCRIPTION = "description"
    PRICE = "price"
    CURRENCY = "currency"
    PRODUCT_TYPE = "product_type"
    ATTRIBUTE = "attribute."
    ATTRIBUTES = "attributes"
    OPTION_NAME = "option_name"
    OPTION_VALUE = "option_value"
    VARIANT_SKU = "variant_sku"
    VARIANT_PRICE = "variant_price"
    VARIANT_BARCODE = "variant_barcode"
    VARIANT_STOCK = "variant_stock"
    VARIANT_ATTRIBUTE = "variant_attribute."
    VARIANT_ATTRIBUTES = "variant_attributes"


_NAMED_KINDS: dict[str, _Kind] = {
    kind.value: kind
    for kind in _Kind
    if kind not in (_Kind.ATTRIBUTE, _Kind.VARIANT_ATTRIBUTE, _Kind.OPTION_NAME, _Kind.OPTION_VALUE)
}
_PREFIXED_KINDS = (_Kind.ATTRIBUTE, _Kind.VARIANT_ATTRIBUTE)
_OPTION_COLUMN = re.compile(r"option([1-3])_(name|value)")
_VARIANT_KINDS = frozenset(
    {
        _Kind.OPTION_VALUE,
        _Kind.VARIANT_SKU,
        _Kind.VARIANT_PRICE,
        _Kind.VARIANT_BARCODE,
        _Kind.VARIANT_STOCK,
        _Kind.VARIANT_ATTRIBUTE,
        _Kind.VARIANT_ATTRIBUTES,
    }
)


@dataclass(frozen=True)
class _Column:
    kind: _Kind
    key: str = ""  # an attribute's name
    axis: int = 0  # 0, 1 and 2 for option1 to option3
    name: str = field(default="", compare=False)  # as the header writes it

    @property
    def of_variant(self) -> bool:
        return self.kind in _VARIANT_KINDS

    @property
    def product_pointer(self) -> str:
        """Where a product column's value goes in the register body."""
        if self.kind is _Kind.ATTRIBUTE:
            return join_pointer("/attributes", self.key)
        if self.kind is _Kind.ATTRIBUTES:
            return "/attributes"
        if self.kind is _Kind.OPTION_NAME:
            return f"/options/{self.axis}"
        if self.kind is _Kind.PRICE:
            return "/price/amount"
        if self.kind is _Kind.CURRENCY:
            return "/price/currency"
        return f"/{self.kind.value}"


def _column_named(name: str) -> _Column | None:
    lowered = name.lower()
    named = _NAMED_KINDS.get(lowered)
    if named is not None:
        return _Column(named, name=name)
    option = _OPTION_COLUMN.fullmatch(lowered)
    if option is not None:
        kind = _Kind.OPTION_NAME if option.group(2) == "name" else _Kind.OPTION_VALUE
        return _Column(kind, axis=int(option.group(1)) - 1, name=name)
    for prefixed in _PREFIXED_KINDS:
        prefix: str = prefixed.value
        if lowered.startswith(prefix) and len(name) > len(prefix):
            return _Column(prefixed, key=name[len(prefix) :], name=name)
    return None


class _Header(Struct, frozen=True):
    """The columns by position (None where the header names no column, or one the reader
    does not know), and what is wrong with the header: every row reports that, so nothing is
    written under a header that was misread."""

    columns: tuple[_Column | None, ...]
    unnamed: frozenset[int]  # positions whose header cell is empty
    problems: tuple[InvalidField, ...]
    sku_index: int | None

    def column(self, index: int) -> _Column | None:
        return self.columns[index] if index < len(self.columns) else None

    def names(self, index: int) -> bool:
        """Whether the header has a name at `index` (known or not)."""
        return index < len(self.columns) and index not in self.unnamed

    def sku_of(self, record: _Record) -> str:
        index = self.sku_index
        if index is None or index >= len(record.cells):
            return ""
        return record.cells[index].strip()


def _header_of(record: _Record) -> _Header:
    columns: list[_Column | None] = []
    unnamed: set[int] = set()
    problems: list[InvalidField] = []
    seen: dict[_Column, int] = {}
    for index, cell in enumerate(record.cells):
        name = cell.strip()
        where = f"(line {record.line}, column {index + 1})"
        column = _column_named(name) if name else None
        if not name:
            unnamed.add(index)
        elif _NOT_UTF8.search(name):
            problems.append(InvalidField("/", f"the header is not UTF-8 text {where}"))
        elif column is None:
            message = f"is not a column of a product CSV {where}; docs/jobs.md lists them"
            problems.append(InvalidField(join_pointer("", name), message))
        elif column in seen:
            message = f"is named twice by the header {where} and column {seen[column] + 1}"
            problems.append(InvalidField(join_pointer("", name), message))
            column = None
        else:
            seen[column] = index
        columns.append(column)
    sku_index = seen.get(_Column(_Kind.SKU))
    if sku_index is None:
        problems.append(InvalidField("/sku", "the header has no sku column"))
    return _Header(tuple(columns), frozenset(unnamed), tuple(problems), sku_index)


# ---------------------------------------------------------------------------------- products


class _Group(Struct):
    """The records of one product: consecutive rows naming the same sku (a record that could
    not be read is a group of its own)."""

    sku: str
    records: list[_Record]
    last_line: int
    chars: int
    too_long: bool = False

    @property
    def offset(self) -> int:
        return self.records[0].offset


def _read(text: io.TextIOWrapper, lines: _Lines | None = None) -> Iterator[tuple[_Header, _Group]]:
    """The file's products with the header they are read under."""
    records = _records(text, lines=lines)
    first = next(records, None)
    if first is None:
        return
    if first.error is not None:
        message = f"the header (line {first.line}): {first.error.message}; no row is read"
        unreadable = _Record(first.line, (), first.chars, InvalidField("/", message), first.offset)
        yield _Header((), frozenset(), (), None), _Group("", [unreadable], first.line, 0)
        return
    header = _header_of(first)
    for group in _groups(records, header):
        yield header, group


def _groups(records: Iterator[_Record], header: _Header) -> Iterator[_Group]:
    group: _Group | None = None
    for record in records:
        sku = header.sku_of(record) if record.error is None else ""
        if group is not None and sku and sku == group.sku:
            group.last_line = record.line
            group.chars += record.chars
            # Past the size of a JSONL row the product's records are only counted, so memory
            # stays bounded however many rows repeat one sku.
            group.too_long = group.too_long or group.chars > MAX_ROW_BYTES
            if not group.too_long:
                group.records.append(record)
            continue
        if group is not None:
            yield group
        group = _Group(sku, [record], record.line, record.chars)
    if group is not None:
        yield group


class _Product:
    """One product's records made into its register body, every bad cell collected."""

    def __init__(self, header: _Header, group: _Group) -> None:
        self._header = header
        self._group = group
        self._errors: list[InvalidField] = list(header.problems)
        self._body: dict[str, JSON] = {}
        self._variants: list[JSON] = []
        self._first_cells: dict[_Column, str] = {}
        self._axes: list[str | None] = [None] * limits.MAX_OPTIONS
        self._currency: str | None = None
        self._currency_missing_reported = False
        self._variant_rows = 0

    def row(self) -> ImportRow:
        group = self._group
        first = group.records[0]
        line = first.line
        if first.error is not None:
            return ImportRow(line, None, None, first.error)
        if group.too_long:
            problem = (
                f"the product's rows (lines {line} to {group.last_line}) are longer than "
                f"{MAX_ROW_BYTES} characters together"
            )
            self._errors.append(InvalidField("/", problem))
        else:
            self._read_first(first)
            for record in group.records[1:]:
                self._read_following(record)
        sku = group.sku if group.sku and not _NOT_UTF8.search(group.sku) else None
        if self._errors:
            errors = self._errors
            return ImportRow(
                line, sku, None, errors[0] if len(errors) == 1 else InvalidFields(errors)
            )
        if self._variants:
            self._body["variants"] = self._variants
        return ImportRow(line, sku, self._body)

    def _given(self, record: _Record) -> list[tuple[_Column, str]]:
        """The record's cells that are not empty, by column; a cell that no column names or
        that is not UTF-8 is an error."""
        given: list[tuple[_Column, str]] = []
        for index, cell in enumerate(record.cells):
            if not cell.strip():
                continue
            column = self._header.column(index)
            if column is None:
                # A column the header names but the reader does not know is a header problem,
                # reported once for the row; a value under no name at all is this cell's.
                if not self._header.names(index):
                    message = f"a value in column {index + 1}, which the header does not name"
                    self._errors.append(InvalidField("/", f"line {record.line} has {message}"))
                continue
            if _NOT_UTF8.search(cell):
                pointer = self._pointer(column)
                self._errors.append(
                    InvalidField(pointer, f"is not UTF-8 text{_at(record, column)}")
                )
                continue
            given.append((column, cell))
        return given

    def _pointer(self, column: _Column) -> str:
        if not column.of_variant:
            return column.product_pointer
        at = f"/variants/{len(self._variants)}"
        if column.kind is _Kind.OPTION_VALUE:
            return f"{at}/options"
        if column.kind is _Kind.VARIANT_ATTRIBUTE:
            return join_pointer(f"{at}/attributes", column.key)
        if column.kind is _Kind.VARIANT_ATTRIBUTES:
            return f"{at}/attributes"
        if column.kind is _Kind.VARIANT_PRICE:
            return f"{at}/price/amount"
        return f"{at}/{column.kind.value.removeprefix('variant_')}"

    def _read_first(self, record: _Record) -> None:
        body = self._body
        given = self._given(record)
        body["sku"] = self._group.sku
        if not self._group.sku and self._header.sku_index is not None:
            message = f"is required: every row names its product's sku (line {record.line})"
            self._errors.append(InvalidField("/sku", message))
        for column, cell in given:
            if column.kind is _Kind.CURRENCY:
                self._read_currency(record, column, cell)
        attributes: dict[str, JSON] = {}
        attributes_object: JSON = None
        for column, cell in given:
            if column.of_variant:
                continue
            self._first_cells[column] = cell
            kind = column.kind
            if kind is _Kind.NAME or kind is _Kind.DESCRIPTION:
                body[kind.value] = cell
            elif kind is _Kind.PRODUCT_TYPE:
                body["product_type"] = cell.strip()
            elif kind is _Kind.PRICE:
                price = self._price(record, column, cell, "/price")
                if price is not None:
                    body["price"] = price
            elif kind is _Kind.ATTRIBUTE:
                attributes[column.key] = typed_cell(cell)
            elif kind is _Kind.ATTRIBUTES:
                attributes_object = self._object(record, column, cell, "/attributes")
            elif kind is _Kind.OPTION_NAME:
                self._axes[column.axis] = cell.strip()
        self._merge_attributes(record, attributes, attributes_object, "attribute", "/attributes")
        if attributes:
            body["attributes"] = attributes
        self._read_options(record)
        self._read_variant(record, given)

    def _read_currency(self, record: _Record, column: _Column, cell: str) -> None:
        code = cell.strip()
        if minor_units(code) is None:
            message = f"{code} is not an ISO 4217 currency with minor units{_at(record, column)}"
            self._errors.append(InvalidField("/price/currency", message))
        self._currency = code

    def _read_options(self, record: _Record) -> None:
        names: list[JSON] = []
        for axis, name in enumerate(self._axes):
            if name is None:
                continue
            if len(names) < axis:
                message = (
                    f"option{axis + 1}_name is given without option{len(names) + 1}_name "
                    f"(line {record.line}): axes are named from option1_name on"
                )
                self._errors.append(InvalidField(f"/options/{len(names)}", message))
            names.append(name)
        if names:
            self._body["options"] = names

    def _read_following(self, record: _Record) -> None:
        given = self._given(record)
        for column, cell in given:
            if column.of_variant or column.kind is _Kind.SKU:
                continue
            if cell != self._first_cells.get(column):
                message = (
                    f"differs from the product's first row (line {self._group.records[0].line})"
                    f"{_at(record, column)}: a product's columns are read from its first row"
                )
                self._errors.append(InvalidField(column.product_pointer, message))
        if not self._read_variant(record, given):
            message = f"line {record.line} repeats the product's sku but gives no variant"
            self._errors.append(InvalidField(f"/variants/{len(self._variants)}", message))

    def _read_variant(self, record: _Record, given: list[tuple[_Column, str]]) -> bool:
        """The record's variant, when it has a variant cell; False when it has none."""
        cells = [(column, cell) for column, cell in given if column.of_variant]
        if not cells:
            return False
        self._variant_rows += 1
        if self._variant_rows > limits.MAX_VARIANTS:
            if self._variant_rows == limits.MAX_VARIANTS + 1:
                message = (
                    f"a product holds at most {limits.MAX_VARIANTS} variants (line {record.line})"
                )
                self._errors.append(InvalidField("/variants", message))
            return True
        at = f"/variants/{len(self._variants)}"
        variant: dict[str, JSON] = {}
        options: dict[str, JSON] = {}
        attributes: dict[str, JSON] = {}
        attributes_object: JSON = None
        for column, cell in cells:
            kind = column.kind
            if kind is _Kind.VARIANT_SKU:
                variant["sku"] = cell.strip()
            elif kind is _Kind.OPTION_VALUE:
                axis = self._axes[column.axis]
                if axis is None:
                    message = (
                        f"option{column.axis + 1}_value needs option{column.axis + 1}_name "
                        f"on the product's first row{_at(record, column)}"
                    )
                    self._errors.append(InvalidField(f"{at}/options", message))
                else:
                    options[axis] = cell
            elif kind is _Kind.VARIANT_PRICE:
                price = self._price(record, column, cell, f"{at}/price")
                if price is not None:
                    variant["price"] = price
            elif kind is _Kind.VARIANT_BARCODE:
                variant["barcode"] = cell.strip()
            elif kind is _Kind.VARIANT_STOCK:
                stock = _whole_number(cell)
                if stock is None:
                    message = (
                        f"must be a whole number of units from 0 to {limits.MAX_STOCK}"
                        f"{_at(record, column)}"
                    )
                    self._errors.append(InvalidField(f"{at}/stock", message))
                else:
                    variant["stock"] = stock
            elif kind is _Kind.VARIANT_ATTRIBUTE:
                attributes[column.key] = typed_cell(cell)
            elif kind is _Kind.VARIANT_ATTRIBUTES:
                attributes_object = self._object(record, column, cell, f"{at}/attributes")
        self._merge_attributes(
            record, attributes, attributes_object, "variant_attribute", f"{at}/attributes"
        )
        if options:
            variant["options"] = options
        if attributes:
            variant["attributes"] = attributes
        self._variants.append(variant)
        return True

    def _object(self, record: _Record, column: _Column, cell: str, at: str) -> JSON:
        """An `attributes` cell's JSON object, or None (the error kept) when it is not one."""
        value = _json_object_cell(cell)
        if value is None:
            message = f'must be a JSON object such as {{"material": "cotton"}}{_at(record, column)}'
            self._errors.append(InvalidField(at, message))
        return value

    def _merge_attributes(
        self, record: _Record, named: dict[str, JSON], whole: JSON, prefix: str, at: str
    ) -> None:
        """The `attributes` cell's members added to the `attribute.<name>` cells (`prefix`
        is `attribute` or `variant_attribute`); a name that both give is an error, since which
        of the two the file means cannot be known."""
        if not isinstance(whole, dict):
            return
        for name, value in whole.items():
            if name in named:
                message = f"is given both by {prefix}.{name} and by {prefix}s (line {record.line})"
                self._errors.append(InvalidField(join_pointer(at, name), message))
            else:
                named[name] = value

    def _price(self, record: _Record, column: _Column, cell: str, at: str) -> JSON:
        """{"amount", "currency"} from a decimal in the currency's major units, or None (the
        error kept) when the cell or the currency cannot make one."""
        currency = self._currency
        if currency is None:
            if not self._currency_missing_reported:
                self._currency_missing_reported = True
                message = (
                    f"is required to read a price: give the currency column on the product's "
                    f"first row{_at(record, column)}"
                )
                self._errors.append(InvalidField(f"{at}/currency", message))
            return None
        exponent = minor_units(currency)
        if exponent is None:
            return None  # reported once, at /price/currency
        try:
            amount = _minor_amount(cell.strip(), exponent)
        except ValueError as error:
            self._errors.append(InvalidField(f"{at}/amount", f"{error}{_at(record, column)}"))
            return None
        return {"amount": amount, "currency": currency}


def _at(record: _Record, column: _Column) -> str:
    return f" (line {record.line}, column {column.name})"


# ---------------------------------------------------------------------------------- values

_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
# More digits than any amount the catalog takes (limits.MAX_AMOUNT has 16): the domain reports
# the range, and int() is never asked for a number of unbounded length.
_MAX_AMOUNT_DIGITS = 30
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,30}")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_MAX_INTEGER_DIGITS = 1_000  # a longer integer cell stays text (int() refuses past 4300)


def _minor_amount(text: str, exponent: int) -> int:
    """Integer minor units of a decimal written in major units (`25.00` -> 2500 when the
    currency has 2 digits after the point); ValueError, with the reason, when it is not one."""
    example = "25" if exponent == 0 else "25." + "0" * exponent
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise ValueError(
            f"must be a decimal number such as {example}: digits, a point, no thousands separator"
        )
    whole, fraction = match.group(1), match.group(2) or ""
    if fraction[exponent:].strip("0"):
        raise ValueError(f"must have at most {exponent} digits after the point, such as {example}")
    if len(whole.lstrip("0")) > _MAX_AMOUNT_DIGITS:
        raise ValueError(f"must be at most {limits.MAX_AMOUNT} minor units")
    return int(whole + fraction[:exponent].ljust(exponent, "0"))


def _whole_number(cell: str) -> int | None:
    text = cell.strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def typed_cell(cell: str) -> JSON:
    """An attribute cell's value: a JSON number, `true` or `false` is that number or boolean;
    a JSON string in double quotes (`"42"`) is that string; anything else is the text as
    written. So `42` is a number, `"42"` and `007` are text."""
    text = cell.strip()
    if text in ("true", "false"):
        return text == "true"
    number = _JSON_NUMBER.fullmatch(text)
    if number is not None:
        if number.group(1) is None and number.group(2) is None:
            return int(text) if len(text) <= _MAX_INTEGER_DIGITS else cell
        value = float(text)
        return value if math.isfinite(value) else cell
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            quoted = json.loads(text)
        except ValueError:
            return cell
        if isinstance(quoted, str):
            return quoted
    return cell


def _no_constant(name: str) -> JSON:
    raise ValueError(f"{name} is not a JSON number")


def _json_object_cell(cell: str) -> dict[str, JSON] | None:
    """The JSON object an `attributes` or `variant_attributes` cell holds, or None when it
    holds none (NaN and Infinity, which JSON does not have, included)."""
    try:
        value = json.loads(cell, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
