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

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from msgspec import Struct

from catalog.adapters.aws.clients import aws_client
from catalog.adapters.aws.eventbridge_relay import relay_stream_records
from catalog.entrypoints.lambda_runtime import PerEnvironment
from catalog.settings import Settings

SERVICE = "catalog-relay"


class _Runtime(Struct, frozen=True):
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


_environment = PerEnvironment(_start)
runtime = _environment.runtime
reset = _environment.reset


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    current, _ = _environment.invocation(context)
    logger = current.logger
    records = event.get("Records") or []
    failed = relay_stream_records(records, current.events, current.bus_name)
    logger.info(
        "relayed stream batch",
        extra={"records": len(records), "failed": len(failed), "bus": current.bus_name},
    )
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
