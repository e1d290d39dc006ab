"""Channel requirements on DynamoDB beyond the shared contract
(tests/contract/test_requirements_store_contract.py): the one item docs/dynamodb.md describes
and the calls each use case spends (get: 1 GetItem; put: 1 GetItem + 1 PutItem, the repeat of
a list 1 GetItem and no write)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.channel_requirements import RequirementsSet
from catalog.service import channel_requirements as use_cases
from catalog.service.channel_requirements import GetChannelRequirements, PutChannelRequirements
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from tests.aws.dynamodb_support import TABLE, CallCounter, fresh_table
from tests.clocks import FixedClock
from tests.principals import ALICE, OPERATOR, adapter

NEEDS = {"required": ["/description", "/price", "/images", "/attributes/brand"]}


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


@pytest.fixture
def ctx(store: DynamoDbStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=None,  # type: ignore[arg-type]  # requirements touch no asset
        images=None,  # type: ignore[arg-type]
        clock=FixedClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"requirements-cursor-secret"),
    )


def put(ctx: CatalogContext, channel: str, body: dict[str, Any] = NEEDS) -> Any:
    command = PutChannelRequirements.from_json(channel, body)
    return use_cases.put_channel_requirements(ctx, OPERATOR, command)


def test_every_channel_is_in_one_item_outside_every_merchants_partitions(
    ctx: CatalogContext, client: Any
) -> None:
    put(ctx, "mercadolibre")
    put(ctx, "amazon", {"required": ["/attributes/gtin"]})

    item = client.get_item(TableName=TABLE, Key=items.requirements_key())["Item"]

    assert (item["pk"], item["sk"]) == ({"S": "CHANNELS"}, {"S": "REQUIREMENTS"})
    assert item["item_type"] == {"S": "REQUIREMENTS"}
    assert item["version"] == {"N": "2"}
    doc = json.loads(item["doc"]["S"])
    assert doc["version"] == 2
    assert doc["channels"]["mercadolibre"] == {
        "required": NEEDS["required"],
        "version": 1,
        "updated_at": "2026-12-02T12:00:00.000Z",
    }
    assert list(doc["channels"]) == ["amazon", "mercadolibre"]
    # Not in any index: no gsi key attributes.
    assert not {items.GSI1_PK, items.GSI2_PK} & set(item)


def test_get_is_one_read(ctx: CatalogContext, calls: CallCounter) -> None:
    put(ctx, "mercadolibre")

    for principal in (ALICE, adapter("amazon")):
        calls.reset()
        found = use_cases.get_channel_requirements(
            ctx, principal, GetChannelRequirements("mercadolibre")
        )
        assert calls.counts() == Counter({"GetItem": 1})
        assert found.version == 1
    calls.reset()
    assert (
        use_cases.get_channel_requirements(ctx, ALICE, GetChannelRequirements("meta")).version == 0
    )
    assert calls.counts() == Counter({"GetItem": 1})


def test_put_is_one_read_and_one_write_and_a_repeat_writes_nothing(
    ctx: CatalogContext, calls: CallCounter, store: DynamoDbStore
) -> None:
    # One transaction: the set's item and its ChannelRequirementsChanged event.
    calls.reset()
    put(ctx, "mercadolibre")
    assert calls.counts() == Counter({"GetItem": 1, "TransactWriteItems": 1})

    calls.reset()
    put(ctx, "amazon")
    assert calls.counts() == Counter({"GetItem": 1, "TransactWriteItems": 1})

    calls.reset()
    put(ctx, "mercadolibre")
    assert calls.counts() == Counter({"GetItem": 1})
    assert store.channel_requirements().version == 2


def test_an_empty_table_reads_as_no_requirements(store: DynamoDbStore) -> None:
    assert store.channel_requirements() == RequirementsSet()
