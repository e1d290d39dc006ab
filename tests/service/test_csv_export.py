"""The CSV writer of export jobs (docs/jobs.md, "CSV exports"): stored products exported with
`export_row`, written a batch at a time, read back by the import's CSV reader as the same
register bodies, and upserted again as `unchanged`; prices in major units; attributes in
their own columns or in the JSON columns; products a CSV file cannot hold refused one by one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import pytest

from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.jobs import RowOutcome
from catalog.domain.product import Product
from catalog.service import csv_export, product_types
from catalog.service.commands import CreateProductType, PatchProduct, RegisterProduct
from catalog.service.context import CatalogContext
from catalog.service.csv_export import CsvColumns, CsvExport
from catalog.service.csv_rows import csv_rows
from catalog.service.cursors import CursorCodec
from catalog.service.job_runs import export_row
from catalog.service.products import update_product
from catalog.service.row_upserts import upsert_row
from tests.clocks import SteppingClock
from tests.principals import ALICE

APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "required": True},
        "size": {"type": "enum", "values": ["S", "M", "L"], "variant_axis": True},
    },
}

# Text that a careless writer would change on its way through a CSV cell and back.
SHIRT: dict[str, Any] = {
    "sku": "SH",
    "name": '  Oxford "shirt", blue  ',
    "description": "A cotton shirt,\r\nmachine washable.\rA third line\n",
    "price": {"amount": 2500, "currency": "USD"},
    "attributes": {
        "material": "cotton",
        "weight_g": 180,
        "organic": True,
        "ratio": 0.5,
        "whole_float": 2.0,
        "big": 1e20,
        "negative": -3,
        "code": "007",
        "answer": "42",
        "flag": "true",
        "null_text": "null",
        "empty": "",
        "blank": "  ",
        "quoted": '"q"',
        "spaced": ' "q" ',
        "a.b": "dotted",
        "café ☕": "crème brûlée",
        "multi": "line one\nline two",
        "dims": {"w": 50, "h": [1, 2.5], "unit": "cm"},
        "tags": ["a", "b"],
    },
    "options": ["color", "size"],
    "variants": [
        {
            "sku": "SH-RED-M",
            "options": {"color": "red", "size": "M"},
            "barcode": "4006381333931",
            "stock": 12,
        },
        {"sku": "SH-RED-L", "options": {"color": "red", "size": " L "}, "stock": 8},
        {
            "sku": "SH-BLUE-M",
            "options": {"color": "blue, dark", "size": "M"},
            "price": {"amount": 2750, "currency": "USD"},
            "stock": 0,
            "attributes": {"weight_g": 190, "finish": {"sheen": "matte"}, "code": "42"},
        },
    ],
}
PRODUCTS: list[dict[str, Any]] = [
    SHIRT,
    {
        "sku": "MUG",
        "name": "Enamel mug",
        "price": {"amount": 990, "currency": "USD"},
        "attributes": {"material": "enamel"},
    },
    {"sku": "YEN", "name": "Teapot", "price": {"amount": 2500, "currency": "JPY"}},
    {"sku": "KWD", "name": "Lamp", "price": {"amount": 1234, "currency": "KWD"}},
    # Axes and no variant yet; no price of its own but variants with one.
    {"sku": "AXES", "name": "Sock", "options": ["size"]},
    {
        "sku": "NOPRICE",
        "name": "Scarf",
        "options": ["size"],
        "variants": [
            {
                "sku": "NOPRICE-S",
                "options": {"size": "S"},
                "price": {"amount": 1005, "currency": "EUR"},
            },
            {"sku": "NOPRICE-M", "options": {"size": "M"}},
        ],
    },
    {
        "sku": "TEE",
        "name": "Tee",
        "product_type": "apparel",
        "attributes": {"brand": "Acme"},
        "options": ["size"],
        "variants": [{"sku": "TEE-S", "options": {"size": "S"}}],
    },
    {
        "sku": "OVR",
        "name": "Lamp shade",
        "price": {"amount": 1500, "currency": "USD"},
        "channel_overrides": {
            "mercadolibre": {"name": "Pantalla", "price": {"amount": 1400, "currency": "USD"}}
        },
        "options": ["color"],
        "variants": [{"sku": "OVR-W", "options": {"color": "white"}}],
    },
]


def new_ctx() -> CatalogContext:
    ctx = CatalogContext(
        store=MemoryStore(),
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"k" * 32),
    )
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))
    return ctx


def stored(ctx: CatalogContext) -> list[Product]:
    page = ctx.store.page("acme", status=None, channel=None, limit=100, position=None)
    assert page.position is None
    return sorted(page.items, key=lambda product: product.sku)


@pytest.fixture
def ctx() -> CatalogContext:
    ctx = new_ctx()
    for body in PRODUCTS:
        assert upsert_row(ctx, ALICE, "acme", body) is RowOutcome.CREATED
    # An override of one variant on a channel, which a registration cannot name.
    lamp = next(product for product in stored(ctx) if product.sku == "OVR")
    variant_price = {"price": {"amount": 1300, "currency": "USD"}}
    overrides = {"mercadolibre": {"variants": {lamp.variants[0].id: variant_price}}}
    patch = PatchProduct.from_json("acme", lamp.id, {"channel_overrides": overrides})
    update_product(ctx, ALICE, patch)
    return ctx


def export_csv(rows: Sequence[dict[str, Any]], columns: CsvColumns, batch: int = 3) -> bytes:
    """The file an export job writes: a batch at a time, the header on the first only."""
    writer = CsvExport(columns)
    data = b""
    for start in range(0, len(rows), batch):
        written = writer.write(rows[start : start + batch], header=not data)
        assert written.refused == {}
        data += written.data
    return data


def read_back(data: bytes) -> list[dict[str, Any]]:
    bodies = []
    for row in csv_rows(io.BytesIO(data)):
        assert row.error is None, row.error
        assert row.body is not None
        RegisterProduct.from_json("acme", dict(row.body))  # what the upsert parses
        bodies.append(dict(row.body))
    return bodies


def given(row: dict[str, Any]) -> dict[str, Any]:
    """An export row as a CSV file gives it: without its channel overrides, and without what
    is null or empty (which an import leaves as it is)."""

    def present(body: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in body.items() if value not in (None, {}, [])}

    body = present({name: value for name, value in row.items() if name != "channel_overrides"})
    if "variants" in body:
        body["variants"] = [present(variant) for variant in body["variants"]]
    return body


def same(left: Any, right: Any) -> bool:
    # JSON text, so 1, 1.0 and true are three values, as they are to the catalog.
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def first_pass(rows: Sequence[dict[str, Any]]) -> CsvColumns:
    return CsvColumns.of_rows(rows)


def no_pass(rows: Sequence[dict[str, Any]]) -> CsvColumns:
    return CsvColumns()


def pass_over_the_mug_alone(rows: Sequence[dict[str, Any]]) -> CsvColumns:
    # Names the first pass did not see, as of products changed after it.
    return CsvColumns.of_rows(row for row in rows if row["sku"] == "MUG")


@pytest.mark.parametrize("columns_of", [first_pass, no_pass, pass_over_the_mug_alone])
def test_an_export_reads_back_as_the_same_bodies_and_imports_as_unchanged(
    ctx: CatalogContext, columns_of: Any
) -> None:
    products = stored(ctx)
    rows = [export_row(product) for product in products]

    bodies = read_back(export_csv(rows, columns_of(rows)))

    assert [body["sku"] for body in bodies] == [row["sku"] for row in rows]
    for body, row in zip(bodies, rows, strict=True):
        assert same(body, given(row)), (body, given(row))
    outcomes = [upsert_row(ctx, ALICE, "acme", body) for body in bodies]
    assert outcomes == [RowOutcome.UNCHANGED] * len(products)
    after = stored(ctx)
    assert [p.version for p in after] == [p.version for p in products]
    # A CSV file has no overrides, and an import of one leaves them as they are.
    lamp = next(product for product in after if product.sku == "OVR")
    assert lamp.channel_overrides == next(p for p in products if p.sku == "OVR").channel_overrides
    assert lamp.channel_overrides["mercadolibre"].variants


def test_an_export_imported_into_an_empty_catalog_makes_the_same_products(
    ctx: CatalogContext,
) -> None:
    rows = [export_row(product) for product in stored(ctx)]
    elsewhere = new_ctx()

    bodies = read_back(export_csv(rows, CsvColumns.of_rows(rows)))
    outcomes = [upsert_row(elsewhere, ALICE, "acme", body) for body in bodies]

    assert outcomes == [RowOutcome.CREATED] * len(rows)
    copies = [export_row(product) for product in stored(elsewhere)]
    assert all(same(given(copy), given(row)) for copy, row in zip(copies, rows, strict=True))


def test_a_first_pass_gives_a_column_to_each_attribute_a_cell_can_carry(
    ctx: CatalogContext,
) -> None:
    rows = [export_row(product) for product in stored(ctx)]

    columns = CsvColumns.of_rows(rows)

    assert "dims" not in columns.attributes  # an object: always in the attributes column
    assert {"material", "weight_g", "café ☕", "a.b", "brand", "empty"} <= set(columns.attributes)
    assert columns.attributes == tuple(sorted(columns.attributes))
    assert columns.variant_attributes == ("code", "weight_g")
    header = next(csv.reader(io.StringIO(CsvExport(columns).header().decode())))
    assert header == columns.header()
    assert header[:9] == list(csv_export.PRODUCT_COLUMNS)
    assert header.index("attribute.material") < header.index("attributes")
    assert header[-1] == "variant_attributes"
    assert CsvColumns.from_json(json.loads(json.dumps(columns.to_json()))) == columns


def test_attributes_go_to_their_columns_and_the_others_to_the_json_column(
    ctx: CatalogContext,
) -> None:
    shirt = export_row(next(product for product in stored(ctx) if product.sku == "SH"))
    columns = CsvColumns(attributes=("material", "answer", "dims"), variant_attributes=("code",))

    lines = list(csv.DictReader(io.StringIO(export_csv([shirt], columns).decode(), newline="")))

    first, _, last = lines
    assert (first["attribute.material"], first["attribute.answer"]) == ("cotton", '"42"')
    assert first["attribute.dims"] == ""  # no cell carries an object
    in_json = json.loads(first["attributes"])
    assert in_json["dims"] == SHIRT["attributes"]["dims"]
    assert "material" not in in_json and in_json["weight_g"] == 180
    assert (last["variant_attribute.code"], last["variant_sku"]) == ('"42"', "SH-BLUE-M")
    assert json.loads(last["variant_attributes"]) == {"weight_g": 190, "finish": {"sheen": "matte"}}
    # A product's columns are on its first row only; the others hold a variant each.
    assert [line["name"] for line in lines] == [SHIRT["name"], "", ""]
    assert [line["sku"] for line in lines] == ["SH"] * 3


def test_a_variants_null_attribute_is_carried_by_the_json_column() -> None:
    row = {
        "sku": "SH",
        "name": "Shirt",
        "attributes": {"color": "red"},
        "options": ["size"],
        "variants": [{"sku": "SH-M", "options": {"size": "M"}, "attributes": {"color": None}}],
    }

    (body,) = read_back(export_csv([row], CsvColumns(variant_attributes=("color",))))

    assert body["variants"][0]["attributes"] == {"color": None}


@pytest.mark.parametrize(
    ("amount", "currency", "cell"),
    [
        (2500, "USD", "25.00"),
        (5, "USD", "0.05"),
        (0, "USD", "0.00"),
        (2500, "JPY", "2500"),
        (1234, "KWD", "1.234"),
        (10**15, "EUR", "10000000000000.00"),
    ],
)
def test_prices_are_written_in_the_currencys_major_units(
    amount: int, currency: str, cell: str
) -> None:
    price = {"amount": amount, "currency": currency}
    row = {
        "sku": "SH",
        "name": "Shirt",
        "price": price,
        "options": ["size"],
        "variants": [{"sku": "SH-M", "options": {"size": "M"}, "price": price}],
    }

    data = export_csv([row], CsvColumns())

    (line,) = csv.DictReader(io.StringIO(data.decode(), newline=""))
    assert (line["price"], line["variant_price"], line["currency"]) == (cell, cell, currency)
    (body,) = read_back(data)
    assert body["price"] == body["variants"][0]["price"] == price


def test_the_header_is_the_first_line_of_the_first_batch_only() -> None:
    writer = CsvExport(CsvColumns(attributes=("material",)))
    mug = {"sku": "MUG", "name": "Mug", "attributes": {"material": "enamel"}}
    cup = {"sku": "CUP", "name": "Cup"}

    first = writer.write([mug], header=True).data
    second = writer.write([cup], header=False).data

    assert first.startswith(writer.header())
    assert first.count(b"\r\n") == 2 and second.count(b"\r\n") == 1
    assert second.startswith(b"CUP,Cup,")
    assert [body["sku"] for body in read_back(first + second)] == ["MUG", "CUP"]
    assert list(csv_rows(io.BytesIO(writer.header()))) == []


def test_a_product_a_csv_file_cannot_hold_is_refused_and_the_others_are_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mug = {"sku": "MUG", "name": "Mug", "price": {"amount": 990, "currency": "USD"}}
    two_currencies = {
        "sku": "SH",
        "name": "Shirt",
        "price": {"amount": 2500, "currency": "USD"},
        "options": ["size"],
        "variants": [
            {"sku": "SH-S", "options": {"size": "S"}},
            {"sku": "SH-M", "options": {"size": "M"}, "price": {"amount": 2300, "currency": "EUR"}},
        ],
    }
    # A valid product (100 strings of 2000 characters) whose JSON is longer than a cell.
    huge = {"sku": "HUGE", "name": "Huge", "attributes": {"notes": ["n" * 2000] * 100}}
    long_text = {"sku": "LONG", "name": "Long", "description": "d" * 600}
    not_unicode = {"sku": "ODD", "name": "half a pair \ud83d"}
    monkeypatch.setattr(csv_export, "MAX_ROW_BYTES", 500)

    batch = CsvExport().write([mug, two_currencies, huge, long_text, not_unicode], header=True)

    assert sorted(batch.refused) == [1, 2, 3, 4]
    assert batch.refused[1].field == "/variants/1/price/currency"
    assert "one currency per product" in batch.refused[1].message
    assert batch.refused[2].field == "/attributes"
    assert "longer than" in batch.refused[2].message
    assert batch.refused[3].field == "/"
    assert "not valid Unicode" in batch.refused[4].message
    assert [body["sku"] for body in read_back(batch.data)] == ["MUG"]


def test_attribute_names_a_header_cannot_hold_are_no_columns() -> None:
    rows = [{"sku": "A", "attributes": {" padded": "x", "fine": "y", "nested": {"a": 1}}}]

    assert CsvColumns.of_rows(rows) == CsvColumns(attributes=("fine",))
    with pytest.raises(ValueError, match="attribute names"):
        CsvColumns(attributes=(" padded",))
    with pytest.raises(ValueError, match="attribute names"):
        CsvColumns(attributes=("fine", "fine"))


def test_past_the_limit_the_most_used_names_have_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_export, "MAX_ATTRIBUTE_COLUMNS", 2)
    rows = [
        {"sku": "A", "name": "A", "attributes": {"zeta": 1, "alpha": 1, "rare": 1}},
        {"sku": "B", "name": "B", "attributes": {"zeta": 2, "alpha": 2}},
        {"sku": "C", "name": "C", "attributes": {"zeta": 3, "beta": 3}},
    ]

    columns = CsvColumns.of_rows(rows)

    assert columns.attributes == ("alpha", "zeta")
    bodies = read_back(export_csv(rows, columns))
    assert [body["attributes"] for body in bodies] == [row["attributes"] for row in rows]
