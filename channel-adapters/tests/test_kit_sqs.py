"""sqs_handler: SQS batches of EventBridge events, partial batch failures."""

from __future__ import annotations

import json

from channel_kit import ChannelUnavailable, Handling, Result, sqs_handler
from conftest import cloud_event


class StubProcessor:
    channel = "shop"

    def __init__(self, failing_ids: set[str]) -> None:
        self.failing_ids = failing_ids
        self.handled: list[str] = []

    def handle(self, event):
        if event["id"] in self.failing_ids:
            raise ChannelUnavailable("channel timeout")
        self.handled.append(event["id"])
        return Handling(Result.HANDLED, event["id"])


def record(message_id: str, body: str) -> dict:
    return {"messageId": message_id, "receiptHandle": "rh", "body": body, "eventSource": "aws:sqs"}


def eventbridge(event: dict) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "eb-id",
            "detail-type": event["type"],
            "source": "catalog",
            "account": "123456789012",
            "time": "2026-11-30T12:05:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": event,
        }
    )


def test_only_the_records_that_failed_transiently_are_returned_for_retry():
    ok = cloud_event("ProductUpdated", 3, changed_fields=["/name"], channels=["shop"])
    failing = cloud_event("ProductUpdated", 4, changed_fields=["/name"], channels=["shop"])
    processor = StubProcessor({failing["id"]})
    handler = sqs_handler(processor)  # type: ignore[arg-type]

    answer = handler(
        {
            "Records": [
                record("m1", eventbridge(ok)),
                record("m2", eventbridge(failing)),
                record("m3", "not json"),
            ]
        },
        None,
    )

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert processor.handled == [ok["id"]]


def test_a_processor_factory_is_built_once_on_first_use():
    built: list[StubProcessor] = []

    def factory():
        built.append(StubProcessor(set()))
        return built[-1]

    handler = sqs_handler(factory)
    assert built == []  # nothing built at import/definition time
    event = cloud_event("ProductUpdated", 3, changed_fields=["/name"], channels=["shop"])

    handler({"Records": [record("m1", eventbridge(event))]}, None)
    handler({"Records": [record("m2", eventbridge(event))]}, None)

    assert len(built) == 1
    assert len(built[0].handled) == 2
