"""Run the Meta adapter: `uvicorn --factory meta_adapter.service:webhook` (embedded catalog,
signed webhooks) or Lambda handler `meta_adapter.service.handler` (SQS fed by an EventBridge
rule). Settings: channel_kit.runtime's variables plus `META_ACCESS_TOKEN`, `META_CATALOG_ID`
and optionally `META_GRAPH_URL`."""

from __future__ import annotations

import os

import httpx
from fastapi import FastAPI

from channel_kit import EventProcessor, sqs_handler, webhook_app
from channel_kit.runtime import KitSettings, build_processor, published_items
from meta_adapter.adapter import MetaCatalogAdapter, MetaSettings


def processor_from_env() -> EventProcessor:
    settings = MetaSettings(
        access_token=os.environ["META_ACCESS_TOKEN"],
        catalog_id=os.environ["META_CATALOG_ID"],
        graph_url=os.environ.get("META_GRAPH_URL", "https://graph.facebook.com"),
    )

    kit = KitSettings.from_env()
    # The items published per listing live beside the kit's state (ADAPTER_STATE_DB).
    published = published_items(kit)

    def adapter(http: httpx.Client) -> MetaCatalogAdapter:
        return MetaCatalogAdapter(settings, http, published)

    return build_processor(kit, adapter)


def webhook() -> FastAPI:
    secret = os.environ["CATALOG_WEBHOOK_SECRET"]
    return webhook_app(processor_from_env(), secret)


handler = sqs_handler(processor_from_env)
