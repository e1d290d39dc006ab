"""What the DynamoDB adapter guarantees beyond the shared contract suite (which it also passes):
the table's shape, the outbox item format the stream relay reads, key isolation, DynamoDB's
limits, and how cancelled transactions turn into domain errors or retries."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from msgspec.structs import replace

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws import dynamodb_store
from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.dynamodb_table import ensure_table
from catalog.adapters.aws.exceptions import (
    DynamoDbTransactionFailed,
    ItemTooLarge,
    TransactionTooLarge,
    UnprocessedKeys,
)
from catalog.adapters.event_documents import event_to_document
from catalog.domain.errors import (
    DuplicateSku,
    IdempotencyKeyRaced,
    StoreUnavailable,
    VersionConflict,
)
from catalog.service.ports import Change
from tests.aws.dynamodb_support import TABLE, CallCounter, fresh_table
from tests.contract.conftest import T0, committed, create_change, new_id, update_change


@pytest.fixture
def client(aws: Any) -> Any:
    return fresh_table(aws)


@pytest.fixture
def store(client: Any) -> DynamoDbStore:
    return DynamoDbStore(client, TABLE)


def partition_items(client: Any, partition: str) -> list[dict[str, Any]]:
    response = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": partition}},
        ConsistentRead=True,
    )
    return list(response["Items"])


# ---------------------------------------------------------------------- the table


def test_ensure_table_creates_the_table_the_store_needs_and_is_idempotent(aws: Any) -> None:
    client = aws.client("dynamodb")

    ensure_table(client, "shop")
    ensure_table(client, "shop")  # a second bootstrap changes nothing and does not fail

    table = client.describe_table(TableName="shop")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert {
        index["IndexName"]: index["Projection"] for index in table["GlobalSecondaryIndexes"]
    } == {
        "gsi1": {"ProjectionType": "ALL"},
        "gsi2": {"ProjectionType": "ALL"},
        "gsi3": {"ProjectionType": "ALL"},
    }
    ttl = client.describe_time_to_live(TableName="shop")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


# ---------------------------------------------------------------------- the outbox items


def test_each_event_is_an_outbox_item_the_stream_relay_can_read(
    client: Any, store: DynamoDbStore
) -> None:
    created = create_change()
    product = committed(store, created)
    deactivated = update_change(product, deactivated=True)
    store.commit(deactivated)

    events = [
        item
        for item in partition_items(client, f"M#acme#P#{product.id}")
        if item["item_type"] == {"S": "EVENT"}
    ]

    changes = [created, deactivated]
    expected = [event for change in changes for event in change.events]
    assert [json.loads(item["event"]["S"]) for item in events] == [
        event_to_document(event) for event in expected
    ]
    week = timedelta(days=7)
    assert [int(item["ttl"]["N"]) for item in events] == [
        int((change.history.at + week).timestamp()) + (change.history.at.microsecond > 0)
        for change in changes
        for _ in change.events
    ]


def test_an_idempotency_record_expires_by_ttl_after_its_expiry(
    client: Any, store: DynamoDbStore
) -> None:
    change = create_change(idempotency_key="key-1", idempotency_expires_at=T0 + timedelta(hours=24))
    store.commit(change)

    [record] = partition_items(client, "M#acme#IDEM#key-1")

    assert record["ttl"] == {"N": str(int((T0 + timedelta(hours=24)).timestamp()) + 1)}


# ---------------------------------------------------------------------- keys


def test_a_separator_inside_an_id_cannot_reach_another_merchants_keys(
    store: DynamoDbStore,
) -> None:
    # Unescaped, both sku guards would be the key M#a#SKU#x#SKU#y.
    first = committed(store, create_change("a", sku="x#SKU#y"))
    second = committed(store, create_change("a#SKU#x", sku="y"))

    assert store.get("a", first.id) is not None
    assert store.get("a#SKU#x", second.id) is not None
    assert store.get("a", second.id) is None
    assert [
        p.id for p in store.page("a", status=None, channel=None, limit=10, position=None).items
    ] == [first.id]
    with pytest.raises(DuplicateSku):
        store.commit(create_change("a", sku="x#SKU#y"))


# ---------------------------------------------------------------------- DynamoDB's limits


def test_a_page_of_large_products_stops_at_one_megabyte_and_continues_exactly(
    store: DynamoDbStore,
) -> None:
    big = "x" * 150_000  # about 7 such products fill DynamoDB's 1 MB per Query
    ids = [committed(store, create_change(attributes={"blob": big})).id for _ in range(9)]
    calls = CallCounter(store._client)

    pages: list[list[str]] = []
    position = None
    while True:
        page = store.page("acme", status=None, channel=None, limit=8, position=position)
        pages.append([product.id for product in page.items])
        position = page.position
        if position is None:
            break

    assert len(pages[0]) < 8  # cut short by the 1 MB cap, not by the limit
    assert [i for page in pages for i in page] == sorted(ids)
    assert calls.calls == ["Query"] * len(pages)


def test_an_item_over_400_kb_is_refused_before_any_call(store: DynamoDbStore) -> None:
    calls = CallCounter(store._client)
    # Products and history records are refused at 300 KiB first (the store contract), so an
    # event is what could still outgrow an item.
    created = create_change()
    [event] = created.events
    huge = replace(event, data={"blob": "x" * 410_000})
    change = Change(created.product, 0, created.history, (huge,))

    with pytest.raises(ItemTooLarge) as raised:
        store.commit(change)

    assert calls.calls == []
    assert raised.value.size > raised.value.limit == 400 * 1024
    assert change.product.id in str(raised.value)
    assert store.get("acme", change.product.id) is None


def test_a_change_over_100_items_is_refused_before_any_call(store: DynamoDbStore) -> None:
    calls = CallCounter(store._client)
    change = create_change()
    [event] = change.events
    # + product, history, sku guard, merchant registry entry
    many = tuple(replace(event, id=new_id()) for _ in range(97))

    with pytest.raises(TransactionTooLarge) as raised:
        store.commit(Change(change.product, 0, change.history, many))

    assert (raised.value.items, raised.value.limit) == (101, 100)
    assert calls.calls == []
    store.commit(Change(change.product, 0, change.history, many[:96]))  # 100 items fit


# ---------------------------------------------------------------------- cancellations


def stubbed() -> tuple[DynamoDbStore, Stubber]:
    """A store whose client answers from a script: no emulator, any cancellation reason."""
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return DynamoDbStore(client, TABLE), Stubber(client)


def cancel(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


# Items of a keyed create: product, history, its one event, sku guard, merchant registry
# entry, idempotency record.
KEYED_CREATE = ("product", "history", "event", "sku", "merchant", "idempotency")


def reasons(**failed: str) -> list[str]:
    return [failed.get(role, "None") for role in KEYED_CREATE]


@pytest.mark.parametrize(
    ("failed", "error"),
    [
        ({"product": "ConditionalCheckFailed"}, VersionConflict),
        ({"sku": "ConditionalCheckFailed"}, DuplicateSku),
        ({"idempotency": "ConditionalCheckFailed"}, IdempotencyKeyRaced),
        (
            {"idempotency": "ConditionalCheckFailed", "sku": "ConditionalCheckFailed"},
            IdempotencyKeyRaced,
        ),
        (
            {"product": "ConditionalCheckFailed", "idempotency": "ConditionalCheckFailed"},
            VersionConflict,
        ),
        # A failed condition decides, even when another item met a conflict.
        ({"sku": "ConditionalCheckFailed", "history": "TransactionConflict"}, DuplicateSku),
    ],
)
def test_each_failed_condition_is_read_from_its_cancellation_reason(
    failed: dict[str, str], error: type[Exception]
) -> None:
    store, stubber = stubbed()
    cancel(stubber, *reasons(**failed))

    with stubber, pytest.raises(error):
        store.commit(create_change(idempotency_key="key-1"))
    stubber.assert_no_pending_responses()


def test_a_transaction_conflict_alone_is_retried_until_it_commits() -> None:
    store, stubber = stubbed()
    cancel(stubber, *reasons(product="TransactionConflict"))
    cancel(stubber, *reasons(sku="TransactionConflict"))
    stubber.add_response("transact_write_items", {})

    with stubber:
        store.commit(create_change(idempotency_key="key-1"))
    stubber.assert_no_pending_responses()


def test_conflicts_that_outlast_the_retries_fail_with_the_reasons() -> None:
    store, stubber = stubbed()
    for _ in range(4):
        cancel(stubber, *reasons(product="TransactionConflict"))

    with stubber, pytest.raises(DynamoDbTransactionFailed) as raised:
        store.commit(create_change(idempotency_key="key-1"))

    stubber.assert_no_pending_responses()
    assert [r["Code"] for r in raised.value.reasons] == reasons(product="TransactionConflict")


def test_conflict_retries_wait_with_full_jitter_under_a_doubling_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    store, stubber = stubbed()
    for _ in range(dynamodb_store.CONFLICT_RETRIES + 1):
        cancel(stubber, *reasons(product="TransactionConflict"))

    with stubber, pytest.raises(DynamoDbTransactionFailed):
        store.commit(create_change(idempotency_key="key-1"))

    assert len(pauses) == dynamodb_store.CONFLICT_RETRIES
    assert all(
        0 <= pause <= dynamodb_store.CONFLICT_BACKOFF_SECONDS * 2**retry
        for retry, pause in enumerate(pauses, start=1)
    )


def test_each_conflict_retry_is_a_new_transaction_with_its_own_token() -> None:
    store, stubber = stubbed()
    tokens: list[str] = []
    stubber.client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: tokens.append(params["ClientRequestToken"]),
    )
    cancel(stubber, *reasons(product="TransactionConflict"))
    stubber.add_response("transact_write_items", {})

    with stubber:
        store.commit(create_change(idempotency_key="key-1"))

    assert len(tokens) == 2
    assert len(set(tokens)) == 2


def test_a_throttled_transaction_is_not_mistaken_for_a_domain_error() -> None:
    store, stubber = stubbed()
    cancel(stubber, *reasons(history="ThrottlingError"))

    with stubber, pytest.raises(DynamoDbTransactionFailed):
        store.commit(create_change(idempotency_key="key-1"))
    stubber.assert_no_pending_responses()


# ------------------------------------------------------------------ history past 1 MB


def test_history_reads_on_past_a_query_cut_short_and_stops_at_the_limit() -> None:
    store, stubber = stubbed()
    product = create_change().product
    entries = [update_change(product).history for _ in range(3)]
    history = [items.history_item(product.merchant_id, entry) for entry in entries]
    cut = {"pk": history[0]["pk"], "sk": history[0]["sk"]}
    # DynamoDB stopped at its 1 MB cap after one entry; the second Query brings the rest.
    stubber.add_response("query", {"Items": history[:1], "LastEvaluatedKey": cut})
    stubber.add_response("query", {"Items": history[1:]})

    with stubber:
        found = store.history(product.merchant_id, product.id, limit=2, before_version=None)

    stubber.assert_no_pending_responses()  # two Queries, no third
    assert found == entries[:2]


# ------------------------------------------------------------------ throttled batch reads


def unprocessed(keys: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Responses": {TABLE: []}, "UnprocessedKeys": {TABLE: {"Keys": keys}}}


@dataclass
class ThrottledRead:
    """A stubbed store, one product to read by key, and the pauses between the calls."""

    store: DynamoDbStore
    stubber: Stubber
    product: Any
    key: dict[str, Any]
    pauses: list[float]


@pytest.fixture
def throttled(monkeypatch: pytest.MonkeyPatch) -> ThrottledRead:
    pauses: list[float] = []
    # tenacity sleeps through time.sleep (tenacity.nap), looked up at each pause.
    monkeypatch.setattr(time, "sleep", pauses.append)
    store, stubber = stubbed()
    product = create_change().product
    return ThrottledRead(
        store, stubber, product, items.product_key(product.merchant_id, product.id), pauses
    )


def test_keys_left_unprocessed_are_read_again_after_a_pause(throttled: ThrottledRead) -> None:
    store, stubber, product = throttled.store, throttled.stubber, throttled.product
    stubber.add_response("batch_get_item", unprocessed([throttled.key]))
    stubber.add_response("batch_get_item", {"Responses": {TABLE: [items.product_item(product)]}})

    with stubber:
        found = store._batch_get(product.merchant_id, [product.id])

    stubber.assert_no_pending_responses()
    assert [p.id for p in found] == [product.id]
    assert len(throttled.pauses) == 1


def test_keys_throttled_past_the_bounded_attempts_are_a_store_unavailable(
    throttled: ThrottledRead,
) -> None:
    store, stubber, product = throttled.store, throttled.stubber, throttled.product
    pauses = throttled.pauses
    for _ in range(dynamodb_store.BATCH_GET_ATTEMPTS):
        stubber.add_response("batch_get_item", unprocessed([throttled.key]))

    with stubber, pytest.raises(StoreUnavailable) as raised:
        store._batch_get(product.merchant_id, [product.id])

    stubber.assert_no_pending_responses()  # no call past the bound
    assert isinstance(raised.value, UnprocessedKeys)
    assert raised.value.keys == 1
    assert len(pauses) == dynamodb_store.BATCH_GET_ATTEMPTS - 1
    # Full jitter: never above the doubled base delay.
    assert all(
        0 <= pause <= dynamodb_store.CONFLICT_BACKOFF_SECONDS * 2**attempt
        for attempt, pause in enumerate(pauses, start=1)
    )
