"""Event intake on AWS: EventBridge rule -> SQS queue -> this Lambda handler.

The catalog puts each CloudEvent on its EventBridge bus as `Detail` (`Source=catalog`,
`DetailType=<event name>`). A rule targets the adapter's SQS queue, so every SQS record body is
an EventBridge event whose `detail` is the CloudEvent. The Lambda's event source mapping must
enable `ReportBatchItemFailures`: records that failed transiently are returned in
`batchItemFailures` and only they come back; the others are deleted from the queue.

Give the queue a redrive policy (dead-letter queue): a record failing on every attempt ends
there instead of looping. Malformed records are acknowledged (logged), not retried.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from channel_kit.adapter import ChannelUnavailable
from channel_kit.catalog_client import CatalogRejected, CatalogUnavailable
from channel_kit.processor import EventHandler

log = logging.getLogger("channel_kit.sqs")

LambdaHandler = Callable[[Mapping[str, Any], Any], dict[str, list[dict[str, str]]]]


def sqs_handler(processor: EventHandler | Callable[[], EventHandler]) -> LambdaHandler:
    """A Lambda handler for SQS batches of EventBridge events.

    Pass the processor, or a zero-argument factory building it on the first invocation
    (keeps the module import cheap and testable: nothing is built at import time)."""
    built: list[EventHandler] = []
    factory: Callable[[], EventHandler] | None = None
    if isinstance(processor, EventHandler):
        built.append(processor)
    else:
        factory = processor

    def handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
        if not built and factory is not None:
            built.append(factory())
        failures: list[dict[str, str]] = []
        for record in event.get("Records", []):
            message_id = record["messageId"]
            try:
                cloud_event = json.loads(record["body"])["detail"]
            except (ValueError, KeyError, TypeError) as error:
                log.error("record %s is not an EventBridge event: %s", message_id, error)
                continue
            try:
                built[0].handle(cloud_event)
            except (CatalogUnavailable, ChannelUnavailable, CatalogRejected) as error:
                log.warning("record %s will be retried: %s", message_id, error)
                failures.append({"itemIdentifier": message_id})
            except Exception:
                # Anything else is a bug for this record; the batch goes on and the record
                # is retried, then dead-lettered.
                log.exception("record %s failed", message_id)
                failures.append({"itemIdentifier": message_id})
        return {"batchItemFailures": failures}

    return handler
