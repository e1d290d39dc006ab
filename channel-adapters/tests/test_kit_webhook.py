"""webhook_app: Standard Webhooks signature checks, answers that drive the relay's retries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from channel_kit import CatalogUnavailable, Handling, Result, webhook_app
from conftest import cloud_event

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


class StubProcessor:
    channel = "shop"

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.raise_: Exception | None = None

    def handle(self, event):
        if self.raise_:
            raise self.raise_
        self.events.append(event)
        duplicate = sum(e["id"] == event["id"] for e in self.events) > 1
        return Handling(Result.DUPLICATE if duplicate else Result.HANDLED, event["id"])


@pytest.fixture
def processor() -> StubProcessor:
    return StubProcessor()


@pytest.fixture
def client(processor):
    with TestClient(webhook_app(processor, SECRET)) as client:  # type: ignore[arg-type]
        yield client


def signed(
    event: dict, secret: str = SECRET, msg_id: str | None = None, at: datetime | None = None
):
    body = json.dumps(event)
    at = at or datetime.now(UTC)
    msg_id = msg_id or event["id"]
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
        "content-type": "application/cloudevents+json; charset=utf-8",
    }
    return body, headers


def test_a_signed_event_is_handled(client, processor):
    event = cloud_event("ProductUpdated", 3, changed_fields=["/name"], channels=["shop"])
    body, headers = signed(event)

    response = client.post("/events", content=body, headers=headers)

    assert response.status_code == 200
    assert response.json()["result"] == "handled"
    assert processor.events == [event]


def test_a_redelivery_is_acknowledged_as_a_duplicate(client):
    event = cloud_event("ProductUpdated", 3, changed_fields=["/name"], channels=["shop"])
    body, headers = signed(event)

    client.post("/events", content=body, headers=headers)
    again = client.post("/events", content=body, headers=headers)

    assert again.status_code == 200
    assert again.json()["result"] == "duplicate"


@pytest.mark.parametrize(
    "tamper",
    [
        "other-secret",
        "tampered-body",
        "no-signature",
        "garbled-signature",
        "too-old",
        "foreign-webhook-id",
    ],
)
def test_anything_but_a_valid_signature_is_refused_unhandled(client, processor, tamper):
    event = cloud_event("ProductUpdated", 3, changed_fields=["/name"], channels=["shop"])
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    body, headers = signed(
        event,
        secret=other if tamper == "other-secret" else SECRET,
        at=datetime.now(UTC) - timedelta(minutes=10) if tamper == "too-old" else None,
        msg_id="01OTHEREVENT" if tamper == "foreign-webhook-id" else None,
    )
    if tamper == "tampered-body":
        body = body.replace('"version": 3', '"version": 4')
    if tamper == "no-signature":
        del headers["webhook-signature"]
    if tamper == "garbled-signature":
        headers["webhook-signature"] = "v1nocomma"

    response = client.post("/events", content=body, headers=headers)

    assert response.status_code == 401
    assert processor.events == []


def test_an_unavailable_catalog_asks_the_relay_to_deliver_again(client, processor):
    processor.raise_ = CatalogUnavailable("down")
    body, headers = signed(cloud_event("ProductUpdated", 3, changed_fields=["/name"]))

    response = client.post("/events", content=body, headers=headers)

    assert response.status_code == 503


def test_health(client):
    assert client.get("/health").json() == {"status": "ok", "channel": "shop"}
