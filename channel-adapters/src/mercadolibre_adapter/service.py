"""Run the Mercado Libre adapter: `uvicorn --factory mercadolibre_adapter.service:webhook`
(embedded catalog, signed webhooks) or Lambda handler `mercadolibre_adapter.service.handler`
(SQS fed by an EventBridge rule). Settings: channel_kit.runtime's variables plus
`MERCADOLIBRE_ACCESS_TOKEN` and optionally `MERCADOLIBRE_API_URL`."""

from __future__ import annotations

import os

import httpx
from fastapi import FastAPI

from channel_kit import EventProcessor, sqs_handler, webhook_app
from channel_kit.runtime import KitSettings, build_processor
from mercadolibre_adapter.adapter import MercadoLibreAdapter, MercadoLibreSettings


def processor_from_env() -> EventProcessor:
    settings = MercadoLibreSettings(
        access_token=os.environ["MERCADOLIBRE_ACCESS_TOKEN"],
        api_url=os.environ.get("MERCADOLIBRE_API_URL", "https://api.mercadolibre.com"),
    )

    def adapter(http: httpx.Client) -> MercadoLibreAdapter:
        return MercadoLibreAdapter(settings, http)

    return build_processor(KitSettings.from_env(), adapter)


def webhook() -> FastAPI:
    secret = os.environ["CATALOG_WEBHOOK_SECRET"]
    return webhook_app(processor_from_env(), secret)


handler = sqs_handler(processor_from_env)
