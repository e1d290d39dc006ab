"""CatalogClient: the effective view and outcome reports, retried on 5xx/network only."""

from __future__ import annotations

import json

import httpx
import pytest
from tenacity import wait_none

from channel_kit import CatalogClient, CatalogRejected, CatalogUnavailable, RetryPolicy
from conftest import PRODUCT_ID, product_document


def client_answering(*answers) -> tuple[CatalogClient, list[httpx.Request]]:
    """A client whose requests get `answers` in turn (a status code or an exception)."""
    seen: list[httpx.Request] = []
    pending = list(answers)

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if answer == 200:
            return httpx.Response(200, json=product_document(), headers={})
        if answer == "stale":
            return httpx.Response(
                200, json=product_document(), headers={"Outcome-Ignored": "stale"}
            )
        return httpx.Response(answer, json={"type": "/problems/x", "status": answer})

    http = httpx.Client(transport=httpx.MockTransport(respond))
    return CatalogClient("http://catalog.test/", "tok", http, RetryPolicy(4, wait_none())), seen


def test_the_effective_view_is_read_for_the_channel():
    client, seen = client_answering(200)

    view = client.effective_view("acme", PRODUCT_ID, "mercadolibre")

    assert str(seen[0].url) == (
        f"http://catalog.test/v1/merchants/acme/products/{PRODUCT_ID}?channel=mercadolibre"
    )
    assert view.version == 3
    assert view.price is not None and view.price.formatted() == "129.99 USD"
    assert view.images[0].url.startswith("https://")


def test_an_outcome_is_put_on_the_channel_listing():
    client, seen = client_answering(200)

    answer = client.report(
        "acme", PRODUCT_ID, "meta", "PUBLISHED", 7, external_id="TS-1", external_url=None
    )

    request = seen[0]
    assert request.method == "PUT"
    assert request.url.path == f"/v1/merchants/acme/products/{PRODUCT_ID}/channels/meta/listing"
    assert json.loads(request.content) == {
        "state": "PUBLISHED",
        "product_version": 7,
        "external_id": "TS-1",
        "external_url": None,
        "message": None,
    }
    assert answer.ignored_as_stale is False


def test_an_outcome_the_catalog_ignored_as_superseded_is_told_apart():
    client, _ = client_answering("stale")

    answer = client.report("acme", PRODUCT_ID, "meta", "UNPUBLISHED", 2)

    assert answer.ignored_as_stale is True


def test_server_errors_and_network_failures_are_retried_until_success():
    client, seen = client_answering(503, httpx.ConnectError("refused"), 500, 200)

    client.report("acme", PRODUCT_ID, "meta", "UNPUBLISHED", 2)

    assert len(seen) == 4


def test_a_catalog_that_keeps_failing_is_unavailable_after_the_last_attempt():
    client, seen = client_answering(503, 503, 502, 500)

    with pytest.raises(CatalogUnavailable):
        client.effective_view("acme", PRODUCT_ID, "meta")
    assert len(seen) == 4


def test_too_many_requests_is_retried():
    client, seen = client_answering(429, 200)

    client.effective_view("acme", PRODUCT_ID, "meta")

    assert len(seen) == 2


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_client_errors_are_final_and_not_retried(status):
    client, seen = client_answering(status)

    with pytest.raises(CatalogRejected) as raised:
        client.report("acme", PRODUCT_ID, "meta", "FAILED", 2, message="x")
    assert raised.value.status_code == status
    assert len(seen) == 1
