"""The worked example of docs/product-types.md, step by step, on every backend: two verticals
(apparel and electronics), the channels' declared requirements, completeness per channel, a
publication refused with what is missing and then accepted, and a type change re-evaluated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from catalog.bootstrap import Container
from catalog.service.reevaluation import reevaluate_after
from tests.api.conftest import Principals
from tests.api.support import Api, assert_problem, bearer

# As the reference adapters declare them on start (channel-adapters/README.md), Mercado Libre
# with its shipped defaults (buying mode); the adapters' test ties the two together.
MERCADOLIBRE = [
    "/name",
    "/price",
    "/images",
    "/attributes/category_id",
    "/attributes/available_quantity",
    "/attributes/listing_type_id",
    "/attributes/condition",
    "/attributes/brand",
]
META = ["/name", "/description", "/price", "/images", "/attributes/condition", "/attributes/link"]

APPAREL = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "max_length": 60, "required": True},
        "size": {"type": "enum", "values": ["XS", "S", "M", "L", "XL"], "variant_axis": True},
        "material": {"type": "string"},
    },
}
ELECTRONICS = {
    "key": "electronics",
    "name": "Electronics",
    "attributes": {
        "brand": {"type": "string", "required": True},
        "gtin": {"type": "string", "max_length": 14, "required_on": ["meta", "mercadolibre"]},
        "storage_gb": {"type": "integer", "minimum": 1, "maximum": 4096},
    },
}


def publish(api: Api, product_id: str, channel: str) -> Any:
    url = api.product_url(product_id) + f"/channels/{channel}/publish"
    return api.client.post(url, headers=api.headers)


def test_the_worked_example(
    client: TestClient,
    acme: Api,
    principals: Principals,
    container: Container,
    events: Callable[[], list[Any]],
) -> None:
    # 1. The channels declare what they need; the merchant defines two types.
    for channel, needs in (("mercadolibre", MERCADOLIBRE), ("meta", META)):
        token = principals.channel(channel)
        url = f"/v1/channels/{channel}/requirements"
        assert client.put(url, json={"required": needs}, headers=bearer(token)).is_success
    for body in (APPAREL, ELECTRONICS):
        created = client.post("/v1/merchants/acme/product-types", json=body, headers=acme.headers)
        assert created.status_code == 201, created.text

    # 2. A tee and a phone, READY: complete for READY, not yet for either channel.
    tee = acme.ready_ok(
        {
            "sku": "TEE-1",
            "name": "Organic tee",
            "description": "Heavyweight organic cotton.",
            "price": {"amount": 2500, "currency": "USD"},
            "product_type": "apparel",
            "attributes": {"brand": "Acme", "size": "M"},
        },
    )
    phone = acme.ready_ok(
        {
            "sku": "PHONE-1",
            "name": "Acme phone 12",
            "description": "6.1 inch, 128 GB.",
            "price": {"amount": 49900, "currency": "USD"},
            "product_type": "electronics",
            "attributes": {"brand": "Acme", "storage_gb": 128},
        },
    )
    assert tee["completeness"] == {
        "ready": {"complete": True, "missing": []},
        "channels": {
            "mercadolibre": {
                "complete": False,
                "missing": [
                    "/attributes/category_id",
                    "/attributes/available_quantity",
                    "/attributes/listing_type_id",
                    "/attributes/condition",
                ],
            },
            "meta": {"complete": False, "missing": ["/attributes/condition", "/attributes/link"]},
        },
    }
    assert phone["completeness"]["channels"] == {
        "mercadolibre": {
            "complete": False,
            "missing": [
                "/attributes/category_id",
                "/attributes/available_quantity",
                "/attributes/listing_type_id",
                "/attributes/condition",
                "/attributes/gtin",
            ],
        },
        "meta": {
            "complete": False,
            "missing": ["/attributes/condition", "/attributes/link", "/attributes/gtin"],
        },
    }

    # 3. A publication fails fast with what the channel needs; filled in, it goes through.
    refused = assert_problem(publish(acme, phone["id"], "meta"), 422)
    assert (refused["channel"], refused["missing"]) == (
        "meta",
        ["/attributes/condition", "/attributes/link", "/attributes/gtin"],
    )
    filled = acme.patch(
        phone["id"],
        {
            "attributes": {
                "condition": "new",
                "link": "https://shop.example.com/p/phone-12",
                "gtin": "0012345678905",
            }
        },
    )
    assert filled.status_code == 200, filled.text
    listed = publish(acme, phone["id"], "meta")
    assert listed.status_code == 202, listed.text
    assert listed.json()["completeness"]["channels"]["meta"] == {"complete": True, "missing": []}

    # On Mercado Libre the tee gets what only that channel needs from an override.
    overrides = {
        "mercadolibre": {
            "attributes": {
                "category_id": "MLA109027",
                "available_quantity": 40,
                "listing_type_id": "gold_special",
                "condition": "new",
            }
        }
    }
    assert acme.patch(tee["id"], {"channel_overrides": overrides}).status_code == 200
    tee_listed = publish(acme, tee["id"], "mercadolibre")
    assert tee_listed.status_code == 202, tee_listed.text

    # 4. The merchant now requires a material for apparel: the tee, live on Mercado Libre,
    # keeps its status and listing and shows what it misses; READY needs it from now on.
    seen = len(events())
    patch = {"attributes": {"material": {"type": "string", "required": True}}}
    types = "/v1/merchants/acme/product-types/apparel"
    assert client.patch(types, json=patch, headers=acme.headers).status_code == 200
    for event in events()[seen:]:
        reevaluate_after(container.ctx, event)
    tee_now = acme.get(tee["id"]).json()
    assert tee_now["status"] == "READY"
    assert tee_now["listings"]["mercadolibre"]["state"] == "PENDING"
    assert tee_now["completeness"]["ready"] == {
        "complete": False,
        "missing": ["/attributes/material"],
    }
    [entry] = acme.history(tee["id"], limit=1).json()["items"]
    assert (entry["actor"], entry["reason"]) == ("system", "product type apparel v2")


def test_the_example_declares_what_the_reference_adapters_declare() -> None:
    import httpx
    from mercadolibre_adapter import MercadoLibreAdapter, MercadoLibreSettings
    from meta_adapter import MetaCatalogAdapter, MetaSettings

    unused = httpx.Client(base_url="http://unused.test")
    mercadolibre = MercadoLibreAdapter(MercadoLibreSettings(access_token="t"), unused)
    meta = MetaCatalogAdapter(MetaSettings(access_token="t", catalog_id="1"), unused)
    assert list(mercadolibre.requirements) == MERCADOLIBRE
    assert list(meta.requirements) == META
