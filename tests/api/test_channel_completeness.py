"""Completeness by the channels' declared requirements, over HTTP on every backend: each
declaring channel's entry in the view, a publish request refused fast with what is missing
and accepted once it is filled (DESIGN.md section 9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Principals
from tests.api.support import Api, assert_problem, bearer, complete_body

ML_NEEDS = ["/attributes/brand", "/attributes/condition"]


@pytest.fixture
def declared(client: TestClient, principals: Principals) -> None:
    """Mercado Libre's adapter and Meta's declared what they need."""
    for channel, needs in (("mercadolibre", ML_NEEDS), ("meta", ["/images"])):
        token = principals.channel(channel)
        put = client.put(
            f"/v1/channels/{channel}/requirements", json={"required": needs}, headers=bearer(token)
        )
        assert put.status_code == 200, put.text


def test_every_declaring_channel_has_an_entry_in_the_view(acme: Api, declared: None) -> None:
    product = acme.ready_ok(complete_body(attributes={"brand": "Acme"}))

    assert product["completeness"] == {
        "ready": {"complete": True, "missing": []},
        "channels": {
            "mercadolibre": {"complete": False, "missing": ["/attributes/condition"]},
            "meta": {"complete": True, "missing": []},
        },
    }
    assert acme.get(product["id"]).json()["completeness"] == product["completeness"]


def test_a_publish_request_fails_fast_with_what_the_channel_needs_then_succeeds(
    acme: Api, declared: None, events: Callable[[], list[Any]]
) -> None:
    product = acme.ready_ok(complete_body())
    publish = acme.product_url(product["id"]) + "/channels/mercadolibre/publish"
    before = len(events())

    problem = assert_problem(acme.client.post(publish, headers=acme.headers), 422)

    assert (problem["channel"], problem["missing"]) == ("mercadolibre", ML_NEEDS)
    assert len(events()) == before  # no listing, no event
    assert acme.get(product["id"]).json()["listings"] == {}

    filled = acme.patch(product["id"], {"attributes": {"brand": "Acme", "condition": "new"}})
    assert filled.status_code == 200, filled.text
    listed = acme.client.post(publish, headers=acme.headers)
    assert listed.status_code == 202, listed.text
    assert listed.json()["listings"]["mercadolibre"]["state"] == "PENDING"


def test_a_channel_override_fills_a_need_on_that_channel_only(acme: Api, declared: None) -> None:
    overrides = {"mercadolibre": {"attributes": {"brand": "Acme", "condition": "new"}}}
    product = acme.ready_ok(complete_body(channel_overrides=overrides))

    assert product["completeness"]["channels"]["mercadolibre"]["complete"] is True


def test_a_declaration_is_an_event_of_no_merchant(
    client: TestClient, principals: Principals, events: Callable[[], list[Any]]
) -> None:
    token = principals.channel("mercadolibre")
    client.put(
        "/v1/channels/mercadolibre/requirements", json={"required": ML_NEEDS}, headers=bearer(token)
    )
    client.put(  # the same list again: no new version, no event
        "/v1/channels/mercadolibre/requirements", json={"required": ML_NEEDS}, headers=bearer(token)
    )

    [event] = [e for e in events() if e.name.value == "ChannelRequirementsChanged"]
    assert (event.merchant_id, event.channel, event.version) == (None, "mercadolibre", 1)
    assert event.data == {"required": ML_NEEDS}
