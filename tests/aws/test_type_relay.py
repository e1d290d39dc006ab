"""Events about product types (product_id None) travel the AWS outbox like product events:
committed by DynamoDbStore, read from the stream by the relay Lambda, on the bus as CloudEvents
that match their JSON Schemas; against moto."""

from __future__ import annotations

from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.dynamodb_table import ensure_table
from catalog.entrypoints import lambda_relay
from tests.aws.test_relay_lambda import (
    FakeContext,
    Wiring,
    delivered,
    lambda_event,
    schema_errors,
    stream_records,
    wiring,
)
from tests.contract.conftest import create_change
from tests.contract.test_type_store_contract import creation, deletion, new_type, revision

__all__ = ["wiring"]  # the fixture, shared with the relay Lambda's tests


def test_type_events_reach_the_bus_with_the_type_as_subject(wiring: Wiring) -> None:
    ensure_table(wiring.dynamodb, "catalog")
    store = DynamoDbStore(wiring.dynamodb, "catalog")
    created = creation(new_type())
    revised = revision(created.product_type)
    gone = deletion(revised.product_type)
    # The key taken again after the delete: its events are new items, so new INSERTs too.
    again = creation(new_type(document={"name": "Apparel again"}))
    product = create_change()
    for change in (created, revised, gone, again):
        store.commit_type(change)
    store.commit(product)
    type_events = [event for change in (created, revised, gone, again) for event in change.events]

    response = lambda_relay.handler(lambda_event(stream_records(wiring, "catalog")), FakeContext())

    assert response == {"batchItemFailures": []}
    deliveries = delivered(wiring)
    assert [d["detail"]["id"] for d in deliveries] == [
        *(e.id for e in type_events),
        *(e.id for e in product.events),
    ]
    assert [d["detail-type"] for d in deliveries] == [
        "ProductTypeCreated",
        "ProductTypeUpdated",
        "ProductTypeDeleted",
        "ProductTypeCreated",
        "ProductCreated",
    ]
    for delivery, event in zip(deliveries, type_events, strict=False):
        cloudevent = delivery["detail"]
        assert schema_errors(cloudevent) == []
        assert cloudevent["subject"] == "product-types/apparel"
        assert cloudevent["data"]["product_type"] == "apparel"
        assert "product_id" not in cloudevent["data"]
        assert cloudevent["data"]["version"] == event.version
    assert deliveries[-1]["detail"]["data"]["product_id"] == product.product.id
