"""The embedded deployment re-evaluates in the server process: a type's PATCH or a channel's
requirements PUT over HTTP, then the worker fed by the outbox gives each affected product a
version by `system`, and a restart does not do it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from catalog.bootstrap import build_container, local_tokens
from catalog.entrypoints.api.app import create_app
from catalog.settings import Settings
from tests.api.support import png
from tests.embedded.conftest import wait_until

BASE = "/v1/merchants/acme"


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, public_url="http://testserver", relay_poll_seconds=0.05)


def headers(settings: Settings, roles: list[str], merchant: str | None = "acme") -> dict[str, str]:
    token = local_tokens(settings).issue(merchant, roles)
    return {"Authorization": f"Bearer {token}"}


def ready_shirt(client: TestClient, auth: dict[str, str], sku: str) -> dict[str, Any]:
    body = {
        "sku": sku,
        "name": "Shirt",
        "description": "Cotton",
        "price": {"amount": 1999, "currency": "USD"},
        "product_type": "apparel",
        "attributes": {"brand": "Acme"},
    }
    created = client.post(f"{BASE}/products", json=body, headers=auth)
    assert created.status_code == 201, created.text
    url = f"{BASE}/products/{created.json()['id']}"
    files = {"file": ("a.png", png(), "image/png")}
    assert client.post(f"{url}/images", files=files, headers=auth).status_code == 201
    ready = client.post(f"{url}/status", json={"status": "READY"}, headers=auth)
    assert ready.status_code == 200, ready.text
    view: dict[str, Any] = ready.json()
    return view


def test_a_type_change_reaches_its_products_in_the_background(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    auth = headers(settings, ["merchant"])
    with TestClient(create_app(build_container(settings))) as client:
        apparel = {"key": "apparel", "name": "Apparel", "attributes": {"brand": {"type": "string"}}}
        assert client.post(f"{BASE}/product-types", json=apparel, headers=auth).is_success
        shirts = [ready_shirt(client, auth, f"SH-{n}") for n in range(3)]

        patch = {"attributes": {"material": {"type": "string", "required": True}}}
        patched = client.patch(f"{BASE}/product-types/apparel", json=patch, headers=auth)
        assert patched.status_code == 200, patched.text

        def all_drafts() -> bool:
            views = [client.get(f"{BASE}/products/{s['id']}", headers=auth).json() for s in shirts]
            return all(v["status"] == "DRAFT" for v in views)

        assert wait_until(all_drafts, timeout=10)
        url = f"{BASE}/products/{shirts[0]['id']}"
        view = client.get(url, headers=auth).json()
        assert view["completeness"]["ready"] == {
            "complete": False,
            "missing": ["/attributes/material"],
        }
        [entry] = client.get(f"{url}/history?limit=1", headers=auth).json()["items"]
        assert (entry["actor"], entry["reason"]) == ("system", "product type apparel v2")
        assert entry["events"] == ["ProductCompletenessChanged", "ProductStatusChanged"]
        versions = [
            client.get(f"{BASE}/products/{s['id']}", headers=auth).json()["version"] for s in shirts
        ]

    # A restart hands the worker nothing new: no product gets another version.
    with TestClient(create_app(build_container(settings))) as client:
        declared = client.put(
            "/v1/channels/meta/requirements",
            json={"required": ["/attributes/gtin"]},
            headers=headers(settings, ["platform"], None),
        )
        assert declared.status_code == 200, declared.text

        def meta_evaluated() -> bool:
            views = [client.get(f"{BASE}/products/{s['id']}", headers=auth).json() for s in shirts]
            return all("meta" in v["completeness"]["channels"] for v in views)

        assert wait_until(meta_evaluated, timeout=10)
        after = [
            client.get(f"{BASE}/products/{s['id']}", headers=auth).json()["version"] for s in shirts
        ]
        # Exactly one more version each: the requirements change, not the type change again.
        assert after == [v + 1 for v in versions]
