"""Re-evaluation seen over HTTP on every backend: after a type's PATCH or a channel's PUT, the
worker's step (what the embedded sink and the AWS function each run on the event) gives the
affected products a version by `system`, and the views and histories show it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from catalog.bootstrap import Container
from catalog.service.reevaluation import reevaluate_after
from tests.api.conftest import Principals
from tests.api.support import Api, bearer, complete_body

APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {"brand": {"type": "string"}, "material": {"type": "string"}},
}


def work_off(container: Container, events: Callable[[], list[Any]], seen: int) -> int:
    """Run what every event after the first `seen` calls for; returns how many there are."""
    pending = events()
    for event in pending[seen:]:
        reevaluate_after(container.ctx, event)
    return len(pending)


def test_a_type_change_moves_its_ready_products_back_to_draft(
    acme: Api, container: Container, events: Callable[[], list[Any]]
) -> None:
    types = "/v1/merchants/acme/product-types"
    assert acme.client.post(types, json=APPAREL, headers=acme.headers).status_code == 201
    shirt = acme.create_with_image(complete_body(product_type="apparel", attributes={"brand": "A"}))
    assert acme.set_status(shirt["id"], "READY").status_code == 200
    other = acme.create_with_image(complete_body(sku="MUG-1"))
    seen = work_off(container, events, 0)

    patch = {"attributes": {"material": {"type": "string", "required": True}}}
    assert acme.client.patch(f"{types}/apparel", json=patch, headers=acme.headers).is_success
    work_off(container, events, seen)

    view = acme.get(shirt["id"]).json()
    assert view["status"] == "DRAFT"
    assert view["completeness"]["ready"] == {"complete": False, "missing": ["/attributes/material"]}
    [entry] = acme.history(shirt["id"], limit=1).json()["items"]
    assert (entry["actor"], entry["reason"]) == ("system", "product type apparel v2")
    assert entry["transition"]["reason"] == "product type apparel v2: missing /attributes/material"
    assert acme.get(other["id"]).json()["version"] == other["version"]
    names = [e.name.value for e in events() if e.product_id == shirt["id"]][-2:]
    assert names == ["ProductCompletenessChanged", "ProductStatusChanged"]


def test_a_channels_requirements_reach_every_merchants_products(
    client: TestClient,
    acme: Api,
    globex: Api,
    principals: Principals,
    container: Container,
    events: Callable[[], list[Any]],
) -> None:
    mine = acme.create_ok(complete_body())
    theirs = globex.create_ok(complete_body())
    seen = work_off(container, events, 0)

    put = client.put(
        "/v1/channels/mercadolibre/requirements",
        json={"required": ["/attributes/brand"]},
        headers=bearer(principals.channel("mercadolibre")),
    )
    assert put.status_code == 200, put.text
    work_off(container, events, seen)

    for api, product in ((acme, mine), (globex, theirs)):
        view = api.get(product["id"]).json()
        assert view["version"] == product["version"] + 1
        assert view["completeness"]["channels"]["mercadolibre"] == {
            "complete": False,
            "missing": ["/images", "/attributes/brand"],
        }
        [entry] = api.history(product["id"], limit=1).json()["items"]
        assert entry["reason"] == "channel mercadolibre requirements v1"
        # The other merchant's product is still out of reach.
        assert api.as_merchant("acme" if api is globex else "globex").get(
            product["id"]
        ).status_code in (403, 404)
