"""The stream relay: DynamoDB stream records -> EventBridge, end to end against moto, and its
batching, retry and failure reporting against a scripted EventBridge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from catalog.adapters.aws import eventbridge_relay
from catalog.adapters.aws.eventbridge_relay import relay_stream_records
from catalog.adapters.event_documents import event_to_document
from catalog.domain.events import DomainEvent
from catalog.entrypoints import lambda_relay
from catalog.service.ports import Change
from tests.aws.stream_support import bus_to_queue
from tests.aws.stream_support import stream_records as all_stream_records
from tests.conftest import AwsEndpoint
from tests.contract.conftest import create_change, update_change

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
BUS = "catalog-bus"
TABLE = "relay-test"


# ---------------------------------------------------------------------- stream records


def outbox_item(event: DomainEvent, index: int = 0) -> dict[str, Any]:
    """An outbox item in the format DynamoDbStore writes (docs/dynamodb.md)."""
    return {
        "pk": {"S": f"M#{event.merchant_id}#P#{event.product_id}"},
        "sk": {"S": f"E#{event.version:012d}#{index:03d}"},
        "item_type": {"S": "EVENT"},
        "event": {"S": json.dumps(event_to_document(event))},
        "ttl": {"N": "1796644800"},
    }


def record(
    sequence: int, item: dict[str, Any], event_name: str = "INSERT", **extra: Any
) -> dict[str, Any]:
    """A stream record as Lambda delivers it."""
    return {
        "eventID": f"id-{sequence}",
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": item["pk"], "sk": item["sk"]},
            "NewImage": item,
            "SequenceNumber": str(sequence),
            "StreamViewType": "NEW_IMAGE",
        },
        **extra,
    }


def product_events(count: int) -> list[DomainEvent]:
    """`count` events of one product: created, then renamed count - 1 times."""
    change = create_change()
    events = list(change.events)
    product = change.product
    while len(events) < count:
        events.extend(update_change(product).events)
    return events[:count]


# ---------------------------------------------------------------------- scripted EventBridge


@dataclass
class ScriptedEvents:
    """put_events failing the entries whose CloudEvent id is in `failing`, each for as many
    calls as its count (-1: forever), after raising on the first `raise_first` calls.
    Records every call."""

    failing: dict[str, int] = field(default_factory=dict)
    raise_first: int = 0
    calls: list[list[dict[str, Any]]] = field(default_factory=list)

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls.append(Entries)
        if self.raise_first:
            self.raise_first -= 1
            raise ClientError({"Error": {"Code": "InternalException"}}, "PutEvents")
        results = []
        for entry in Entries:
            event_id = json.loads(entry["Detail"])["id"]
            left = self.failing.get(event_id, 0)
            if left:
                self.failing[event_id] = left - 1
                results.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"})
            else:
                results.append({"EventId": "eb-" + event_id})
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    def sent_ids(self) -> list[str]:
        return [json.loads(entry["Detail"])["id"] for call in self.calls for entry in call]


def relay(records: list[dict[str, Any]], events: ScriptedEvents) -> list[str]:
    return relay_stream_records(records, events, BUS, sleep=lambda seconds: None)  # type: ignore[arg-type]


def test_events_go_out_in_batches_of_ten_with_the_contract_fields():
    events = product_events(23)
    eventbridge = ScriptedEvents()

    failed = relay([record(i, outbox_item(e)) for i, e in enumerate(events)], eventbridge)

    assert failed == []
    assert [len(call) for call in eventbridge.calls] == [10, 10, 3]
    first = eventbridge.calls[0][0]
    assert first["Source"] == "catalog"
    assert first["DetailType"] == "ProductCreated"
    assert first["EventBusName"] == BUS
    detail = json.loads(first["Detail"])
    assert detail["id"] == events[0].id
    assert detail["specversion"] == "1.0"
    assert eventbridge.sent_ids() == [e.id for e in events]


def test_only_inserted_outbox_items_are_relayed():
    [event] = product_events(1)
    item = outbox_item(event)
    product_item = {"pk": item["pk"], "sk": {"S": "P"}, "item_type": {"S": "PRODUCT"}}
    ttl_removal = record(
        4,
        item,
        "REMOVE",
        userIdentity={"type": "Service", "principalId": "dynamodb.amazonaws.com"},
    )
    records = [
        record(1, product_item),
        record(2, item, "MODIFY"),
        ttl_removal,
        record(5, {"pk": item["pk"], "sk": {"S": "H#1"}}),  # no item_type at all
    ]
    eventbridge = ScriptedEvents()

    assert relay(records, eventbridge) == []
    assert eventbridge.calls == []


def test_failed_entries_are_retried_alone_until_they_go_out():
    events = product_events(5)
    eventbridge = ScriptedEvents(failing={events[2].id: 2})

    failed = relay([record(i, outbox_item(e)) for i, e in enumerate(events)], eventbridge)

    assert failed == []
    assert [len(call) for call in eventbridge.calls] == [5, 1, 1]
    assert eventbridge.calls[1][0]["Detail"] == eventbridge.calls[0][2]["Detail"]


def test_a_failing_call_is_retried():
    events = product_events(3)
    eventbridge = ScriptedEvents(raise_first=1)

    assert relay([record(i, outbox_item(e)) for i, e in enumerate(events)], eventbridge) == []
    assert len(eventbridge.calls) == 2


def test_an_entry_failing_for_good_reports_its_record_and_every_later_one():
    events = product_events(25)
    eventbridge = ScriptedEvents(failing={events[13].id: -1})
    records = [record(100 + i, outbox_item(e)) for i, e in enumerate(events)]

    failed = relay(records, eventbridge)

    # Lambda resumes the shard at the first reported record: 113 and everything after it.
    assert failed == [str(100 + i) for i in range(13, 25)]
    # The third batch is not sent: it will be, when Lambda retries from record 113.
    assert all(events[20].id not in json.dumps(call) for call in eventbridge.calls)
    retries_of_the_failure = [call for call in eventbridge.calls[1:] if len(call) == 1]
    assert len(retries_of_the_failure) == 3  # 4 attempts in all, then reported


def test_retries_wait_with_full_jitter_under_a_doubling_bound():
    events = product_events(1)
    eventbridge = ScriptedEvents(failing={events[0].id: -1})
    pauses: list[float] = []

    failed = relay_stream_records(
        [record(7, outbox_item(events[0]))],
        eventbridge,  # type: ignore[arg-type]
        BUS,
        sleep=pauses.append,
    )

    assert failed == ["7"]
    assert len(eventbridge.calls) == eventbridge_relay.MAX_ATTEMPTS
    assert len(pauses) == eventbridge_relay.MAX_ATTEMPTS - 1
    assert all(
        0 <= pause <= eventbridge_relay.BASE_DELAY_SECONDS * 2**retry
        for retry, pause in enumerate(pauses, start=1)
    )


def test_an_unreadable_outbox_item_is_reported_not_dropped():
    events = product_events(3)
    broken = outbox_item(events[1])
    broken["event"] = {"S": "{not json"}
    records = [
        record(1, outbox_item(events[0])),
        record(2, broken),
        record(3, outbox_item(events[2])),
    ]
    eventbridge = ScriptedEvents()

    failed = relay(records, eventbridge)

    assert failed == ["2", "3"]
    assert eventbridge.sent_ids() == [events[0].id]


# ---------------------------------------------------------------------- end to end on moto


@dataclass
class Wiring:
    dynamodb: Any
    streams: Any
    sqs: Any
    queue_url: str


@pytest.fixture
def wiring(aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Wiring]:
    """A bus with a rule sending every catalog event to a queue, and the relay Lambda's
    settings pointing at that bus."""
    sqs = aws.client("sqs")
    queue_url = bus_to_queue(aws.client("events"), sqs, BUS, "catalog-consumer")
    monkeypatch.setenv("CATALOG_EVENT_BUS_NAME", BUS)
    lambda_relay.reset()
    yield Wiring(aws.client("dynamodb"), aws.client("dynamodbstreams"), sqs, queue_url)
    lambda_relay.reset()


def create_table_with_stream(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def stream_records(wiring: Wiring, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, from the start, as GetRecords returns them."""
    return all_stream_records(wiring.dynamodb, wiring.streams, table)


def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    # What Lambda's event source mapping sends is JSON: datetimes become numbers.
    return json.loads(json.dumps({"Records": records}, default=lambda value: value.timestamp()))


def delivered(wiring: Wiring) -> list[dict[str, Any]]:
    """Drain the queue: the EventBridge events the consumer received."""
    received: list[dict[str, Any]] = []
    while True:
        response = wiring.sqs.receive_message(QueueUrl=wiring.queue_url, MaxNumberOfMessages=10)
        messages = response.get("Messages", [])
        if not messages:
            return received
        for message in messages:
            received.append(json.loads(message["Body"]))
            wiring.sqs.delete_message(
                QueueUrl=wiring.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def schema_errors(cloudevent: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / f"{cloudevent['type']}.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [error.message for error in validator.iter_errors(cloudevent)]


@dataclass
class DeduplicatingConsumer:
    """Handles each CloudEvent once, whatever the number of deliveries: by its id."""

    seen: set[str] = field(default_factory=set)
    handled: list[dict[str, Any]] = field(default_factory=list)

    def receive(self, cloudevent: dict[str, Any]) -> None:
        if cloudevent["id"] not in self.seen:
            self.seen.add(cloudevent["id"])
            self.handled.append(cloudevent)


@dataclass(frozen=True)
class FakeContext:
    function_name: str = "catalog-relay"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:catalog-relay"
    aws_request_id: str = "req-1"


def commit_items(wiring: Wiring, changes: list[Change]) -> list[DomainEvent]:
    """Write products and their outbox items as the store's transaction would."""
    events: list[DomainEvent] = []
    for change in changes:
        product = change.product
        items = [
            {
                "pk": {"S": f"M#{product.merchant_id}#P#{product.id}"},
                "sk": {"S": "P"},
                "item_type": {"S": "PRODUCT"},
                "version": {"N": str(product.version)},
            },
            *(outbox_item(event, index) for index, event in enumerate(change.events)),
        ]
        wiring.dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": TABLE, "Item": item}} for item in items]
        )
        events.extend(change.events)
    return events


def test_committed_events_reach_a_bus_consumer_once_each_even_when_replayed(wiring):
    create_table_with_stream(wiring.dynamodb)
    first = create_change(sku="TS-1")
    second = create_change(sku="TS-2")
    renamed = update_change(first.product, deactivated=True)  # ProductUpdated + Deactivated
    written = commit_items(wiring, [first, second, renamed])
    # A TTL expiry of an old outbox item: a REMOVE on the stream, never an event.
    wiring.dynamodb.delete_item(
        TableName=TABLE,
        Key={"pk": outbox_item(written[0])["pk"], "sk": outbox_item(written[0])["sk"]},
    )
    records = stream_records(wiring, TABLE)
    assert {r["eventName"] for r in records} == {"INSERT", "MODIFY", "REMOVE"}

    response = lambda_relay.handler(lambda_event(records), FakeContext())

    assert response == {"batchItemFailures": []}
    deliveries = delivered(wiring)
    assert [d["detail"]["id"] for d in deliveries] == [e.id for e in written]
    for delivery, event in zip(deliveries, written, strict=True):
        assert delivery["source"] == "catalog"
        assert delivery["detail-type"] == event.name.value
        cloudevent = delivery["detail"]
        assert schema_errors(cloudevent) == []
        assert cloudevent["type"] == event.name.value
        assert cloudevent["data"]["version"] == event.version
        assert cloudevent["data"]["product_id"] == event.product_id
    assert [d["detail-type"] for d in deliveries] == [
        "ProductCreated",
        "ProductCreated",
        "ProductUpdated",
        "ProductDeactivated",
    ]

    # Lambda delivers the same batch again (a timeout, a retried invocation): the events
    # go out again under the same ids, and a deduplicating consumer handles each once.
    assert lambda_relay.handler(lambda_event(records), FakeContext()) == {"batchItemFailures": []}
    replayed = delivered(wiring)
    assert [d["detail"]["id"] for d in replayed] == [e.id for e in written]
    consumer = DeduplicatingConsumer()
    for delivery in deliveries + replayed:
        consumer.receive(delivery["detail"])
    assert [event["id"] for event in consumer.handled] == [e.id for e in written]


def test_products_committed_by_the_dynamodb_store_are_relayed(wiring):
    from catalog.adapters.aws.dynamodb_store import DynamoDbStore
    from catalog.adapters.aws.dynamodb_table import ensure_table

    ensure_table(wiring.dynamodb, "catalog")
    store = DynamoDbStore(wiring.dynamodb, "catalog")
    created = create_change(sku="TS-1")
    store.commit(created)
    updated = update_change(created.product)
    store.commit(updated)
    expected = [*created.events, *updated.events]

    response = lambda_relay.handler(lambda_event(stream_records(wiring, "catalog")), None)

    assert response == {"batchItemFailures": []}
    cloudevents = [d["detail"] for d in delivered(wiring)]
    assert [(e["id"], e["type"], e["data"]["version"]) for e in cloudevents] == [
        (e.id, e.name.value, e.version) for e in expected
    ]
    assert all(schema_errors(e) == [] for e in cloudevents)


def test_importing_the_handler_builds_nothing_and_a_container_builds_once(wiring):
    assert lambda_relay.runtime.cache_info().currsize == 0
    lambda_relay.handler({"Records": []}, FakeContext())
    built = lambda_relay.runtime()
    lambda_relay.handler({"Records": []}, FakeContext())
    assert lambda_relay.runtime() is built
    assert built.bus_name == BUS
