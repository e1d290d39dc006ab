"""The outbox relay on AWS Lambda: DynamoDB Streams -> EventBridge.

The function's event source mapping reads the table's stream with
`FunctionResponseTypes: ["ReportBatchItemFailures"]` (plus a retry limit and an on-failure
destination, so a poison record cannot hold its shard forever). `handler` relays the batch
(adapters/aws/eventbridge_relay.py) and reports the records to deliver again as
`batchItemFailures`.

Settings and the EventBridge client are built on the first invocation and kept for the
container's life; importing this module builds nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from catalog.adapters.aws.eventbridge_relay import relay_stream_records
from catalog.bootstrap import aws_client
from catalog.settings import Settings

SERVICE = "catalog-relay"


@dataclass(frozen=True)
class _Runtime:
    """What one Lambda container builds once and reuses for every invocation."""

    events: Any  # EventBridgeClient
    bus_name: str
    logger: Logger


def _start(settings: Settings) -> _Runtime:
    logger = Logger(service=SERVICE)
    # The relay adapter logs through the standard `catalog.*` loggers: same JSON lines.
    copy_config_to_registered_loggers(source_logger=logger, include={"catalog"})
    # A longer read timeout than the API's: nobody waits on this path, and a retried
    # invocation costs more than a slow call.
    return _Runtime(aws_client("events", read_timeout=15.0), settings.event_bus_name, logger)


@functools.cache
def runtime() -> _Runtime:
    """Built by the first invocation of a container, then reused by every later one."""
    return _start(Settings())


def reset() -> None:
    """Forget the built runtime: the next invocation builds a new one (tests, new settings)."""
    runtime.cache_clear()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    cold = runtime.cache_info().currsize == 0
    current = runtime()
    logger = current.logger
    logger.append_keys(
        cold_start=cold,
        function_request_id=getattr(context, "aws_request_id", None),
    )
    records = event.get("Records") or []
    failed = relay_stream_records(records, current.events, current.bus_name)
    logger.info(
        "relayed stream batch",
        extra={"records": len(records), "failed": len(failed), "bus": current.bus_name},
    )
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
