"""Building adapter services from the environment (uvicorn factory, Lambda handler)."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from channel_kit.runtime import KitSettings

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


def test_settings_name_the_missing_variables():
    with pytest.raises(RuntimeError, match="CATALOG_API_URL, CATALOG_CHANNEL_TOKEN"):
        KitSettings.from_env({})


@pytest.mark.parametrize(
    ("module", "channel", "variables"),
    [
        ("mercadolibre_adapter.service", "mercadolibre", {"MERCADOLIBRE_ACCESS_TOKEN": "t"}),
        ("meta_adapter.service", "meta", {"META_ACCESS_TOKEN": "t", "META_CATALOG_ID": "1"}),
    ],
)
def test_each_adapter_serves_webhooks_from_its_environment(
    monkeypatch, tmp_path, module, channel, variables
):
    import importlib

    for name, value in {
        "CATALOG_API_URL": "http://127.0.0.1:9",
        "CATALOG_CHANNEL_TOKEN": "token",
        "CATALOG_WEBHOOK_SECRET": SECRET,
        "ADAPTER_STATE_DB": str(tmp_path / "state.db"),
        **variables,
    }.items():
        monkeypatch.setenv(name, value)
    service = importlib.import_module(module)

    with TestClient(service.webhook()) as client:
        assert client.get("/health").json() == {"status": "ok", "channel": channel}
        assert client.post("/events", content=b"{}").status_code == 401
    assert (tmp_path / "state.db").exists()
    assert service.handler({"Records": []}, None) == {"batchItemFailures": []}
