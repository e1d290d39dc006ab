"""Shared test doubles: a stand-in for the catalog's HTTP API (httpx.MockTransport) and
builders for product views and CloudEvents, shaped as docs/api.md and docs/events define."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tenacity import wait_none

from channel_fakes import FakeMercadoLibre, FakeMetaCatalog
from channel_kit import (
    CatalogClient,
    ChannelAdapter,
    EventProcessor,
    MemorySeenEvents,
    MemoryVersionLedger,
    MerchantScope,
    RetryPolicy,
)
from mercadolibre_adapter import MercadoLibreAdapter, MercadoLibreSettings
from meta_adapter import MetaCatalogAdapter, MetaSettings

PRODUCT_ID = "01JDX5Q0A1B2C3D4E5F6G7H8J9"
CATALOG_URL = "http://catalog.test"
_event_ids = itertools.count(1)


def product_document(**changes: Any) -> dict[str, Any]:
    """A product view as the catalog answers it; `changes` replace top-level fields."""
    document: dict[str, Any] = {
        "id": PRODUCT_ID,
        "merchant_id": "acme",
        "sku": "TS-1",
        "status": "READY",
        "version": 3,
        "name": "Trail shoe",
        "description": "A light trail running shoe.",
        "price": {"amount": 12999, "currency": "USD"},
        "attributes": {
            "brand": "Acme",
            "model": "Trail 1",
            "condition": "new",
            "available_quantity": 5,
            "category_id": "MLA109027",
            "listing_type_id": "gold_special",
            "link": "https://shop.example.com/ts-1",
        },
        "channel_overrides": {},
        "images": [
            {
                "id": "01JDX5Q0A1B2C3D4E5F6G7H8JA",
                "url": "https://cdn.example.com/acme/ts-1.png",
                "content_type": "image/png",
                "width": 800,
                "height": 800,
                "bytes": 10240,
                "alt": None,
            }
        ],
        "listings": {},
        "created_at": "2026-11-30T12:00:00.000Z",
        "updated_at": "2026-11-30T12:05:00.000Z",
    }
    document.update(changes)
    return document


FRONT_IMAGE_ID = "01JDX5Q0A1B2C3D4E5F6G7H8JA"
RED_IMAGE_ID = "01JDX5Q0A1B2C3D4E5F6G7H8JB"
RED_42, RED_43, BLUE_42 = (f"01JDX5Q0A1B2C3D4E5F6G7H8V{n}" for n in (1, 2, 3))


def variant(
    vid: str, sku: str, color: str, size: str, *, stock: int | None = 5, **changes: Any
) -> dict[str, Any]:
    """A variant as the `?channel=` view gives it: price and attributes effective (here the
    test product's, which a variant without its own inherits)."""
    document: dict[str, Any] = {
        "id": vid,
        "sku": sku,
        "options": {"color": color, "size": size},
        "price": {"amount": 12999, "currency": "USD"},
        "attributes": dict(product_document()["attributes"]),
        "image_ids": [],
        "barcode": None,
        "stock": stock,
    }
    document.update(changes)
    return document


def variants_document(**changes: Any) -> dict[str, Any]:
    """The test product with options color and size and three variants, as the catalog's
    `?channel=` view answers it (issue 12's view shape)."""
    front = product_document()["images"][0]
    red = {**front, "id": RED_IMAGE_ID, "url": "https://cdn.example.com/acme/ts-1-red.png"}
    document = product_document(
        options=["color", "size"],
        images=[front, red],
        variants=[
            variant(RED_42, "TS-1-RED-42", "red", "42", stock=3, image_ids=[RED_IMAGE_ID]),
            variant(RED_43, "TS-1-RED-43", "red", "43", stock=0, image_ids=[RED_IMAGE_ID]),
            variant(BLUE_42, "TS-1-BLUE-42", "blue", "42", stock=7, barcode="4006381333931"),
        ],
    )
    document.update(changes)
    return document


def cloud_event(
    type_: str, version: int, event_id: str | None = None, **data: Any
) -> dict[str, Any]:
    """A catalog CloudEvent (structured JSON) for PRODUCT_ID of merchant acme."""
    return {
        "specversion": "1.0",
        "id": event_id or f"01JDX5Q3W8B5Y8Q9N2K7M4{next(_event_ids):04d}",
        "source": "catalog",
        "type": type_,
        "subject": PRODUCT_ID,
        "time": "2026-11-30T12:05:00.000Z",
        "datacontenttype": "application/json",
        "data": {
            "merchant_id": "acme",
            "product_id": PRODUCT_ID,
            "version": version,
            "occurred_at": "2026-11-30T12:05:00.000Z",
            **data,
        },
    }


class CatalogApiDouble:
    """Answers GET product (?channel=), PUT listing and GET/PUT channel requirements like the
    catalog, recording calls.

    `ignore_outcomes_as_stale` makes it answer outcomes with `Outcome-Ignored: stale`."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        #: channel -> (required, version), as the catalog holds them.
        self.requirements: dict[str, tuple[list[str], int]] = {}
        self.reports: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.ignore_outcomes_as_stale = False
        self.failures: list[int] = []  # status codes to answer first, one per request

    def set_listing(self, channel: str, state: str, external_id: str | None = None) -> None:
        self.document["listings"][channel] = {
            "state": state,
            "external_id": external_id,
            "external_url": None,
            "message": None,
            "updated_at": "2026-11-30T12:05:00.000Z",
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            return httpx.Response(self.failures.pop(0), json={"title": "injected"})
        if request.url.path.startswith("/v1/channels/"):
            return self._requirements(request)
        path = f"/v1/merchants/acme/products/{PRODUCT_ID}"
        if request.method == "GET" and request.url.path == path:
            return httpx.Response(200, json=copy.deepcopy(self.document))
        if request.method == "PUT" and request.url.path.startswith(path + "/channels/"):
            channel = request.url.path.split("/")[-2]
            body = json.loads(request.content)
            self.reports.append({"channel": channel, **body})
            headers = {"Outcome-Ignored": "stale"} if self.ignore_outcomes_as_stale else {}
            if not self.ignore_outcomes_as_stale:
                self.document["version"] += 1
                self.set_listing(channel, body["state"], body.get("external_id"))
            return httpx.Response(200, json=copy.deepcopy(self.document), headers=headers)
        return httpx.Response(404, json={"title": "not found"})

    def _requirements(self, request: httpx.Request) -> httpx.Response:
        channel = request.url.path.split("/")[3]
        required, version = self.requirements.get(channel, ([], 0))
        if request.method == "PUT":
            declared = list(dict.fromkeys(json.loads(request.content)["required"]))
            if version == 0 or declared != required:  # the same list again writes nothing
                required, version = declared, version + 1
                self.requirements[channel] = (required, version)
        body = {"channel": channel, "required": required, "version": version}
        return httpx.Response(200, json=body, headers={"ETag": f'"{version}"'})


@pytest.fixture
def catalog_api() -> CatalogApiDouble:
    return CatalogApiDouble(product_document())


@pytest.fixture
def catalog_client(catalog_api: CatalogApiDouble) -> Iterator[CatalogClient]:
    with httpx.Client(transport=httpx.MockTransport(catalog_api)) as http:
        yield CatalogClient(CATALOG_URL, "channel-token", http, RetryPolicy(3, wait_none()))


@pytest.fixture
def make_processor(
    catalog_client: CatalogClient,
) -> Callable[[ChannelAdapter], EventProcessor]:
    def build(adapter: ChannelAdapter) -> EventProcessor:
        return EventProcessor(
            adapter,
            catalog_client,
            MemorySeenEvents(),
            MemoryVersionLedger(),
            merchants=MerchantScope.of(["acme"]),
        )

    return build


@pytest.fixture
def mercadolibre() -> Iterator[tuple[FakeMercadoLibre, MercadoLibreAdapter]]:
    fake = FakeMercadoLibre()
    with TestClient(fake.app, base_url="https://api.mercadolibre.test") as http:
        settings = MercadoLibreSettings(
            access_token=fake.access_token, api_url="https://api.mercadolibre.test"
        )
        yield fake, MercadoLibreAdapter(settings, http)


@pytest.fixture
def meta() -> Iterator[tuple[FakeMetaCatalog, MetaCatalogAdapter]]:
    fake = FakeMetaCatalog()
    with TestClient(fake.app, base_url="https://graph.facebook.test") as http:
        settings = MetaSettings(
            access_token=fake.access_token,
            catalog_id=fake.catalog_id,
            graph_url="https://graph.facebook.test",
            status_interval=0,
        )
        yield fake, MetaCatalogAdapter(settings, http)
