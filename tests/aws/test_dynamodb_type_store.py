"""Product types on DynamoDB beyond the shared contract (tests/contract, test_type_store_contract):
the items docs/dynamodb.md describes, the `in_use` counter that product commits keep and the
type's own writes leave alone, the calls each operation spends, DynamoDB's limits and how
cancellations become domain errors."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from msgspec.structs import replace

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.exceptions import DynamoDbTransactionFailed, ItemTooLarge
from catalog.adapters.event_documents import event_to_document
from catalog.adapters.type_documents import type_to_document
from catalog.domain.errors import (
    DuplicateProductType,
    InvalidField,
    ProductTypeInUse,
    StoreUnavailable,
    VersionConflict,
)
from catalog.service.ports import TypeChange
from tests.aws.dynamodb_support import TABLE, CallCounter, fresh_table
from tests.contract.conftest import committed, create_change, update_change
from tests.contract.test_type_store_contract import (
    committed_type,
    creation,
    deletion,
    new_type,
    retyped,
    revision,
    typed_change,
)


@pytest.fixture
def client(aws: Any) -> Any:
    return fresh_table(aws)


@pytest.fixture
def store(client: Any) -> DynamoDbStore:
    return DynamoDbStore(client, TABLE)


@pytest.fixture
def calls(client: Any) -> Any:
    counter = CallCounter(client)
    yield counter
    assert "Scan" not in counter.calls  # whatever a test did, it never scanned


def partition_items(client: Any, partition: str) -> list[dict[str, Any]]:
    response = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": partition}},
        ConsistentRead=True,
    )
    return list(response["Items"])


def type_item(client: Any, merchant_id: str, key: str) -> dict[str, Any] | None:
    response = client.get_item(
        TableName=TABLE, Key=items.type_key(merchant_id, key), ConsistentRead=True
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


def set_in_use(client: Any, merchant_id: str, key: str, count: int) -> None:
    """What product commits will do to the type item: keep its count of products."""
    client.update_item(
        TableName=TABLE,
        Key=items.type_key(merchant_id, key),
        UpdateExpression="SET in_use = :count",
        ExpressionAttributeValues={":count": {"N": str(count)}},
    )


# ---------------------------------------------------------------------- items


def test_a_type_and_its_event_are_items_of_the_types_partition(
    store: DynamoDbStore, client: Any
) -> None:
    change = creation(new_type())
    created = committed_type(store, change)
    (event,) = change.events

    stored = {item["sk"]["S"]: item for item in partition_items(client, "M#acme#T#apparel")}

    event_sk = f"E#0000000001#000#{event.id}"
    assert sorted(stored) == [event_sk, "TYPE"]
    kind = stored["TYPE"]
    assert kind["item_type"] == {"S": "TYPE"}
    assert json.loads(kind["doc"]["S"]) == type_to_document(created)
    assert kind["version"] == {"N": "1"}
    assert (kind["gsi1pk"], kind["gsi1sk"]) == ({"S": "M#acme#TYPES"}, {"S": "apparel"})
    assert "in_use" not in kind  # absent means no product has the type
    outbox = stored[event_sk]
    assert outbox["item_type"] == {"S": "EVENT"}
    assert json.loads(outbox["event"]["S"]) == event_to_document(event)
    assert "ttl" in outbox


def test_revisions_update_the_type_item_and_leave_its_in_use_count(
    store: DynamoDbStore, client: Any
) -> None:
    created = committed_type(store, creation(new_type()))
    set_in_use(client, "acme", "apparel", 3)

    revised = committed_type(store, revision(created, name="Clothing"))

    item = type_item(client, "acme", "apparel")
    assert item is not None
    assert item["in_use"] == {"N": "3"}
    assert item["version"] == {"N": "2"}
    assert json.loads(item["doc"]["S"]) == type_to_document(revised)
    assert store.product_types("acme", limit=10, position=None).items == [revised]


@pytest.mark.parametrize(("count", "refused"), [(1, True), (0, False)])
def test_a_delete_is_conditioned_on_the_in_use_count(
    store: DynamoDbStore, client: Any, count: int, refused: bool
) -> None:
    created = committed_type(store, creation(new_type()))
    set_in_use(client, "acme", "apparel", count)

    if refused:
        with pytest.raises(ProductTypeInUse):
            store.commit_type(deletion(created))
        assert store.product_type("acme", "apparel") == created
    else:
        store.commit_type(deletion(created))
        assert type_item(client, "acme", "apparel") is None


def in_use(client: Any, key: str) -> int | None:
    item = type_item(client, "acme", key)
    assert item is not None
    return int(item["in_use"]["N"]) if "in_use" in item else None


def test_product_commits_keep_the_in_use_counts_of_the_types_they_leave_and_take(
    store: DynamoDbStore, client: Any, calls: CallCounter
) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    calls.reset()
    first = committed(store, typed_change(apparel))
    second = committed(store, typed_change(apparel))
    assert (in_use(client, "apparel"), in_use(client, "shoes")) == (2, None)

    committed(store, retyped(first, shoes))
    assert (in_use(client, "apparel"), in_use(client, "shoes")) == (1, 1)
    committed(store, retyped(first, shoes, name="Renamed"))  # keeps its type
    committed(store, update_change(committed(store, create_change())))  # never typed
    assert (in_use(client, "apparel"), in_use(client, "shoes")) == (1, 1)
    committed(store, retyped(second, None))
    committed(store, retyped(first, None))
    assert (in_use(client, "apparel"), in_use(client, "shoes")) == (0, 0)
    # Each product commit stayed one transaction, its type counts inside it (the GetItems
    # are this test's own reads of the counts).
    assert [call for call in calls.calls if call != "GetItem"] == ["TransactWriteItems"] * 8


def test_a_product_cannot_take_a_type_deleted_since_it_was_read(
    store: DynamoDbStore, client: Any
) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    untyped = committed(store, create_change())
    change = typed_change(apparel)  # built from the type as read
    retyping = retyped(untyped, apparel)
    store.commit_type(deletion(apparel))

    for refused in (change, retyping):
        with pytest.raises(InvalidField) as raised:
            store.commit(refused)
        assert raised.value.field == "/product_type"

    # Nothing written: no product, no sku guard, no type item brought back by the count.
    assert store.get("acme", change.product.id) is None
    stored = store.get("acme", untyped.id)
    assert stored is not None and (stored.version, stored.product_type) == (1, None)
    assert type_item(client, "acme", "apparel") is None
    committed(store, create_change(sku=change.product.sku))


def test_a_stale_product_write_taking_a_missing_type_is_a_version_conflict(
    store: DynamoDbStore,
) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    product = committed(store, create_change())
    stale = store.get("acme", product.id)
    assert stale is not None
    committed(store, update_change(product))
    store.commit_type(deletion(apparel))

    with pytest.raises(VersionConflict):  # as the embedded store checks: version first
        store.commit(retyped(stale, apparel))


# ---------------------------------------------------------------------- calls


def test_each_type_operation_is_one_call(store: DynamoDbStore, calls: CallCounter) -> None:
    for key in ("apparel", "books", "electronics"):
        committed_type(store, creation(new_type(key)))
    assert calls.calls == ["TransactWriteItems"] * 3

    calls.reset()
    store.product_type("acme", "apparel")
    assert calls.calls == ["GetItem"]

    calls.reset()
    first = store.product_types("acme", limit=2, position=None)
    second = store.product_types("acme", limit=2, position=first.position)
    assert [[t.key for t in p.items] for p in (first, second)] == [
        ["apparel", "books"],
        ["electronics"],
    ]
    assert second.position is None
    assert calls.calls == ["Query", "Query"]

    apparel = first.items[0]
    calls.reset()
    revised = committed_type(store, revision(apparel))
    store.commit_type(deletion(revised))
    assert calls.calls == ["TransactWriteItems"] * 2


def test_a_refused_write_is_one_call_and_names_its_reason(
    store: DynamoDbStore, client: Any, calls: CallCounter
) -> None:
    created = committed_type(store, creation(new_type()))
    set_in_use(client, "acme", "apparel", 1)
    refusals = [
        (creation(new_type()), DuplicateProductType),
        (revision(new_type("ghost")), VersionConflict),
        (deletion(revision(created).product_type), VersionConflict),  # stale and in use
        (deletion(created), ProductTypeInUse),
    ]
    for change, error in refusals:
        calls.reset()
        with pytest.raises(error):
            store.commit_type(change)
        # The old item comes back with the cancellation: no read to tell why.
        assert calls.calls == ["TransactWriteItems"]


# ---------------------------------------------------------------------- DynamoDB's limits


def large_type(key: str, attributes: int) -> Any:
    """A type of about 100 KB per attribute: enums of 500 values of 200 characters."""
    values = [f"{n:03d}" + "v" * 197 for n in range(500)]
    document = {
        "name": key,
        "attributes": {f"a{n}": {"type": "enum", "values": values} for n in range(attributes)},
    }
    return new_type(key, document=document)


def test_a_page_of_large_types_stops_at_one_megabyte_and_continues_exactly(
    store: DynamoDbStore, calls: CallCounter
) -> None:
    keys = [f"kind-{n}" for n in range(6)]
    for key in keys:
        committed_type(store, creation(large_type(key, 3)))  # about 300 KB each
    calls.reset()

    pages: list[list[str]] = []
    position = None
    while True:
        page = store.product_types("acme", limit=5, position=position)
        pages.append([t.key for t in page.items])
        position = page.position
        if position is None:
            break

    assert len(pages[0]) < 5  # cut short by the 1 MB cap, not by the limit
    assert [key for page in pages for key in page] == keys
    assert calls.calls == ["Query"] * len(pages)


def test_a_type_over_400_kb_is_refused_before_any_call(
    store: DynamoDbStore, calls: CallCounter
) -> None:
    big = large_type("huge", 5)  # about 500 KB
    created = committed_type(store, creation(large_type("huge", 3)))
    calls.reset()

    with pytest.raises(ItemTooLarge):
        store.commit_type(creation(large_type("other", 5)))
    with pytest.raises(ItemTooLarge):
        store.commit_type(TypeChange(replace(big, version=2), 1, revision(created).events))

    assert calls.calls == []
    assert store.product_type("acme", "huge") == created


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


def test_a_transaction_conflict_alone_is_retried_until_the_type_commits() -> None:
    store, stubber = stubbed()
    cancel(stubber, "TransactionConflict", "None")
    cancel(stubber, "None", "TransactionConflict")
    stubber.add_response("transact_write_items", {})

    with stubber:
        store.commit_type(creation(new_type()))
    stubber.assert_no_pending_responses()


def test_a_throttled_type_write_is_a_store_unavailable_naming_the_type() -> None:
    store, stubber = stubbed()
    cancel(stubber, "ThrottlingError", "None")

    with stubber, pytest.raises(DynamoDbTransactionFailed) as raised:
        store.commit_type(creation(new_type()))

    assert isinstance(raised.value, StoreUnavailable)
    assert "product type apparel" in str(raised.value)
    stubber.assert_no_pending_responses()
