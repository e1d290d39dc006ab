"""Re-evaluation on AWS Lambda: EventBridge -> every product a change of rules judges
(service/reevaluation.py).

An EventBridge rule on the catalog's bus sends `ProductTypeUpdated` and
`ChannelRequirementsChanged` here, asynchronously: Lambda retries a failed invocation, then
hands it to the on-failure destination (template.yaml). A run is idempotent (a product already
done reads as unchanged and is not written), so a retry after a crash resumes by walking past
what is done. A run close to the function's timeout stops after its current page and invokes
the function again, asynchronously, with the position to go on from: a catalog of any size is
worked off in runs that each fit the timeout.

A channel's requirements are remembered by each API process for `requirements_max_age`
seconds (adapters/aws/dynamodb_store.py): a run for a requirements change waits until that
long after the change, so writes judged by the earlier list are behind it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from msgspec import Struct, structs

from catalog.adapters.aws.clients import aws_client
from catalog.adapters.cloudevents import from_cloudevent
from catalog.bootstrap import build_container
from catalog.entrypoints.lambda_runtime import PerEnvironment
from catalog.service.context import CatalogContext
from catalog.service.reevaluation import Reevaluation, reevaluate
from catalog.settings import Settings

SERVICE = "catalog-reevaluate"
# Stop taking pages this long before the timeout: a page of 100 products, each written when
# changed, takes a few seconds on DynamoDB; the margin leaves room for the slowest.
STOP_MARGIN_MS = 60_000


class _Runtime(Struct, frozen=True):
    """What one Lambda container builds once and reuses for every invocation."""

    ctx: CatalogContext
    invoke_again: Callable[[str, dict[str, Any]], None]  # (function ARN, payload), async
    requirements_max_age: float
    logger: Logger


def _start(settings: Settings) -> _Runtime:
    logger = Logger(service=SERVICE)
    copy_config_to_registered_loggers(source_logger=logger, include={"catalog"})
    container = build_container(settings)
    functions = aws_client("lambda", read_timeout=15.0)

    def invoke_again(function_arn: str, payload: dict[str, Any]) -> None:
        functions.invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload)
        )

    return _Runtime(container.ctx, invoke_again, settings.requirements_max_age, logger)


_environment = PerEnvironment(_start)
runtime = _environment.runtime
reset = _environment.reset


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    current, _ = _environment.invocation(context)
    return run(current, event, context)


def run(
    current: _Runtime,
    event: dict[str, Any],
    context: Any,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """One run: an EventBridge event (`detail` is the CloudEvent) or a continuation this
    function sent itself (`continuation`: the Reevaluation to go on with)."""
    logger = current.logger
    if "continuation" in event:
        change: Reevaluation | None = Reevaluation(**event["continuation"])
    else:
        domain_event = from_cloudevent(event["detail"])
        change = Reevaluation.after(domain_event)
        if change is not None and change.channel is not None:
            sleep(_requirements_wait(current.requirements_max_age, domain_event.occurred_at))
    if change is None:
        logger.info("nothing to re-evaluate", extra={"detail_type": event.get("detail-type")})
        return {"visited": 0, "changed": 0, "continued": False}

    def should_stop() -> bool:
        return bool(context.get_remaining_time_in_millis() < STOP_MARGIN_MS)

    report = reevaluate(current.ctx, change, should_stop)
    if report.resume is not None:
        current.invoke_again(
            context.invoked_function_arn, {"continuation": structs.asdict(report.resume)}
        )
    summary = {
        "visited": report.visited,
        "changed": report.changed,
        "continued": report.resume is not None,
    }
    logger.info("re-evaluated", extra={**summary, "change": structs.asdict(change)})
    return summary


def _requirements_wait(max_age: float, changed_at: datetime) -> float:
    """Seconds until `max_age` after the change: none for a change older than that (a retry,
    a late event), never more than `max_age` (a writer's clock ahead of this one's)."""
    age = (datetime.now(UTC) - changed_at).total_seconds()
    return min(max_age, max(0.0, max_age - age))
