"""The FastAPI application, built around a composition root's Container.

Nothing is built at import time: `create_app(container)` is called by `catalog serve`, the
Lambda handler and the tests, each with its own container.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from catalog.domain import limits
from catalog.entrypoints.api.auth import VerifiedTokens
from catalog.entrypoints.api.body_limit import BodySizeLimit
from catalog.entrypoints.api.cors import BrowserOrigins
from catalog.entrypoints.api.docs import install_docs
from catalog.entrypoints.api.head import HeadAsGet
from catalog.entrypoints.api.header_limit import MAX_REQUEST_HEADER_BYTES, RequestHeaderLimit
from catalog.entrypoints.api.problems import install_problem_handlers
from catalog.entrypoints.api.query_parameters import QueryParameterCheck
from catalog.entrypoints.api.rate_limit import CallerLimits, RateLimit
from catalog.entrypoints.api.routers import (
    channel_requirements,
    channels,
    history,
    images,
    jobs,
    product_types,
    products,
    skus,
    uploads,
    variants,
)
from catalog.entrypoints.api.routers.health import install_health
from catalog.entrypoints.api.routing import add_routes, operation_id
from catalog.entrypoints.api.security_headers import SecurityHeaders
from catalog.entrypoints.api.trailing_slash import TrailingSlashRedirect
from catalog.entrypoints.console import install_console

if TYPE_CHECKING:
    # The type only: the app is handed a built container and never builds adapters itself.
    from catalog.bootstrap import Container

TITLE = "Product Catalog API"
DESCRIPTION = f"""
The source of truth for the products of many merchants, and the coordinator of their
publication on sales channels.

* **Auth**: `Authorization: Bearer <JWT>`. A merchant sees only its own products (anything
  else is a 404, like absence); `platform` acts for any merchant; `channel:<slug>` principals
  read products and report listing outcomes for the merchants in their scope (a 404 for the
  others).
* **Errors** are `application/problem+json` (RFC 9457) with a stable `type`; invalid fields
  are listed in `errors` as JSON pointers.
* **Concurrency**: every product has a `version`, returned as the `ETag`. Send it back in
  `If-Match` to get a 412 instead of overwriting someone else's change.
* **Retries**: `POST` accepts an `Idempotency-Key`; status changes and `DELETE` are
  naturally idempotent.
* **Money** is an integer amount of minor units plus an ISO 4217 currency, never a float.
* **Limits**: JSON bodies up to {limits.MAX_JSON_BODY_BYTES} bytes,
  {limits.MAX_ATTRIBUTES} attributes, {limits.MAX_IMAGES} images of at most
  {limits.MAX_IMAGE_BYTES} bytes, pages of at most {limits.MAX_PAGE_SIZE} items.
* **Per caller**: past its rate a caller gets a 429 with `Retry-After`; request headers over
  {MAX_REQUEST_HEADER_BYTES} bytes in all are a 431.
"""

TAGS = [
    {
        "name": "products",
        "description": "Register a product, read it, list, update (merge patch), change its "
        "status and deactivate it.",
    },
    {"name": "history", "description": "Every version of a product: who changed what, when."},
    {
        "name": "images",
        "description": "Product images: upload one (multipart) or remove it. The bytes go to "
        "object storage; the product keeps a reference and the view a computed URL.",
    },
    {
        "name": "variants",
        "description": "The variants of a product (a value for each of its `options` axes, "
        "its own SKU, price, stock, images): add, merge-patch, remove (DESIGN.md section 10).",
    },
    {
        "name": "skus",
        "description": "Find the product, or the variant, holding a SKU: one storage read.",
    },
    {
        "name": "channels",
        "description": "Publication on sales channels: merchants request publication or "
        "withdrawal; the channel's adapter (role `channel:<slug>`) reports the outcome.",
    },
    {
        "name": "uploads",
        "description": "Large images straight to storage: a ticket, the upload, the "
        "confirmation that adds the image.",
    },
    {
        "name": "assets",
        "description": "Embedded deployment only: image bytes behind signed URLs, and the "
        "target of direct uploads.",
    },
    {
        "name": "product-types",
        "description": "The kinds of product a merchant sells: typed attribute definitions, "
        "what READY needs and what each channel needs (DESIGN.md section 9).",
    },
    {
        "name": "channel-requirements",
        "description": "What each channel needs of a product to publish it: JSON pointers into "
        "its view, declared by the platform or the channel, read by anyone (DESIGN.md section 9).",
    },
    {
        "name": "jobs",
        "description": "Long work, run asynchronously: imports of many products (JSONL or "
        "CSV), followed by their counters, with every bad row reported at its line "
        "(DESIGN.md section 11, docs/jobs.md).",
    },
    {"name": "health", "description": "Liveness."},
]


def _version() -> str:
    try:
        return metadata.version("product-catalog")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _telemetry(enabled: bool) -> TelemetryConfig | None:
    """FastAPI's defaults when asked for; otherwise every signal off, so no request pays for
    looking up providers that nobody configured."""
    if enabled:
        return None
    return {"tracing": False, "metrics": False, "logs": False}


def create_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container.start()
        try:
            yield
        finally:
            container.close()

    app = FastAPI(
        title=TITLE,
        version=_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # Starlette's redirect is built from the Host header; see trailing_slash.
        redirect_slashes=False,
        telemetry=_telemetry(container.settings.opentelemetry),
    )
    app.router.default = TrailingSlashRedirect(app.router, container.settings.configured_public_url)
    app.state.container = container
    app.state.local_assets = container.local_assets
    app.state.verified_tokens = VerifiedTokens(container.tokens)
    # Reads answer on the event loop when the store is local (SQLite WAL reads on pooled
    # connections, or memory: microseconds, cheaper than a hop to the thread pool). A remote
    # store (DynamoDB) is read from the pool so a slow call cannot stall other requests.
    app.state.inline_reads = container.settings.backend != "aws"

    install_problem_handlers(app)
    upload_limits = [
        ("POST", images.UPLOAD_PATH_PATTERN, images.MAX_UPLOAD_BODY_BYTES),
        ("POST", jobs.IMPORT_PATH_PATTERN, jobs.MAX_IMPORT_BODY_BYTES),
        ("POST", r"^/console/jobs/imports$", jobs.MAX_IMPORT_BODY_BYTES + 64 * 1024),  # + form
    ]

    # Routes are matched in order: the hottest (GET product) first, then /health, so that
    # a health check is matched against few routes (install_health). Each route builds
    # FastAPI's fields on first use (routing.DeferredRoute); these two are hand-read.
    # No paths overlap; the OpenAPI document has its own order (operations.OPERATIONS).
    add_routes(app, products.router)
    install_health(app)
    routers = (
        history.router,
        images.router,
        variants.router,
        skus.router,
        uploads.router,
        channels.router,
        product_types.router,
        jobs.router,
    )
    for router in routers:
        add_routes(app, router)
    add_routes(app, channel_requirements.router)
    if container.local_assets is not None:
        # Only the embedded deployment serves (and receives direct uploads of) image bytes.
        from catalog.entrypoints.api.routers import assets

        add_routes(app, assets.router)
        upload_limits.append(("POST", assets.UPLOAD_PATH_PATTERN, assets.MAX_UPLOAD_BODY_BYTES))
    install_docs(app)
    install_console(app, container)
    # Outermost last: HEAD becomes GET before the query check and the routing see it.
    app.add_middleware(BodySizeLimit, default=limits.MAX_JSON_BODY_BYTES, routes=upload_limits)
    app.add_middleware(QueryParameterCheck, routes=app.routes)
    app.add_middleware(HeadAsGet)
    _install_caller_limits_and_headers(app, container)
    app.openapi = lambda: _openapi_document(app)  # type: ignore[method-assign]
    return app


def _install_caller_limits_and_headers(app: FastAPI, container: Container) -> None:
    """Issue 10, around everything above (outermost last): the security headers see every
    response, the 431 and the CORS preflights included; oversized headers are refused before
    anything reads them; CORS answers preflights before the rate limit counts them, and its
    headers reach the 429s (a browser script may then read Retry-After)."""
    settings = container.settings
    rate = settings.rate_limit
    app.state.caller_limits = None
    if rate is not None:
        limits = CallerLimits(rate.per_second, rate.burst, app.state.verified_tokens)
        app.state.caller_limits = limits
        app.add_middleware(RateLimit, limits=limits)
    if settings.cors_origins:
        app.add_middleware(BrowserOrigins, origins=settings.cors_origins)
    app.add_middleware(RequestHeaderLimit)
    app.add_middleware(SecurityHeaders)


def _openapi_document(app: FastAPI) -> dict[str, Any]:
    # Imported on the first request for the document, which no cold Lambda start needs.
    from catalog.entrypoints.api.openapi import build_openapi

    return build_openapi(app)
