"""The HTTP API on AWS Lambda: API Gateway HTTP API (payload format 2.0) -> Mangum -> FastAPI.

`handler` is the function Lambda calls. Settings, boto3 clients and the app are built on the
first invocation and kept for the container's life; importing this module builds nothing
(tests, tools and the cold-start benchmark import it freely). Modules are imported here at
the top, though, the AWS adapters included: Lambda runs imports in its init phase, with a
full vCPU whatever the memory setting. The composition root keeps the optional heavy ones
(Pillow, PyJWT, httpx, the embedded adapters) off this path entirely.

Each invocation logs one JSON line (Powertools Logger, correlation id = API Gateway's request
id) and publishes CloudWatch metrics through the embedded metric format (namespace Catalog):
Requests, Status2xx/3xx/4xx/5xx, Latency, and ColdStart once per container.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from msgspec import Struct

import catalog.adapters.aws.dynamodb_store
import catalog.adapters.aws.s3_assets
from catalog.bootstrap import ConfigurationError, build_container
from catalog.entrypoints.api.app import create_app
from catalog.entrypoints.lambda_runtime import PerEnvironment
from catalog.settings import Settings

# Loaded in the init phase rather than by the first invocation, which builds the container.
PRELOADED = (boto3, catalog.adapters.aws.dynamodb_store, catalog.adapters.aws.s3_assets)

SERVICE = "catalog-api"
METRICS_NAMESPACE = "Catalog"
# Bodies of these types go back to API Gateway as text, the rest base64-encoded; "+json"
# covers application/problem+json.
TEXT_MEDIA_TYPES = [*DEFAULT_TEXT_MIME_TYPES, "+json"]


class _Stdout:
    """sys.stdout as it is at each write. Powertools binds a service's log handler once per
    process; resolving the stream late keeps logs flowing wherever stdout goes now (test
    runners swap it per test; on Lambda it never changes)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class _Runtime(Struct, frozen=True):
    """What one Lambda container builds once and reuses for every invocation."""

    asgi: Mangum
    logger: Logger
    metrics: Metrics


def _start(settings: Settings) -> _Runtime:
    if settings.auth == "local":
        raise ConfigurationError(
            "the Lambda API needs CATALOG_AUTH=apigw (claims verified by API Gateway's JWT "
            "authorizer) or CATALOG_AUTH=jwks: local tokens are signed with a secret kept in "
            "a data folder, which Lambda containers do not share"
        )
    container = build_container(settings)
    app = create_app(container)
    # lifespan off: nothing runs in the background on Lambda (the outbox is relayed by the
    # stream relay function), and containers are frozen between invocations anyway.
    asgi = Mangum(
        app,
        lifespan="off",
        api_gateway_base_path=settings.api_gateway_base_path,
        text_mime_types=TEXT_MEDIA_TYPES,
    )
    return _Runtime(
        asgi=asgi,
        logger=Logger(service=SERVICE, stream=_Stdout()),  # type: ignore[arg-type]
        metrics=Metrics(namespace=METRICS_NAMESPACE, service=SERVICE),
    )


_environment = PerEnvironment(_start)
runtime = _environment.runtime
reset = _environment.reset


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    current, cold = _environment.invocation(context)
    logger, metrics = current.logger, current.metrics
    request_context = event.get("requestContext") or {}
    http = request_context.get("http") or {}
    logger.set_correlation_id(request_context.get("requestId"))
    started = time.perf_counter()
    status = 500
    try:
        response: dict[str, Any] = current.asgi(event, context)
        status = int(response.get("statusCode", 500))
        return response
    except Exception:
        logger.exception("request failed", extra={"path": http.get("path")})
        raise
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info(
            "request",
            extra={
                "method": http.get("method"),
                "path": http.get("path"),
                "status": status,
                "duration_ms": round(elapsed_ms, 2),
            },
        )
        if cold:
            metrics.add_metric(name="ColdStart", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=f"Status{status // 100}xx", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
        metrics.flush_metrics()
