"""The retrieval cost contract (DESIGN.md section 7) on DynamoDB, counted in boto3 calls.

get: 1 read; a list page: 1 query (2 with a channel filter); create, update, transition: at
most 1 read + 1 atomic write; never a Scan. The use cases run as the API runs them, on a
DynamoDbStore over moto, with a botocore hook counting every operation the client sends.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.lifecycle import Status
from catalog.service import products
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from tests.aws.dynamodb_support import TABLE, CallCounter, fresh_table
from tests.contract.conftest import create_change

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ONE_READ = Counter({"GetItem": 1})
ONE_WRITE = Counter({"TransactWriteItems": 1})
READ_THEN_WRITE = Counter({"GetItem": 1, "TransactWriteItems": 1})
ONE_QUERY = Counter({"Query": 1})


class SteppingClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = T0

    def now(self) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=1)
            return self._now


@pytest.fixture
def client(aws: Any) -> Any:
    return fresh_table(aws)


@pytest.fixture
def calls(client: Any) -> Iterator[CallCounter]:
    counter = CallCounter(client)
    yield counter
    # Whatever a test did, it never scanned.
    assert "Scan" not in counter.calls


@pytest.fixture
def store(client: Any) -> DynamoDbStore:
    return DynamoDbStore(client, TABLE)


@pytest.fixture
def ctx(store: DynamoDbStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"call-count-cursor-secret"),
    )


PAYLOAD = {"sku": "TS-1", "name": "Trail shoe", "price": {"amount": 12999, "currency": "USD"}}


def test_create_is_one_transaction_and_no_read(ctx: CatalogContext, calls: CallCounter) -> None:
    calls.reset()
    products.register_product(ctx, "acme", PAYLOAD, "alice")

    assert calls.counts() == ONE_WRITE


def test_a_keyed_create_adds_one_read_of_its_idempotency_record(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    calls.reset()
    first = products.register_product(ctx, "acme", PAYLOAD, "alice", idempotency_key="k-1")
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    retry = products.register_product(ctx, "acme", PAYLOAD, "alice", idempotency_key="k-1")
    assert calls.counts() == ONE_READ  # the replay reads the record and writes nothing
    assert (retry.replayed, retry.product.id) == (True, first.product.id)


def test_get_is_one_read(ctx: CatalogContext, calls: CallCounter) -> None:
    product = products.register_product(ctx, "acme", PAYLOAD, "alice").product

    calls.reset()
    found = products.get_product(ctx, "acme", product.id)

    assert calls.counts() == ONE_READ
    assert found.id == product.id


def test_update_transition_and_delete_are_one_read_and_one_write_each(
    ctx: CatalogContext, calls: CallCounter
) -> None:
    product = products.register_product(ctx, "acme", PAYLOAD, "alice").product

    calls.reset()
    products.update_product(ctx, "acme", product.id, {"description": "Grippy"}, "alice")
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.update_product(ctx, "acme", product.id, {"name": "Trail shoe 2"}, "alice", 2)
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.change_status(ctx, "acme", product.id, Status.INACTIVE, "alice", "discontinued")
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.change_status(ctx, "acme", product.id, Status.DRAFT, "alice")
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.deactivate_product(ctx, "acme", product.id, "alice")
    assert calls.counts() == READ_THEN_WRITE

    calls.reset()
    products.deactivate_product(ctx, "acme", product.id, "alice")  # a repeat writes nothing
    assert calls.counts() == ONE_READ


def test_every_list_page_is_one_query(ctx: CatalogContext, calls: CallCounter) -> None:
    for n in range(5):
        products.register_product(ctx, "acme", {**PAYLOAD, "sku": f"TS-{n}"}, "alice")

    for status in (None, Status.DRAFT):
        cursor = None
        pages = 0
        while True:
            calls.reset()
            page = products.list_products(ctx, "acme", status=status, limit=2, cursor=cursor)
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
        first = products.list_products(ctx, "acme", channel="mercadolibre", status=status, limit=2)
        assert calls.counts() == two_calls
        calls.reset()
        last = products.list_products(
            ctx, "acme", channel="mercadolibre", status=status, limit=2, cursor=first.next_cursor
        )
        assert calls.counts() == two_calls
        assert (len(first.items), len(last.items), last.next_cursor) == (2, 1, None)


def test_history_is_one_query(ctx: CatalogContext, calls: CallCounter) -> None:
    product = products.register_product(ctx, "acme", PAYLOAD, "alice").product
    products.update_product(ctx, "acme", product.id, {"description": "Grippy"}, "alice")

    calls.reset()
    page = products.product_history(ctx, "acme", product.id, limit=10)

    assert calls.counts() == ONE_QUERY
    assert [entry.version for entry in page.items] == [2, 1]


def test_a_whole_scenario_never_scans(ctx: CatalogContext, calls: CallCounter) -> None:
    created = products.register_product(ctx, "acme", PAYLOAD, "alice", idempotency_key="k")
    product_id = created.product.id
    products.register_product(ctx, "acme", PAYLOAD, "alice", idempotency_key="k")
    products.update_product(ctx, "acme", product_id, {"description": "Grippy"}, "alice")
    products.get_product(ctx, "acme", product_id)
    products.list_products(ctx, "acme")
    products.list_products(ctx, "acme", status=Status.DRAFT)
    products.list_products(ctx, "acme", channel="facebook")
    products.product_history(ctx, "acme", product_id)
    products.deactivate_product(ctx, "acme", product_id, "alice")
    products.change_status(ctx, "acme", product_id, Status.DRAFT, "alice")

    seen = set(calls.calls)
    assert seen == {"GetItem", "TransactWriteItems", "Query"}  # the counter does count
    assert "Scan" not in seen


def test_an_update_rewrites_only_the_listing_index_entries_that_moved(
    ctx: CatalogContext, client: Any
) -> None:
    from catalog.service import channels, images
    from tests.api.support import png

    written: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        written.append([next(iter(item)) for item in params["TransactItems"]])

    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    body = {**PAYLOAD, "description": "Grippy"}
    product = products.register_product(ctx, "acme", body, "alice").product
    images.add_image(ctx, "acme", product.id, png(), "alice")
    products.change_status(ctx, "acme", product.id, Status.READY, "alice")
    for channel in ("ml", "fb"):
        channels.request_publication(ctx, "acme", product.id, channel, "alice")
    listed = channels.request_publication(ctx, "acme", product.id, "ig", "alice")
    outcome = {"state": "PUBLISHED", "product_version": listed.version, "external_id": "X"}

    written.clear()
    products.update_product(ctx, "acme", product.id, {"name": "Renamed"}, "alice")
    # product, history, ProductUpdated: the three PENDING listings did not move.
    assert written == [["Put", "Put", "Put"]]

    written.clear()
    channels.report_outcome(ctx, "acme", product.id, "ml", outcome, "ml-adapter")
    # READY -> ACTIVE moved the status every live index entry carries: all three rewritten.
    assert written == [["Put", "Put", "Put", "Put", "Put", "Put", "Put"]]

    written.clear()
    channels.request_unpublication(ctx, "acme", product.id, "fb", "alice")
    # product, history, ProductUnpublicationRequested, and fb's entry (state moved).
    assert written == [["Put", "Put", "Put", "Put"]]
