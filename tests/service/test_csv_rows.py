"""The CSV reader of import jobs (docs/jobs.md, "CSV files"): rows sharing a `sku` one after
another are one product, its body holds only the cells that are not empty, prices are read in
the currency's major units, every bad cell of a product is reported at the line of its first
row, and the file is read a line at a time."""

from __future__ import annotations

import csv
import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain import limits
from catalog.domain.errors import InvalidField
from catalog.domain.jobs import RowOutcome
from catalog.service import csv_rows as reader
from catalog.service.commands import FindSku, RegisterProduct
from catalog.service.context import CatalogContext
from catalog.service.csv_rows import count_csv_rows, csv_rows
from catalog.service.cursors import CursorCodec
from catalog.service.import_files import ImportRow
from catalog.service.row_upserts import upsert_row
from catalog.service.variants import find_sku
from tests.clocks import SteppingClock
from tests.principals import ALICE

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "products-with-variants.csv"

SHIRT = (
    "sku,name,price,currency,option1_name,option1_value,variant_sku,variant_stock\n"
    "SH,Shirt,25.00,USD,color,red,SH-RED,3\n"
    "SH,,,,,green,SH-GREEN,4\n"
    "SH,,,,,blue,SH-BLUE,5\n"
)


def read(content: str | bytes) -> list[ImportRow]:
    data = content.encode() if isinstance(content, str) else content
    rows = list(csv_rows(io.BytesIO(data)))
    assert count_csv_rows(io.BytesIO(data)) == len(rows)
    return rows


def body_of(row: ImportRow) -> dict[str, Any]:
    assert row.error is None, row.error
    assert row.body is not None
    # The real parser of a register body: what the upsert hands to the API's use case.
    RegisterProduct.from_json("acme", dict(row.body))
    return dict(row.body)


def fields_of(row: ImportRow) -> dict[str, str]:
    assert isinstance(row.error, InvalidField), row
    assert row.body is None
    return {error.field: error.message for error in row.error.fields}


def test_the_example_file_is_a_shirt_with_three_variants_and_a_plain_product() -> None:
    rows = read(EXAMPLE.read_bytes())

    assert [(row.line, row.sku) for row in rows] == [(2, "SH"), (6, "MUG")]
    shirt, mug = (body_of(row) for row in rows)
    assert shirt["name"] == "Oxford shirt"
    assert shirt["description"] == "A cotton shirt.\nMachine washable."
    assert shirt["price"] == {"amount": 2500, "currency": "USD"}
    assert shirt["attributes"] == {"material": "cotton", "weight_g": 180}
    assert shirt["options"] == ["color", "size"]
    assert shirt["variants"] == [
        {
            "sku": "SH-RED-M",
            "options": {"color": "red", "size": "M"},
            "barcode": "4006381333931",
            "stock": 12,
        },
        {
            "sku": "SH-RED-L",
            "options": {"color": "red", "size": "L"},
            "stock": 8,
            "attributes": {"weight_g": 190},
        },
        {
            "sku": "SH-BLUE-M",
            "options": {"color": "blue", "size": "M"},
            "price": {"amount": 2750, "currency": "USD"},
            "stock": 0,
        },
    ]
    assert mug == {
        "sku": "MUG",
        "name": "Enamel mug",
        "description": "A 350 ml mug.",
        "price": {"amount": 990, "currency": "USD"},
        "attributes": {"material": "enamel", "weight_g": 240},
    }


def upsert_all(ctx: CatalogContext, content: bytes) -> list[RowOutcome]:
    rows = read(content)
    assert all(row.body is not None for row in rows), rows
    return [upsert_row(ctx, ALICE, "acme", row.body) for row in rows if row.body is not None]


def test_the_example_file_imports_and_importing_it_again_changes_nothing() -> None:
    store = MemoryStore()
    ctx = CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"k" * 32),
    )
    content = EXAMPLE.read_bytes()

    assert upsert_all(ctx, content) == [RowOutcome.CREATED, RowOutcome.CREATED]
    assert upsert_all(ctx, content) == [RowOutcome.UNCHANGED, RowOutcome.UNCHANGED]

    stock_only = b"sku,variant_sku,variant_stock\nSH,SH-RED-L,7\n"
    assert upsert_all(ctx, stock_only) == [RowOutcome.UPDATED]
    owner = find_sku(ctx, ALICE, FindSku("acme", "SH-RED-L"))
    shirt = store.get("acme", owner.product_id)
    assert shirt is not None
    assert [(v.sku, v.stock) for v in shirt.variants] == [
        ("SH-RED-M", 12),
        ("SH-RED-L", 7),
        ("SH-BLUE-M", 0),
    ]
    assert shirt.name == "Oxford shirt"


def test_three_variants_over_three_lines_are_one_row_at_the_line_of_the_first() -> None:
    content = SHIRT + "MUG,Mug,9.90,USD,,,,\n"

    rows = read(content)

    assert [(row.line, row.sku) for row in rows] == [(2, "SH"), (5, "MUG")]
    shirt = body_of(rows[0])
    assert [v["sku"] for v in shirt["variants"]] == ["SH-RED", "SH-GREEN", "SH-BLUE"]
    assert [v["options"] for v in shirt["variants"]] == [
        {"color": "red"},
        {"color": "green"},
        {"color": "blue"},
    ]
    assert [v["stock"] for v in shirt["variants"]] == [3, 4, 5]


def test_a_product_without_variants_has_no_options_nor_variants() -> None:
    rows = read("sku,name,description,product_type\nMUG,Mug,A mug,kitchen\n")

    assert body_of(rows[0]) == {
        "sku": "MUG",
        "name": "Mug",
        "description": "A mug",
        "product_type": "kitchen",
    }


def test_an_empty_cell_is_a_field_the_row_does_not_give() -> None:
    rows = read("sku,name,description,price,currency,attribute.color\nMUG,Mug,  ,,USD,\n")

    # So an upsert of a known SKU leaves the description, price and attributes as they are.
    assert body_of(rows[0]) == {"sku": "MUG", "name": "Mug"}


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("42", 42),
        ("-3", -3),
        ("1.5", 1.5),
        ("2e3", 2000.0),
        ("true", True),
        ("false", False),
        ('"""42"""', "42"),
        ("007", "007"),
        ("cotton", "cotton"),
        ("TRUE", "TRUE"),
        ("null", "null"),
        ("NaN", "NaN"),
        ("1e999", "1e999"),
        ('"[1, 2]"', "[1, 2]"),
        ('"a ""quoted"" word"', 'a "quoted" word'),
    ],
)
def test_an_attribute_cell_is_a_json_number_or_boolean_or_else_text(cell: str, value: Any) -> None:
    content = (
        "sku,name,attribute.spec,option1_name,option1_value,variant_sku,variant_attribute.spec\n"
        f"SH,Shirt,{cell},size,M,SH-M,{cell}\n"
    )

    body = body_of(read(content)[0])

    assert body["attributes"] == {"spec": value}
    assert body["variants"][0]["attributes"] == {"spec": value}
    assert type(body["attributes"]["spec"]) is type(value)


def test_the_attributes_columns_hold_json_objects_merged_with_the_named_columns() -> None:
    content = (
        "sku,name,attribute.material,attributes,option1_name,option1_value,variant_sku,"
        "variant_attribute.weight_g,variant_attributes\n"
        'SH,Shirt,cotton,"{""dims"": {""w"": 50}, ""tags"": [""a"", 2]}",size,M,SH-M,180,'
        '"{""color"": null}"\n'
        'SH,,,,,L,SH-L,,"{""finish"": {""sheen"": ""matte""}}"\n'
    )

    body = body_of(read(content)[0])

    assert body["attributes"] == {"material": "cotton", "dims": {"w": 50}, "tags": ["a", 2]}
    # A variant's null removes the product's attribute for it, as in a JSONL body.
    assert [v["attributes"] for v in body["variants"]] == [
        {"weight_g": 180, "color": None},
        {"finish": {"sheen": "matte"}},
    ]


@pytest.mark.parametrize("cell", ["cotton", "[1]", "42", "null", '"{}"', '{"a": NaN}', '{"a": 1'])
def test_an_attributes_cell_that_is_no_json_object_is_an_error_at_its_pointer(cell: str) -> None:
    quoted = '"' + cell.replace('"', '""') + '"'
    content = (
        "sku,attributes,option1_name,option1_value,variant_sku,variant_attributes\n"
        f"SH,{quoted},size,M,SH-M,{quoted}\n"
    )

    fields = fields_of(read(content)[0])

    assert list(fields) == ["/attributes", "/variants/0/attributes"]
    assert "must be a JSON object" in fields["/attributes"]
    assert "(line 2, column attributes)" in fields["/attributes"]
    assert "(line 2, column variant_attributes)" in fields["/variants/0/attributes"]


def test_an_attribute_given_by_its_column_and_by_the_attributes_column_is_an_error() -> None:
    content = (
        "sku,attribute.material,attributes,option1_name,option1_value,variant_sku,"
        "variant_attribute.weight_g,variant_attributes\n"
        'SH,cotton,"{""material"": ""wool"", ""fit"": ""slim""}",size,M,SH-M,180,'
        '"{""weight_g"": 190}"\n'
    )

    fields = fields_of(read(content)[0])

    assert list(fields) == ["/attributes/material", "/variants/0/attributes/weight_g"]
    assert "attribute.material and by attributes (line 2)" in fields["/attributes/material"]


@pytest.mark.parametrize(
    ("cell", "currency", "amount"),
    [
        ("25.00", "USD", 2500),
        ("25", "USD", 2500),
        ("25.5", "USD", 2550),
        (" 0.99 ", "USD", 99),
        ("2500", "JPY", 2500),
        ("2500.00", "JPY", 2500),
        ("1.234", "KWD", 1234),
        ("25.000", "EUR", 2500),
    ],
)
def test_a_price_is_read_in_major_units_with_the_currencys_digits(
    cell: str, currency: str, amount: int
) -> None:
    rows = read(f"sku,name,price,currency\nMUG,Mug,{cell},{currency}\n")

    assert body_of(rows[0])["price"] == {"amount": amount, "currency": currency}


@pytest.mark.parametrize("cell", ["25.001", '"25,00"', '"1,000.00"', "$25", "-1", "abc", "25."])
def test_a_price_that_is_not_a_decimal_of_the_currency_is_an_error_at_its_amount(
    cell: str,
) -> None:
    rows = read(f"sku,name,price,currency\nMUG,Mug,{cell},USD\nCUP,Cup,3.00,USD\n")

    assert rows[0].sku == "MUG"
    assert list(fields_of(rows[0])) == ["/price/amount"]
    assert "(line 2, column price)" in fields_of(rows[0])["/price/amount"]
    assert body_of(rows[1])["price"] == {"amount": 300, "currency": "USD"}


def test_a_price_needs_a_known_currency() -> None:
    rows = read(
        "sku,name,price,currency,option1_name,option1_value,variant_sku,variant_price\n"
        "MUG,Mug,9.90,,,,,\n"
        "CUP,Cup,9.90,usd,,,,\n"
        "SH,Shirt,,,size,M,SH-M,25.00\n"
    )

    assert list(fields_of(rows[0])) == ["/price/currency"]
    assert "usd is not an ISO 4217 currency" in fields_of(rows[1])["/price/currency"]
    assert list(fields_of(rows[2])) == ["/variants/0/price/currency"]


def test_bad_cells_are_reported_at_the_line_of_their_products_first_row() -> None:
    content = (
        "sku,name,price,currency,option1_name,option1_value,variant_sku,variant_stock\n"
        "MUG,Mug,9.90,USD,,,,\n"
        "SH,Shirt,25.00,USD,size,S,SH-S,1\n"
        "SH,,,,,M,SH-M,3.5\n"
        "SH,,,,,L,SH-L,many\n"
        "CUP,Cup,abc,USD,,,,\n"
        "LAMP,Lamp,30.00,USD,,,,\n"
    )

    rows = read(content)

    assert [(row.line, row.sku) for row in rows] == [
        (2, "MUG"),
        (3, "SH"),
        (6, "CUP"),
        (7, "LAMP"),
    ]
    body_of(rows[0])
    body_of(rows[3])
    # The whole product is one row: one error holding every bad cell of its rows.
    shirt = fields_of(rows[1])
    assert list(shirt) == ["/variants/1/stock", "/variants/2/stock"]
    assert "(line 4, column variant_stock)" in shirt["/variants/1/stock"]
    assert "(line 5, column variant_stock)" in shirt["/variants/2/stock"]
    assert list(fields_of(rows[2])) == ["/price/amount"]


def test_a_description_over_several_lines_moves_the_lines_of_the_rows_after_it() -> None:
    content = (
        "sku,name,description\n"
        'MUG,Mug,"first line\n'
        "second line, with a comma\n"
        'a ""quoted"" third"\n'
        "CUP,Cup,\n"
    )

    rows = read(content)

    assert [(row.line, row.sku) for row in rows] == [(2, "MUG"), (5, "CUP")]
    assert body_of(rows[0])["description"] == (
        'first line\nsecond line, with a comma\na "quoted" third'
    )


def test_a_byte_order_mark_and_windows_line_endings_are_read() -> None:
    content = (
        "\ufeffsku,name,description,option1_name,option1_value,variant_sku\r\n"
        'SH,Shirt,"two\r\nlines",size,S,SH-S\r\n'
        "SH,,,,M,SH-M\r\n"
        "\r\n"
        "MUG,Mug,,,,\r\n"
    )

    rows = read(content.encode("utf-8"))

    assert [(row.line, row.sku) for row in rows] == [(2, "SH"), (6, "MUG")]
    shirt = body_of(rows[0])
    assert shirt["description"] == "two\r\nlines"
    assert [v["sku"] for v in shirt["variants"]] == ["SH-S", "SH-M"]


def test_a_group_interrupted_then_repeated_is_another_row_of_the_same_sku() -> None:
    content = (
        "sku,name,option1_name,option1_value,variant_sku\n"
        "SH,Shirt,size,S,SH-S\n"
        "MUG,Mug,,,\n"
        "SH,,,M,SH-M\n"
    )

    rows = read(content)

    assert [(row.line, row.sku) for row in rows] == [(2, "SH"), (3, "MUG"), (4, "SH")]
    # The repeat is an upsert of its own: it gives only what its row holds, and an option value
    # is read only under an axis named on the first row of its own group.
    assert "/variants/0/options" in fields_of(rows[2])


def test_a_repeated_group_that_names_its_axes_patches_the_product_again() -> None:
    content = (
        "sku,name,option1_name,option1_value,variant_sku\n"
        "SH,Shirt,size,S,SH-S\n"
        "MUG,Mug,,,\n"
        "SH,,size,M,SH-M\n"
    )

    rows = read(content)

    assert rows[2].body == {
        "sku": "SH",
        "options": ["size"],
        "variants": [{"sku": "SH-M", "options": {"size": "M"}}],
    }


def test_a_following_row_may_repeat_the_products_columns_but_not_change_them() -> None:
    content = (
        "sku,name,currency,option1_name,option1_value,variant_sku\n"
        "SH,Shirt,USD,size,S,SH-S\n"
        "SH,Shirt,USD,size,M,SH-M\n"
        "TEE,Tee,USD,size,S,TEE-S\n"
        "TEE,Other tee,USD,size,M,TEE-M\n"
    )

    rows = read(content)

    assert [v["sku"] for v in body_of(rows[0])["variants"]] == ["SH-S", "SH-M"]
    tee = fields_of(rows[1])
    assert list(tee) == ["/name"]
    assert "differs from the product's first row (line 4)" in tee["/name"]


def test_rows_of_variant_columns_alone_update_the_variants_of_a_known_product() -> None:
    rows = read("sku,variant_sku,variant_stock\nSH,SH-RED-M,5\nSH,SH-RED-L,0\n")

    # No name: a body the upsert merges into the product that holds SKU SH (a new SKU would be
    # refused for its missing name by the registration it makes).
    assert rows[0].body == {
        "sku": "SH",
        "variants": [{"sku": "SH-RED-M", "stock": 5}, {"sku": "SH-RED-L", "stock": 0}],
    }


def test_a_following_row_without_a_variant_is_an_error() -> None:
    rows = read("sku,name,option1_name,option1_value,variant_sku\nSH,Shirt,size,S,SH-S\nSH,,,,\n")

    assert list(fields_of(rows[0])) == ["/variants/1"]


def test_axes_are_named_from_option1_name_on() -> None:
    rows = read("sku,name,option2_name,option2_value,variant_sku\nSH,Shirt,size,S,SH-S\n")

    assert "/options/0" in fields_of(rows[0])


def test_an_unknown_column_is_reported_by_every_row() -> None:
    rows = read("sku,name,colour\nMUG,Mug,red\nCUP,Cup,\n")

    assert [row.sku for row in rows] == ["MUG", "CUP"]
    for row in rows:
        assert list(fields_of(row)) == ["/colour"]
        assert "is not a column of a product CSV" in fields_of(row)["/colour"]


def test_a_column_named_twice_and_a_header_without_sku_are_reported_by_every_row() -> None:
    twice = read("sku,name,NAME\nMUG,Mug,Mug\n")
    assert list(fields_of(twice[0])) == ["/NAME"]

    without_sku = read("name,description\nMug,a mug\nCup,a cup\n")
    assert [row.line for row in without_sku] == [2, 3]
    assert [row.sku for row in without_sku] == [None, None]
    assert all(fields_of(row) == {"/sku": "the header has no sku column"} for row in without_sku)


def test_column_names_are_read_whatever_their_case_and_surrounding_spaces() -> None:
    rows = read(" SKU , Name ,Attribute.Color\nMUG,Mug,red\n")

    assert body_of(rows[0]) == {"sku": "MUG", "name": "Mug", "attributes": {"Color": "red"}}


def test_a_cell_under_no_column_name_is_an_error_and_an_empty_one_is_not() -> None:
    rows = read("sku,name,\nMUG,Mug,\nCUP,Cup,,\nLAMP,Lamp,,oops\n")

    assert [row.sku for row in rows] == ["MUG", "CUP", "LAMP"]
    body_of(rows[0])
    body_of(rows[1])
    assert "column 4" in fields_of(rows[2])["/"]


def test_a_row_without_its_sku_is_an_error_of_its_own() -> None:
    rows = read("sku,name\nMUG,Mug\n,Cup\n,Lamp\n")

    assert [(row.line, row.sku) for row in rows] == [(2, "MUG"), (3, None), (4, None)]
    assert list(fields_of(rows[1])) == ["/sku"]


def test_an_empty_file_and_a_header_alone_have_no_rows() -> None:
    assert read(b"") == []
    assert read("sku,name\n\n,,\n") == []


def test_bytes_that_are_not_utf8_are_an_error_at_their_cell() -> None:
    content = b"sku,name\nMUG,Caf\xe9 mug\nCUP,Cup\nB\xffD,Bad\n"

    rows = read(content)

    assert [(row.line, row.sku) for row in rows] == [(2, "MUG"), (3, "CUP"), (4, None)]
    assert fields_of(rows[0]) == {"/name": "is not UTF-8 text (line 2, column name)"}
    body_of(rows[1])
    assert list(fields_of(rows[2])) == ["/sku"]


def test_a_cell_over_the_csv_field_limit_is_an_error_row_and_the_next_line_is_read() -> None:
    huge = "x" * (csv.field_size_limit() + 1)
    content = f"sku,name,description\nMUG,Mug,{huge}\nCUP,Cup,\n"

    rows = read(content)

    assert [(row.line, row.sku) for row in rows] == [(2, None), (3, "CUP")]
    assert "not valid CSV" in fields_of(rows[0])["/"]
    body_of(rows[1])


def test_a_quoted_cell_over_the_limit_stops_the_reading_with_one_error() -> None:
    huge = "x\n" * csv.field_size_limit()
    content = f'sku,name,description\nMUG,Mug,ok\nCUP,Cup,"{huge}"\nLAMP,Lamp,\n'

    rows = read(content)

    # Where the quoted cell ends cannot be trusted, so no line after it becomes a product.
    assert [(row.line, row.sku) for row in rows] == [(2, "MUG"), (3, None)]
    assert "the rest of the file is not read" in fields_of(rows[1])["/"]


def test_a_stray_quote_stops_the_reading_with_one_error() -> None:
    rows = read('sku,name\nMUG,"Mug"s\nCUP,Cup\n')

    assert [(row.line, row.sku) for row in rows] == [(2, None)]


def test_a_row_longer_than_the_limit_is_an_error_and_the_next_line_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader, "MAX_ROW_BYTES", 1_000)
    long_line = "MUG,Mug," + "y" * 100_000 + "\n"
    content = "sku,name,description\n" + long_line + "CUP,Cup,\n"

    rows = read(content)

    assert [(row.line, row.sku) for row in rows] == [(2, None), (3, "CUP")]
    assert fields_of(rows[0]) == {"/": "the row is longer than 1000 characters"}


def test_a_long_line_is_never_held_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_ROW_BYTES", 10_000)
    line_bytes = 20 * 1024 * 1024
    stream = io.BytesIO(b"sku,name\nMUG," + b"y" * line_bytes + b"\nCUP,Cup\n")

    tracemalloc.start()
    try:
        rows = list(csv_rows(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [row.sku for row in rows] == [None, "CUP"]
    # The line is read in pieces of the limit and dropped: a small part of it at any time.
    assert peak < line_bytes // 10


def test_a_product_whose_rows_are_too_long_together_is_one_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader, "MAX_ROW_BYTES", 1_000)
    variants = "".join(f"SH,,,M{i},SH-{i}\n" for i in range(200))
    content = "sku,name,option1_name,option1_value,variant_sku\nSH,Shirt,size,S,SH-S\n"

    rows = read(content + variants + "MUG,Mug,,,\n")

    assert [(row.line, row.sku) for row in rows] == [(2, "SH"), (203, "MUG")]
    assert "lines 2 to 202" in fields_of(rows[0])["/"]


def test_a_product_holds_at_most_the_variants_the_catalog_takes() -> None:
    count = limits.MAX_VARIANTS + 1
    variants = "".join(f"SH,,,{i},SH-{i}\n" for i in range(1, count))
    content = "sku,name,option1_name,option1_value,variant_sku\nSH,Shirt,size,0,SH-0\n"

    rows = read(content + variants)

    assert len(rows) == 1
    assert list(fields_of(rows[0])) == ["/variants"]


@pytest.mark.parametrize(
    "content",
    [
        SHIRT,
        "sku,name\n" + "".join(f"P{i},Product {i}\n" for i in range(30)),
        "sku,name\nA,a\nB,b\nA,a\n\n\nC,c\n",
        'sku,name\nA,"multi\nline"\nB,b\n',
        "sku,name\nA,a\n,orphan\nB,b\n",
        b"sku,name\nA,\xff\nB,b\n",
    ],
)
def test_the_count_is_the_number_of_rows_and_lines_only_grow(content: str | bytes) -> None:
    data = content.encode() if isinstance(content, str) else content

    rows = list(csv_rows(io.BytesIO(data)))

    assert count_csv_rows(io.BytesIO(data)) == len(rows) > 0
    lines = [row.line for row in rows]
    # A job resumes after its last committed line: the rows must come in line order.
    assert lines == sorted(set(lines))


def test_the_callers_stream_stays_open_for_a_second_pass() -> None:
    stream = io.BytesIO(SHIRT.encode())

    counted = count_csv_rows(stream)
    stream.seek(0)
    rows = list(csv_rows(stream))

    assert counted == len(rows) == 1
    assert not stream.closed
