"""The channel adapters' kit and the catalog agree on channel requirements.

channel_kit imports nothing from the catalog, so it has its own copy of the pointer rules and
of the lookup; this checks them against the catalog's: the reference adapters' declarations
are lists the catalog accepts, the kit's `CatalogClient` declares them as the catalog expects
(idempotently), and the kit finds missing exactly what the catalog's completeness finds
missing, in any document. If these disagree, an adapter would publish what the catalog
refused, or refuse what it accepted.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from channel_kit import CatalogClient, ProductView
from channel_kit import requirements as kit
from fastapi.testclient import TestClient
from mercadolibre_adapter import MercadoLibreAdapter, MercadoLibreSettings
from meta_adapter import MetaCatalogAdapter, MetaSettings

from catalog.domain import completeness
from catalog.domain.errors import InvalidField
from tests.api.conftest import Principals

UNUSED = httpx.Client(base_url="http://unused.test")
REFERENCE_ADAPTERS = {
    "mercadolibre": MercadoLibreAdapter(MercadoLibreSettings(access_token="t"), UNUSED),
    "meta": MetaCatalogAdapter(MetaSettings(access_token="t", catalog_id="1"), UNUSED),
}

DOCUMENTS: list[dict[str, Any]] = [
    {},
    {"name": "Tee", "description": " ", "price": None, "images": [], "attributes": {}},
    {
        "name": "Tee",
        "sku": "TEE-1",
        "product_type": "apparel",
        "price": {"amount": 0, "currency": "USD"},
        "images": [{"id": "i", "url": "https://cdn.test/i.png"}],
        "attributes": {
            "brand": "Acme",
            "blank": "  ",
            "zero": 0,
            "no": False,
            "none": None,
            "empty_list": [],
            "empty_object": {},
            "dimensions": {"width_cm": 30, "depth_cm": None},
            "tags": ["a"],
            "a/b": "slash",
            "a~b": "tilde",
        },
    },
]
POINTERS = [
    *sorted(kit.WHOLE_MEMBERS),
    "/attributes/brand",
    "/attributes/blank",
    "/attributes/zero",
    "/attributes/no",
    "/attributes/none",
    "/attributes/empty_list",
    "/attributes/empty_object",
    "/attributes/absent",
    "/attributes/dimensions/width_cm",
    "/attributes/dimensions/depth_cm",
    "/attributes/dimensions/width_cm/deeper",
    "/attributes/tags/0",
    "/attributes/tags/1",
    "/attributes/a~1b",
    "/attributes/a~0b",
]


def test_the_kit_accepts_exactly_the_pointers_the_catalog_accepts() -> None:
    assert kit.WHOLE_MEMBERS == completeness._WHOLE_MEMBERS
    candidates = [
        *POINTERS,
        *("/title", "/attributes", "/attributes/", "/attributes/a//b", "/attributes/a~2"),
        *("name", "/listings", "/attributes/" + "x" * 300),
    ]
    for pointer in candidates:
        try:
            completeness.parse_requirement(pointer, "/required/0")
            catalog_accepts = True
        except InvalidField:
            catalog_accepts = False
        try:
            kit.check_pointer(pointer)
            kit_accepts = True
        except ValueError:
            kit_accepts = False
        assert kit_accepts == catalog_accepts, pointer


@pytest.mark.parametrize("document", DOCUMENTS, ids=["empty", "blank", "full"])
def test_the_kit_finds_missing_what_the_catalog_finds_missing(document: dict[str, Any]) -> None:
    assert kit.missing_in_document(document, POINTERS) == completeness.missing(document, POINTERS)


@pytest.mark.parametrize("channel", sorted(REFERENCE_ADAPTERS))
def test_a_reference_adapter_declares_what_the_catalog_accepts_through_the_kit_client(
    client: TestClient, principals: Principals, channel: str
) -> None:
    adapter = REFERENCE_ADAPTERS[channel]
    assert completeness.parse_requirements({"required": list(adapter.requirements)})
    # The adapter's own token: the channel role, scoped to the merchant it serves.
    catalog = CatalogClient(str(client.base_url), principals.channel(channel), client)

    declared = catalog.declare_requirements(channel, adapter.requirements)
    again = catalog.declare_requirements(channel, adapter.requirements)

    assert (declared.required, declared.version) == (adapter.requirements, 1)
    assert again == declared  # the same list writes nothing
    assert catalog.requirements(channel) == declared


def test_a_view_the_catalog_renders_is_looked_up_alike(
    client: TestClient, principals: Principals
) -> None:
    """The effective view the adapter reads carries the members its pointers name."""
    merchant = {"Authorization": f"Bearer {principals.merchant('acme')}"}
    created = client.post(
        "/v1/merchants/acme/products",
        json={
            "sku": "TS-1",
            "name": "Trail shoe",
            "price": {"amount": 12999, "currency": "USD"},
            "attributes": {"brand": "Acme", "condition": "new"},
            "channel_overrides": {"meta": {"attributes": {"condition": None}}},
        },
        headers=merchant,
    )
    assert created.status_code == 201, created.text
    adapter_token = {"Authorization": f"Bearer {principals.channel('meta')}"}
    body = client.get(
        f"/v1/merchants/acme/products/{created.json()['id']}",
        params={"channel": "meta"},
        headers=adapter_token,
    ).json()

    view = ProductView.from_json(body, "meta")
    needs = REFERENCE_ADAPTERS["meta"].requirements

    # The override hides the condition on Meta: missing for both, as are description, images
    # and link.
    assert kit.missing(view, needs) == completeness.missing(body, needs)
    assert kit.missing(view, needs) == (
        "/description",
        "/images",
        "/attributes/condition",
        "/attributes/link",
    )
