"""The retrieval cost contract (DESIGN.md section 7) on DynamoDB, counted in boto3 calls.

get: 1 read; a list page: 1 query (2 with a channel filter); create, update, transition: at
most 1 read + 1 atomic write; never a Scan. The use cases run as the API runs them, on a
DynamoDbStore over moto, with a botocore hook counting every operation the client sends.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.errors import DuplicateSku, InvalidField, SkuNotFound
from catalog.domain.lifecycle import Status
from catalog.domain.variants import VariantBody
from catalog.service import images, product_types, products, variants
from catalog.service.commands import (
    AddImage,
    AddVariant,
    ChangeStatus,
    CreateProductType,
    DeactivateProduct,
    FindSku,
    GetProduct,
    ListProducts,
    PatchProduct,
    PatchVariant,
    ReadHistory,
    RegisterProduct,
    RemoveVariant,
    ReportOutcome,
    RequestPublication,
    RequestUnpublication,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import SkuOwner
from tests.api.support import png
from tests.api.variant_support import with_variants
from tests.aws.dynamodb_support import TABLE, CallCounter
from tests.backends import CatalogStore
from tests.clocks import ManualSecondsClock, SteppingClock
from tests.contract.conftest import create_change
from tests.contract.test_type_pages_contract import typed
from tests.principals import ALICE, adapter

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ONE_READ = Counter({"GetItem": 1})
ONE_WRITE = Counter({"TransactWriteItems": 1})
READ_THEN_WRITE = Counter({"GetItem": 1, "TransactWriteItems": 1})
ONE_QUERY = Counter({"Query": 1})


@pytest.fixture
def store(client: Any) -> DynamoDbStore:
    """A store in a process that has read the channels' requirements already (as every
    process has after its first write): writes judge completeness by them, unread, while
    they are younger than `requirements_max_age` (a clock that stands still here)."""
    store = DynamoDbStore(client, TABLE, requirements_max_age=5.0, monotonic=lambda: 0.0)
    store.channel_requirements()
    return store


@pytest.fixture
def ctx(store: DynamoDbStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(T0 + timedelta(seconds=1)),
        ids=UlidIds(),
        cursors=CursorCodec(b"call-count-cursor-secret"),
    )


PAYLOAD = {"sku": "TS-1", "name": "Trail shoe", "price": {"amount": 12999, "currency": "USD"}}


def test_create_is_one_transaction_and_no_read(ctx: CatalogContext, calls: CallCounter) -> None:
    calls.reset()
    products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD))

    assert calls.counts() == ONE_WRITE


def test_a_keyed_create_adds_one_read_of_its_idempotency_record(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    calls.reset()
    first = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD, "k-1"))
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    retry = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD, "k-1"))
    assert calls.counts() == ONE_READ  # the replay reads the record and writes nothing
    assert (retry.replayed, retry.product.id) == (True, first.product.id)


def test_get_is_one_read(ctx: CatalogContext, calls: CallCounter) -> None:
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD)
    ).product

    calls.reset()
    found = products.get_product(ctx, ALICE, GetProduct("acme", product.id))

    assert calls.counts() == ONE_READ
    assert found.id == product.id


def test_update_transition_and_delete_are_one_read_and_one_write_each(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD)
    ).product

    calls.reset()
    products.update_product(ctx, ALICE, PatchProduct("acme", product.id, {"description": "Grippy"}))
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.update_product(
        ctx, ALICE, PatchProduct("acme", product.id, {"name": "Trail shoe 2"}, 2)
    )
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.change_status(
        ctx, ALICE, ChangeStatus("acme", product.id, Status.INACTIVE, "discontinued")
    )
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.change_status(ctx, ALICE, ChangeStatus("acme", product.id, Status.DRAFT))
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.deactivate_product(ctx, ALICE, DeactivateProduct("acme", product.id))
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.deactivate_product(
        ctx, ALICE, DeactivateProduct("acme", product.id)
    )  # a repeat writes nothing
    assert calls.counts() == ONE_READ


def test_every_list_page_is_one_query(ctx: CatalogContext, calls: CallCounter) -> None:
    for n in range(5):
        products.register_product(
            ctx, ALICE, RegisterProduct.from_json("acme", {**PAYLOAD, "sku": f"TS-{n}"})
        )

    for status in (None, Status.DRAFT):
        cursor = None
        pages = 0
        while True:
            calls.reset()
            page = products.list_products(
                ctx, ALICE, ListProducts("acme", status, limit=2, cursor=cursor)
            )
            assert calls.counts() == ONE_QUERY
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert pages == 3


def test_a_channel_page_is_one_query_and_one_batch_read(
    ctx: CatalogContext, store: DynamoDbStore, calls: CallCounter
) -> None:
    for n in range(3):
        store.commit(create_change(listings={"mercadolibre": "PUBLISHED"}, sku=f"L-{n}"))
    store.commit(create_change(listings={"mercadolibre": "FAILED"}))
    two_calls = Counter({"Query": 1, "BatchGetItem": 1})

    for status in (None, Status.DRAFT):
        calls.reset()
        first = products.list_products(
            ctx, ALICE, ListProducts("acme", status, "mercadolibre", limit=2)
        )
        assert calls.counts() == two_calls
        calls.reset()
        query = ListProducts("acme", status, "mercadolibre", limit=2, cursor=first.next_cursor)
        last = products.list_products(ctx, ALICE, query)
        assert calls.counts() == two_calls
        assert (len(first.items), len(last.items), last.next_cursor) == (2, 1, None)


def test_history_is_one_query(ctx: CatalogContext, calls: CallCounter) -> None:
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD)
    ).product
    products.update_product(ctx, ALICE, PatchProduct("acme", product.id, {"description": "Grippy"}))

    calls.reset()
    page = products.product_history(ctx, ALICE, ReadHistory("acme", product.id, limit=10))

    assert calls.counts() == ONE_QUERY
    assert [entry.version for entry in page.items] == [2, 1]


def test_a_whole_scenario_never_scans(ctx: CatalogContext, calls: CallCounter) -> None:
    created = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD, "k"))
    product_id = created.product.id
    products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD, "k"))
    products.update_product(ctx, ALICE, PatchProduct("acme", product_id, {"description": "Grippy"}))
    products.get_product(ctx, ALICE, GetProduct("acme", product_id))
    products.list_products(ctx, ALICE, ListProducts("acme"))
    products.list_products(ctx, ALICE, ListProducts("acme", Status.DRAFT))
    products.list_products(ctx, ALICE, ListProducts("acme", channel="facebook"))
    products.product_history(ctx, ALICE, ReadHistory("acme", product_id))
    products.deactivate_product(ctx, ALICE, DeactivateProduct("acme", product_id))
    products.change_status(ctx, ALICE, ChangeStatus("acme", product_id, Status.DRAFT))

    seen = set(calls.calls)
    assert seen == {"GetItem", "TransactWriteItems", "Query"}  # the counter does count
    assert "Scan" not in seen


def test_an_update_rewrites_only_the_listing_index_entries_that_moved(
    ctx: CatalogContext, client: Any
) -> None:
    from catalog.service import channels

    written: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        written.append([next(iter(item)) for item in params["TransactItems"]])

    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    body = {**PAYLOAD, "description": "Grippy"}
    product = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product
    images.add_image(ctx, ALICE, AddImage.of("acme", product.id, png()))
    products.change_status(ctx, ALICE, ChangeStatus("acme", product.id, Status.READY))
    for channel in ("ml", "fb"):
        channels.request_publication(ctx, ALICE, RequestPublication("acme", product.id, channel))
    listed = channels.request_publication(ctx, ALICE, RequestPublication("acme", product.id, "ig"))
    outcome = {"state": "PUBLISHED", "product_version": listed.version, "external_id": "X"}

    written.clear()
    products.update_product(ctx, ALICE, PatchProduct("acme", product.id, {"name": "Renamed"}))
    # product, history, ProductUpdated: the three PENDING listings did not move.
    assert written == [["Put", "Put", "Put"]]

    written.clear()
    channels.report_outcome(
        ctx, adapter("ml"), ReportOutcome.from_json("acme", product.id, "ml", outcome)
    )
    # READY -> ACTIVE moved the status every live index entry carries: all three rewritten.
    assert written == [["Put", "Put", "Put", "Put", "Put", "Put", "Put"]]

    written.clear()
    channels.request_unpublication(ctx, ALICE, RequestUnpublication("acme", product.id, "fb"))
    # product, history, ProductUnpublicationRequested, and fb's entry (state moved).
    assert written == [["Put", "Put", "Put", "Put"]]


# ---------------------------------------------------------------------- typed products
# DESIGN.md section 9: a typed write reads the product and its type: at most 2 reads + 1
# atomic write; get stays 1 read.

APPAREL = {"key": "apparel", "name": "Apparel", "attributes": {"brand": {"type": "string"}}}
TYPE_READ_THEN_WRITE = Counter({"GetItem": 1, "TransactWriteItems": 1})
TWO_READS_THEN_WRITE = Counter({"GetItem": 2, "TransactWriteItems": 1})


def test_typed_writes_read_the_product_and_its_type_and_write_once(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))
    body = {**PAYLOAD, "product_type": "apparel", "attributes": {"brand": "Acme"}}

    calls.reset()
    product = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product
    assert calls.counts() == TYPE_READ_THEN_WRITE

    calls.reset()
    products.update_product(ctx, ALICE, PatchProduct("acme", product.id, {"description": "Soft"}))
    assert calls.counts() == TWO_READS_THEN_WRITE

    calls.reset()
    images.add_image(ctx, ALICE, AddImage.of("acme", product.id, png()))
    # An upload first checks the product exists before storing the bytes (as untyped ones do).
    assert calls.counts() == Counter({"GetItem": 3, "TransactWriteItems": 1})

    calls.reset()
    products.change_status(ctx, ALICE, ChangeStatus("acme", product.id, Status.READY))
    assert calls.counts() == TWO_READS_THEN_WRITE

    calls.reset()
    found = products.get_product(ctx, ALICE, GetProduct("acme", product.id))
    assert calls.counts() == ONE_READ
    assert found.completeness.ready == ()


def test_a_patch_that_changes_the_type_reads_only_the_new_one(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD)
    ).product

    calls.reset()
    products.update_product(
        ctx, ALICE, PatchProduct("acme", product.id, {"product_type": "apparel"})
    )
    assert calls.counts() == TWO_READS_THEN_WRITE


def test_a_process_reads_the_channels_requirements_once_per_max_age(
    client: Any, calls: CallCounter
) -> None:
    monotonic = ManualSecondsClock(0.0)
    store = DynamoDbStore(client, TABLE, requirements_max_age=5.0, monotonic=monotonic)
    ctx = context_over(store)
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))

    # A process that never read them: the first untyped write reads them (1 more GetItem)...
    calls.reset()
    product = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD))
    assert calls.counts() == READ_THEN_WRITE
    patch = PatchProduct("acme", product.product.id, {"description": "Soft"})
    calls.reset()
    products.update_product(ctx, ALICE, patch)
    assert calls.counts() == READ_THEN_WRITE  # ...and the next ones do not.

    # Past the age they are read again; a typed write reads them with its type, in one call.
    monotonic.now = 5.0
    typed = {**PAYLOAD, "sku": "TS-2", "product_type": "apparel", "attributes": {"brand": "A"}}
    calls.reset()
    products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", typed))
    assert calls.counts() == Counter({"BatchGetItem": 1, "TransactWriteItems": 1})
    calls.reset()
    products.update_product(ctx, ALICE, PatchProduct("acme", product.product.id, {"name": "X"}))
    assert calls.counts() == READ_THEN_WRITE


def test_requirements_this_process_wrote_are_judged_by_at_once(
    client: Any, calls: CallCounter
) -> None:
    from catalog.service import channel_requirements as requirements
    from catalog.service.channel_requirements import PutChannelRequirements
    from tests.principals import OPERATOR

    store = DynamoDbStore(
        client, TABLE, requirements_max_age=5.0, monotonic=ManualSecondsClock(0.0)
    )
    ctx = context_over(store)
    store.channel_requirements()  # remembered: empty
    declared = PutChannelRequirements.from_json("mercadolibre", {"required": ["/attributes/x"]})
    requirements.put_channel_requirements(ctx, OPERATOR, declared)

    calls.reset()
    created = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD))
    assert calls.counts() == ONE_WRITE
    assert created.product.completeness.missing_on("mercadolibre")[-1] == "/attributes/x"


def context_over(store: DynamoDbStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(T0 + timedelta(seconds=1)),
        ids=UlidIds(),
        cursors=CursorCodec(b"call-count-cursor-secret"),
    )


# ---------------------------------------------------------------------- listing by type
# DESIGN.md section 9: `?product_type=` filters within the list budget of section 7.


def test_a_page_of_one_type_is_one_query(ctx: CatalogContext, calls: CallCounter) -> None:
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))
    for n in range(5):
        body = {**PAYLOAD, "sku": f"T-{n}", "product_type": "apparel"}
        products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body))
    products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD))  # untyped

    for status in (None, Status.DRAFT):
        cursor, seen = None, 0
        while True:
            calls.reset()
            query = ListProducts("acme", status, limit=2, cursor=cursor, product_type="apparel")
            page = products.list_products(ctx, ALICE, query)
            assert calls.counts() == ONE_QUERY
            seen += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == 5


def test_a_page_of_one_type_on_a_channel_is_one_query_and_one_batch_read(
    ctx: CatalogContext, store: DynamoDbStore, calls: CallCounter
) -> None:
    apparel = product_types.create_product_type(
        ctx, ALICE, CreateProductType.from_json("acme", APPAREL)
    )
    # typed() commits and reads back the product only; it asks for a CatalogStore because the
    # contract suites run it on every backend, and DynamoDbStore is no Outbox.
    for _ in range(3):
        typed(cast(CatalogStore, store), apparel, listings={"mercadolibre": "PUBLISHED"})
    store.commit(create_change(listings={"mercadolibre": "PUBLISHED"}))  # untyped
    two_calls = Counter({"Query": 1, "BatchGetItem": 1})

    for status in (None, Status.DRAFT):
        cursor, seen = None, 0
        while True:
            calls.reset()
            query = ListProducts(
                "acme", status, "mercadolibre", limit=2, cursor=cursor, product_type="apparel"
            )
            page = products.list_products(ctx, ALICE, query)
            assert calls.counts() == two_calls
            seen += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == 3


def test_a_page_of_merchants_is_one_query(store: DynamoDbStore, calls: CallCounter) -> None:
    for merchant in ("acme", "globex", "initech"):
        store.commit(create_change(merchant))

    calls.reset()
    first = store.merchants(limit=2, position=None)
    assert calls.counts() == ONE_QUERY
    calls.reset()
    last = store.merchants(limit=2, position=first.position)
    assert calls.counts() == ONE_QUERY
    assert (first.items, last.items, last.position) == (["acme", "globex"], ["initech"], None)


def test_a_sku_lookup_is_one_read(
    ctx: CatalogContext, store: DynamoDbStore, calls: CallCounter
) -> None:
    registered = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", PAYLOAD))

    calls.reset()
    owner = store.sku_owner("acme", "TS-1")

    assert calls.counts() == ONE_READ
    assert owner is not None and owner.product_id == registered.product.id


# ---------------------------------------------------------------------- variants
# DESIGN.md section 10: get stays 1 read with 250 variants; a variant change reads the product
# (and its type when it has one: at most 2 reads) and writes once; a SKU lookup is 1 read.

SHIRT = {**PAYLOAD, "sku": "SH", "options": ["color", "size"]}
NO_CALLS: Counter[str] = Counter()


def variant_json(n: int) -> dict[str, Any]:
    return {"sku": f"SH-{n}", "options": {"color": f"c{n // 10}", "size": f"s{n % 10}"}}


def add_command(product_id: str, n: int, key: str | None = None) -> AddVariant:
    return AddVariant.from_json("acme", product_id, UlidIds().new_id(), variant_json(n), None, key)


def test_a_product_with_250_variants_is_one_read_to_get_and_one_read_and_write_to_change(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    registration = {**SHIRT, "variants": [variant_json(n) for n in range(60)]}
    calls.reset()
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", registration)
    ).product
    assert calls.counts() == ONE_WRITE  # the most variants one request may bring: one transaction
    # The rest in commits of at most 40 new variants (a SKU item and an event item each, in a
    # transaction of at most 100 items), as the add-variant use case would commit them. Built
    # once for every count of this size: moto copies the whole table for each action of a
    # transaction, so these commits take seconds.
    rest = [VariantBody(**variant_json(n)) for n in range(60, 250)]
    for start in range(0, len(rest), 40):
        with_variants(ctx, "acme", product.id, rest[start : start + 40])

    calls.reset()
    found = products.get_product(ctx, ALICE, GetProduct("acme", product.id))
    assert calls.counts() == ONE_READ
    assert [v.sku for v in found.variants] == [f"SH-{n}" for n in range(250)]

    first, last = found.variants[0], found.variants[-1]
    calls.reset()
    owner = variants.find_sku(ctx, ALICE, FindSku("acme", last.sku))
    assert calls.counts() == ONE_READ
    assert owner == SkuOwner(last.sku, product.id, last.id)

    calls.reset()
    with pytest.raises(InvalidField):
        variants.add_variant(ctx, ALICE, add_command(product.id, 250))
    assert calls.counts() == ONE_READ  # the 251st is refused before anything is written

    calls.reset()
    variants.patch_variant(ctx, ALICE, PatchVariant("acme", product.id, first.id, {"stock": 3}))
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    left = variants.remove_variant(ctx, ALICE, RemoveVariant("acme", product.id, first.id))
    assert calls.counts() == READ_THEN_WRITE
    assert len(left.variants) == 249


def test_adding_patching_and_removing_a_variant_are_one_read_and_one_write_each(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", SHIRT)
    ).product

    calls.reset()
    added = variants.add_variant(ctx, ALICE, add_command(product.id, 1)).product.variants[-1]
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    variants.patch_variant(
        ctx, ALICE, PatchVariant("acme", product.id, added.id, {"sku": "SH-1B", "stock": 5})
    )
    assert calls.counts() == READ_THEN_WRITE  # the SKU moves in the same transaction

    calls.reset()
    variants.remove_variant(ctx, ALICE, RemoveVariant("acme", product.id, added.id, if_match=3))
    assert calls.counts() == READ_THEN_WRITE


def test_a_keyed_add_variant_costs_what_an_unkeyed_one_does(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    """1 GetItem (the product) + 1 TransactWriteItems: the key's record is a condition of the
    write, read only when the add does not go through; the replay reads the product (where
    the retried add meets its own SKU) and then the record."""
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", SHIRT)
    ).product
    command = add_command(product.id, 1, key="add-1")

    calls.reset()
    first = variants.add_variant(ctx, ALICE, command)
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    # A retry over HTTP is a new request: the server makes the variant another id.
    retry = variants.add_variant(ctx, ALICE, add_command(product.id, 1, key="add-1"))
    assert calls.counts() == Counter({"GetItem": 2})
    assert (retry.replayed, retry.product.version) == (True, first.product.version)


SHIRT_TYPE = {
    "key": "shirt",
    "name": "Shirt",
    "attributes": {
        "color": {"type": "string", "variant_axis": True},
        "size": {"type": "string", "variant_axis": True},
    },
}


def test_variant_writes_of_a_typed_product_read_the_product_and_its_type_and_write_once(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    """2 GetItem + 1 TransactWriteItems each (the product and its type): the whole budget,
    with an Idempotency-Key too."""
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", SHIRT_TYPE))
    body = {**SHIRT, "product_type": "shirt"}
    product = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product

    calls.reset()
    added = variants.add_variant(ctx, ALICE, add_command(product.id, 1)).product.variants[-1]
    assert calls.counts() == TWO_READS_THEN_WRITE

    calls.reset()
    variants.patch_variant(ctx, ALICE, PatchVariant("acme", product.id, added.id, {"stock": 1}))
    assert calls.counts() == TWO_READS_THEN_WRITE

    calls.reset()
    variants.remove_variant(ctx, ALICE, RemoveVariant("acme", product.id, added.id))
    assert calls.counts() == TWO_READS_THEN_WRITE

    calls.reset()
    variants.add_variant(ctx, ALICE, add_command(product.id, 2, key="typed-add"))
    assert calls.counts() == TWO_READS_THEN_WRITE


def test_a_sku_another_product_holds_costs_one_read_and_one_refused_transaction(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    """Only the transaction's condition knows another product's SKUs: the refusal is its
    cancellation, never retried, and no extra read to find the holder."""
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", SHIRT)
    ).product
    holder = {**PAYLOAD, "sku": "SH-1"}
    products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", holder))

    calls.reset()
    with pytest.raises(DuplicateSku):
        variants.add_variant(ctx, ALICE, add_command(product.id, 1))
    assert calls.counts() == READ_THEN_WRITE

    added = variants.add_variant(ctx, ALICE, add_command(product.id, 2)).product.variants[-1]
    calls.reset()
    with pytest.raises(DuplicateSku):
        variants.patch_variant(
            ctx, ALICE, PatchVariant("acme", product.id, added.id, {"sku": "SH-1"})
        )
    assert calls.counts() == READ_THEN_WRITE


def test_finding_a_variants_sku_is_one_read_and_an_impossible_sku_none(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    registration = {**SHIRT, "variants": [variant_json(1)]}
    product = products.register_product(
        ctx, ALICE, RegisterProduct.from_json("acme", registration)
    ).product
    (variant,) = product.variants

    for sku, holder in (("SH-1", variant.id), ("SH", None)):
        calls.reset()
        owner = variants.find_sku(ctx, ALICE, FindSku("acme", sku))
        assert calls.counts() == ONE_READ
        assert owner == SkuOwner(sku, product.id, holder)

    calls.reset()
    with pytest.raises(SkuNotFound):
        variants.find_sku(ctx, ALICE, FindSku("acme", "SH-2"))
    assert calls.counts() == ONE_READ

    calls.reset()
    with pytest.raises(SkuNotFound):
        variants.find_sku(ctx, ALICE, FindSku("acme", "not a sku!"))
    assert calls.counts() == NO_CALLS
