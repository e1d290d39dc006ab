"""Products by type and the merchant registry on DynamoDB, beyond the shared contract suite:
the sparse gsi3 and its keys, the registry entry a creation writes, pages filtered on what
gsi3 read, and tables from before gsi3 getting it from `ensure_table` and `catalog aws
bootstrap` (docs/dynamodb.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.dynamodb_table import ensure_table
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product, Stamp
from catalog.domain.product_types import ProductType
from catalog.entrypoints.cli import app as cli
from catalog.service.ports import Change
from tests.aws.dynamodb_support import TABLE, CallCounter, fresh_table
from tests.aws.moto_serial import serialize_dynamodb_requests
from tests.contract.conftest import ACTOR, committed, create_change, new_id
from tests.contract.test_type_pages_contract import typed
from tests.contract.test_type_store_contract import committed_type, creation, new_type, retyped


@pytest.fixture
def client(aws: Any) -> Any:
    return fresh_table(aws)


@pytest.fixture
def store(client: Any) -> DynamoDbStore:
    return DynamoDbStore(client, TABLE)


def stored_item(client: Any, key: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    return item


def deactivated(product: Product, product_type: ProductType | None = None) -> Change:
    """The deactivation of `product` (mutated in place), judged with its type's content."""
    product.bind_type(product_type.content if product_type else None)
    product.deactivate(Stamp(ACTOR, product.updated_at + timedelta(minutes=1)), "discontinued")
    pending = product.pull_change(new_id)
    assert pending is not None
    return Change(product, pending.expected_version, pending.history, pending.events)


# ---------------------------------------------------------------------- items


def test_only_typed_products_carry_the_gsi3_keys_of_their_type(
    client: Any, store: DynamoDbStore
) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    typed_id = typed(store, apparel)
    untyped = committed(store, create_change())

    item = stored_item(client, items.product_key("acme", typed_id))
    assert item["gsi3pk"] == {"S": "M#acme#T#apparel#PRODUCTS"}
    assert item["gsi3sk"] == {"S": typed_id}
    assert "gsi3pk" not in stored_item(client, items.product_key("acme", untyped.id))

    product = store.get("acme", typed_id)
    assert product is not None
    committed(store, retyped(product, shoes))
    assert stored_item(client, items.product_key("acme", typed_id))["gsi3pk"] == {
        "S": "M#acme#T#shoes#PRODUCTS"
    }
    committed(store, retyped(product, None))
    assert "gsi3pk" not in stored_item(client, items.product_key("acme", typed_id))


def test_a_creation_registers_its_merchant_in_the_same_transaction(client: Any) -> None:
    written: list[list[dict[str, Any]]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        written.append(params["TransactItems"])

    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    store = DynamoDbStore(client, TABLE)
    product = committed(store, create_change("a#b"))
    committed(store, create_change("a#b"))  # the same process: registered already
    committed(DynamoDbStore(client, TABLE), create_change("a#b"))  # another process

    registry = {"pk": {"S": "MERCHANTS"}, "sk": {"S": "a%23b"}}
    first, second, third = written
    for transaction in (first, third):
        # product, history, its event, sku guard, the registry entry (unconditioned).
        assert [next(iter(action)) for action in transaction] == ["Put"] * 5
        put = transaction[4]["Put"]
        assert {k: put["Item"][k] for k in ("pk", "sk")} == registry
        assert "ConditionExpression" not in put
    # Parallel creations of one merchant in one process do not all contend for the entry.
    assert len(second) == 4
    assert all(action["Put"]["Item"]["pk"] != {"S": "MERCHANTS"} for action in second)
    assert stored_item(client, registry)["merchant_id"] == {"S": "a#b"}

    written.clear()
    committed(store, deactivated(product))
    # A later version of the product leaves the registry alone.
    assert all(action["Put"]["Item"]["pk"] != {"S": "MERCHANTS"} for action in written[0])
    assert store.merchants(limit=10, position=None).items == ["a#b"]


# ---------------------------------------------------------------------- filtered pages


def test_a_page_of_a_type_and_a_status_continues_after_what_it_read(
    store: DynamoDbStore,
) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    ids = sorted(typed(store, apparel) for _ in range(5))
    for product_id in ids[:4]:  # the first four in id order leave DRAFT
        product = store.get("acme", product_id)
        assert product is not None
        committed(store, deactivated(product, apparel))
    calls = CallCounter(store._client)

    pages: list[tuple[list[str], str | None]] = []
    position = None
    while True:
        page = store.page(
            "acme",
            status=Status.DRAFT,
            channel=None,
            limit=1,
            position=position,
            product_type="apparel",
        )
        pages.append(([p.id for p in page.items], page.position))
        position = page.position
        if position is None:
            break

    # Each Query reads 2 products (limit + 1): the first two read only INACTIVE ones, so
    # their pages are empty and continue after the last product read; nothing is skipped.
    assert pages == [([], ids[1]), ([], ids[3]), ([ids[4]], None)]
    assert calls.calls == ["Query"] * 3


# ---------------------------------------------------------------------- older tables


def old_table(aws: Any, name: str) -> Any:
    """A table as ensure_table created it before gsi3."""
    serialize_dynamodb_requests()
    client = aws.client("dynamodb")
    older = (items.ALL_PRODUCTS, items.BY_STATUS)
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"}
            for keys in (items.TABLE_KEYS, *older)
            for attribute in (keys.hash_key, keys.range_key)
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.hash_key, "KeyType": "HASH"},
                    {"AttributeName": index.range_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in older
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return client


def index_names(client: Any, name: str) -> set[str]:
    table = client.describe_table(TableName=name)["Table"]
    return {index["IndexName"] for index in table["GlobalSecondaryIndexes"]}


def test_ensure_table_adds_gsi3_to_an_older_table_whose_typed_products_then_list(
    aws: Any,
) -> None:
    client = old_table(aws, "older")
    store = DynamoDbStore(client, "older")
    apparel = committed_type(store, creation(new_type("apparel")))
    typed_id = typed(store, apparel)  # written with its gsi3 keys before the index exists

    assert ensure_table(client, "older") == ["gsi3"]
    assert ensure_table(client, "older") == []  # a second run finds it

    assert index_names(client, "older") == {"gsi1", "gsi2", "gsi3"}
    page = store.page(
        "acme", status=None, channel=None, limit=10, position=None, product_type="apparel"
    )
    assert [p.id for p in page.items] == [typed_id]


def test_bootstrap_adds_the_missing_index_and_says_so(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = old_table(aws, "shop")
    monkeypatch.setenv("CATALOG_TABLE_NAME", "shop")

    result = CliRunner().invoke(cli, ["aws", "bootstrap"])

    assert result.exit_code == 0, result.output
    assert "  table shop: already there, index gsi3 added" in result.output.splitlines()
    assert index_names(client, "shop") == {"gsi1", "gsi2", "gsi3"}
