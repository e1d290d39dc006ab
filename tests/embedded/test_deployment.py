"""End to end on the embedded deployment: SQLite, local assets, relay, log and webhooks,
built by the composition root exactly as `catalog serve` builds it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from standardwebhooks import Webhook

from catalog.bootstrap import build_container, local_tokens, webhook_signing_secret
from catalog.entrypoints.api.app import create_app
from catalog.settings import Settings
from tests.api.support import png
from tests.embedded.conftest import WebhookReceiver, read_event_log, wait_until

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"


def settings_for(data_dir: Path, webhook: WebhookReceiver | None = None) -> Settings:
    return Settings(
        data_dir=data_dir,
        public_url="http://testserver",
        webhook_urls=[webhook.url] if webhook else [],
        webhook_allow_http_loopback=True,  # the receiver is on 127.0.0.1
        relay_poll_seconds=0.05,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "catalog-data"


def serve(settings: Settings) -> TestClient:
    return TestClient(create_app(build_container(settings)))


def auth(settings: Settings, merchant: str = "acme") -> dict[str, str]:
    return {"Authorization": f"Bearer {local_tokens(settings).issue(merchant, ['merchant'])}"}


@pytest.fixture
def walked_through(data_dir: Path, webhook: WebhookReceiver) -> Iterator[dict[str, object]]:
    """A product taken through the five use cases on a running embedded server."""
    settings = settings_for(data_dir, webhook)
    headers = auth(settings)
    with serve(settings) as client:
        base = "/v1/merchants/acme/products"
        created = client.post(
            base,
            headers=headers,
            json={
                "sku": "TS-1",
                "name": "Trail shoe",
                "description": "Light",
                "price": {"amount": 12999, "currency": "USD"},
            },
        )
        assert created.status_code == 201, created.text
        product_id = created.json()["id"]
        upload = client.post(
            f"{base}/{product_id}/images", headers=headers, files={"file": ("a.png", png())}
        )
        assert upload.status_code == 201, upload.text
        assert client.post(
            f"{base}/{product_id}/status", headers=headers, json={"status": "READY"}
        ).is_success
        patched = client.patch(
            f"{base}/{product_id}", headers=headers, json={"attributes": {"color": "red"}}
        )
        assert patched.is_success
        assert client.delete(f"{base}/{product_id}", headers=headers).is_success
        assert client.delete(f"{base}/{product_id}", headers=headers).is_success  # a repeat
        view = client.get(f"{base}/{product_id}", headers=headers).json()
        image_url = view["images"][0]["url"]
        image = client.get(urlsplit(image_url).path + "?" + urlsplit(image_url).query)
        log = data_dir / "events.jsonl"
        assert wait_until(lambda: len(read_event_log(log)) >= 5)
        webhook.wait_for(5)
    yield {
        "settings": settings,
        "product_id": product_id,
        "view": view,
        "image": image,
        "log": read_event_log(data_dir / "events.jsonl"),
    }


def test_every_change_reaches_the_event_log_once_in_order_and_matches_its_schema(
    walked_through,
):
    log = walked_through["log"]

    assert [event["type"] for event in log] == [
        "ProductCreated",
        "ProductUpdated",  # the image
        "ProductStatusChanged",  # DRAFT -> READY
        "ProductUpdated",  # the attributes
        "ProductDeactivated",  # the repeated DELETE emitted nothing
    ]
    assert len({event["id"] for event in log}) == len(log)
    assert [event["data"]["version"] for event in log] == [1, 2, 3, 4, 5]
    for event in log:
        schema = json.loads((SCHEMAS / f"{event['type']}.schema.json").read_text())
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        assert list(validator.iter_errors(event)) == []


def test_the_image_url_in_the_view_serves_the_uploaded_bytes(walked_through):
    image = walked_through["image"]
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content == png()


def test_webhooks_receive_every_event_signed(walked_through, webhook):
    secret = webhook_signing_secret(walked_through["settings"])
    deliveries = webhook.wait_for(len(walked_through["log"]))

    received = [Webhook(secret).verify(body, headers) for headers, body in deliveries]

    assert [event["id"] for event in received] == [e["id"] for e in walked_through["log"]]


def test_a_restart_keeps_data_secret_and_delivers_nothing_twice(walked_through, data_dir):
    settings = settings_for(data_dir)
    product_id = walked_through["product_id"]

    with serve(settings) as client:
        again = client.get(f"/v1/merchants/acme/products/{product_id}", headers=auth(settings))
        # Writing after the restart proves the relay resumed at its offset, not from zero.
        client.post(
            f"/v1/merchants/acme/products/{product_id}/status",
            headers=auth(settings),
            json={"status": "DRAFT"},
        )
        log_path = data_dir / "events.jsonl"
        assert wait_until(lambda: len(read_event_log(log_path)) == 6)

    assert again.status_code == 200
    assert again.json() == walked_through["view"]
    log = read_event_log(log_path)
    assert log[:5] == walked_through["log"]
    assert log[5]["type"] == "ProductReactivated"


def test_tokens_of_one_data_folder_are_refused_by_another(walked_through, tmp_path):
    other = settings_for(tmp_path / "other")
    with serve(other) as client:
        response = client.get(
            f"/v1/merchants/acme/products/{walked_through['product_id']}",
            headers=auth(walked_through["settings"]),
        )
    assert response.status_code == 401
