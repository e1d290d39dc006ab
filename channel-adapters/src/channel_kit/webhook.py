"""Event intake over the catalog's signed webhooks (embedded deployment).

The catalog POSTs each CloudEvent to every URL in `CATALOG_WEBHOOK_URLS`, in order, retrying
anything but a 2xx with backoff. This app verifies the Standard Webhooks signature and handles
the event **before** answering, so the answer tells the relay the truth:

- 401: bad or missing signature (or a signed `webhook-id` that is not the event's id).
- 200: handled, a duplicate, stale, or not for this channel (`{"result": ...}`).
- 503: the catalog or the channel is unavailable: the relay delivers it again later.

Handling inline keeps the relay's per-destination ordering and its retries as the only queue.
The relay gives up on an attempt after 10 seconds, so channel calls must stay well under that
(the reference adapters use 5-second timeouts); an adapter whose channel is slower should put
a durable queue between this app and its processor.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from standardwebhooks import Webhook, WebhookVerificationError

from channel_kit.adapter import ChannelUnavailable
from channel_kit.catalog_client import CatalogRejected, CatalogUnavailable
from channel_kit.processor import EventHandler

log = logging.getLogger("channel_kit.webhook")


def webhook_app(processor: EventHandler, secret: str, path: str = "/events") -> FastAPI:
    """An ASGI app receiving the catalog's webhooks at `path` (POST), plus `GET /health`.

    `secret` is the catalog's `CATALOG_WEBHOOK_SECRET` (`whsec_...`), or what
    `catalog webhook-secret` prints for an embedded catalog that derives it."""
    verifier = Webhook(secret)
    app = FastAPI(title=f"{processor.channel} adapter", docs_url=None, redoc_url=None)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "channel": processor.channel}

    @app.post(path)
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            event: Any = verifier.verify(body, dict(request.headers))
        except (WebhookVerificationError, ValueError) as error:
            # ValueError: the library lets garbled headers or a non-UTF-8 body escape as such.
            return _answer(401, "bad-signature", str(error))
        if not isinstance(event, dict) or event.get("id") != request.headers["webhook-id"]:
            return _answer(401, "bad-signature", "webhook-id is not the signed event's id")
        try:
            handling = await run_in_threadpool(processor.handle, event)
        except (CatalogUnavailable, ChannelUnavailable) as error:
            log.warning("%s: %s, the event will come again", processor.channel, error)
            return _answer(503, "unavailable", str(error))
        except CatalogRejected as error:  # 401/403 only: credentials to fix
            log.error("%s: %s", processor.channel, error)
            return _answer(503, "catalog-refused", str(error))
        return JSONResponse(
            {
                "result": handling.result.value,
                "action": handling.action,
                "outcome": handling.outcome,
                "detail": handling.detail,
            }
        )

    return app


def _answer(status: int, result: str, detail: str) -> JSONResponse:
    return JSONResponse({"result": result, "detail": detail}, status_code=status)
