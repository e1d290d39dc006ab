"""deploy/item_sizes.py, the cost model's tool, in the parts docs/deploy.md and docs/dynamodb.md
take figures from without running it (it needs moto's server and a few minutes): DynamoDB's
billing rules, the variants it measures, and the worst case of 250 variants at their limits."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog.adapters.aws.dynamodb_store import MAX_ITEM_BYTES
from catalog.domain import limits
from catalog.domain.product import Product
from catalog.domain.values import ImageRef
from catalog.domain.variants import parse_variant_bodies
from deploy import item_sizes

KB = 1024


def units(*calls: item_sizes.Call) -> tuple[float, float]:
    measured = item_sizes.Measured("operation", list(calls), log_bytes=0, status=200)
    return measured.read_units(), measured.write_units()


def test_reads_are_billed_per_started_4_kb_and_half_when_eventually_consistent() -> None:
    assert units(item_sizes.Call("dynamodb", "GetItem", [4 * KB], consistent=True)) == (1, 0)
    assert units(item_sizes.Call("dynamodb", "GetItem", [4 * KB + 1], consistent=True)) == (2, 0)
    assert units(item_sizes.Call("dynamodb", "GetItem", [80 * KB + 1])) == (10.5, 0)
    # An item that is not there costs a unit all the same.
    assert units(item_sizes.Call("dynamodb", "GetItem", [], consistent=True)) == (1, 0)
    # A Query adds its items up before rounding; a BatchGetItem rounds each item.
    assert units(item_sizes.Call("dynamodb", "Query", [KB] * 5, consistent=True)) == (2, 0)
    assert units(item_sizes.Call("dynamodb", "BatchGetItem", [KB] * 5, consistent=True)) == (5, 0)


def test_writes_are_billed_per_started_kb_of_each_item_and_doubled_in_a_transaction() -> None:
    transaction = item_sizes.Call(
        "dynamodb",
        "TransactWriteItems",
        written_item_bytes=[80 * KB + 1, 300, 1],
        transactional=True,
    )
    assert units(transaction) == (0, 2 * (81 + 1 + 1))
    assert units(item_sizes.Call("dynamodb", "PutItem", written_item_bytes=[2 * KB])) == (0, 2)


def test_the_variants_measured_are_ones_the_catalog_accepts() -> None:
    bodies = [item_sizes.variant_body(n, ["01JE0000000000000000000IM1"]) for n in range(250)]

    parsed = parse_variant_bodies(bodies)

    assert len({body.sku for body in parsed}) == 250
    assert len({tuple(body.options.items()) for body in parsed}) == 250
    assert all(body.barcode and body.image_ids and body.attributes for body in parsed)


def product() -> Product:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    image = ImageRef("01JE0000000000000000000IM1", "acme/p/i.png", "image/png", 800, 800, 9000)
    return Product(
        id="01JE00000000000000000000P1",
        merchant_id="acme",
        sku="RDG3",
        name="Trail running shoe",
        images=[image],
        created_at=at,
        updated_at=at,
    )


def test_each_variant_of_the_worst_case_is_at_its_limits() -> None:
    grown = item_sizes.at_limits(product(), 2, attributes=False)

    assert len(grown.options) == limits.MAX_OPTIONS
    variant = grown.variants[1]
    assert len(variant.sku) == limits.MAX_SKU_LENGTH
    assert [len(axis) for axis in variant.options] == [64] * limits.MAX_OPTIONS
    assert {len(value) for value in variant.options.values()} == {limits.MAX_OPTION_VALUE_LENGTH}
    assert variant.price is not None and variant.price.amount == limits.MAX_AMOUNT
    assert len(variant.image_ids) == limits.MAX_IMAGES == len(grown.images)
    assert variant.barcode is not None and len(variant.barcode) == 14
    assert variant.stock == limits.MAX_STOCK


def test_250_variants_at_their_limits_outgrow_an_item_and_the_count_that_fits_is_the_most() -> None:
    shoe = product()
    worst = item_sizes.worst_case(shoe, limits.MAX_VARIANTS, attributes=False)
    assert worst.item_bytes > MAX_ITEM_BYTES
    assert worst.document_bytes > limits.MAX_DOCUMENT_BYTES

    fit = item_sizes.fitting(shoe, attributes=False)
    within = item_sizes.worst_case(shoe, fit, attributes=False)
    beyond = item_sizes.worst_case(shoe, fit + 1, attributes=False)
    assert within.document_bytes <= limits.MAX_DOCUMENT_BYTES < beyond.document_bytes
    # The document limit keeps the product item, keys and all, within DynamoDB's.
    assert within.item_bytes < MAX_ITEM_BYTES
