"""Building adapter services from the environment (uvicorn factory, Lambda handler)."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient
from tenacity import wait_none

from channel_kit import DeclarationState, MerchantScope, RetryPolicy
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
    """Even with the catalog unreachable: declaring the requirements is tried again later."""
    import importlib

    monkeypatch.setattr("channel_kit.runtime.CATALOG_RETRY", RetryPolicy(2, wait_none()))

    for name, value in {
        "CATALOG_API_URL": "http://127.0.0.1:9",
        "CATALOG_CHANNEL_TOKEN": "token",
        "ADAPTER_MERCHANTS": "acme",
        "CATALOG_WEBHOOK_SECRET": SECRET,
        "ADAPTER_STATE_DB": str(tmp_path / "state.db"),
        **variables,
    }.items():
        monkeypatch.setenv(name, value)
    service = importlib.import_module(module)
    assert service.processor_from_env().declaration is DeclarationState.PENDING

    with TestClient(service.webhook()) as client:
        assert client.get("/health").json() == {"status": "ok", "channel": channel}
        assert client.post("/events", content=b"{}").status_code == 401
    assert (tmp_path / "state.db").exists()
    assert service.handler({"Records": []}, None) == {"batchItemFailures": []}


def catalog_token(**claims: object) -> str:
    """A JWT shaped like `catalog token`'s (the signature is the catalog's business)."""

    def part(document: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'sub': 'channel:shop', **claims})}.signature"


BASE = {"CATALOG_API_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize(
    ("merchants", "expected"),
    [
        (["acme", "globex"], {"acme", "globex"}),
        (["*"], {"*"}),
        ("[acme globex]", {"acme", "globex"}),
    ],
    ids=["list", "every", "api-gateway-string"],
)
def test_the_scope_defaults_to_the_tokens_merchants_claim(merchants, expected):
    token = catalog_token(roles=["channel:shop"], merchants=merchants)
    settings = KitSettings.from_env({**BASE, "CATALOG_CHANNEL_TOKEN": token})
    assert settings.merchants == MerchantScope(frozenset(expected))


def test_adapter_merchants_names_the_scope_explicitly():
    token = catalog_token(merchants=["*"])
    env = {**BASE, "CATALOG_CHANNEL_TOKEN": token, "ADAPTER_MERCHANTS": "acme, globex"}
    assert KitSettings.from_env(env).merchants == MerchantScope.of(["acme", "globex"])


@pytest.mark.parametrize(
    "token",
    [catalog_token(roles=["channel:shop"]), "an-opaque-token", "a.b%.c"],
    ids=["no-claim", "opaque", "not-base64"],
)
def test_without_a_scope_to_read_the_adapter_refuses_to_start(token):
    with pytest.raises(RuntimeError, match="set ADAPTER_MERCHANTS"):
        KitSettings.from_env({**BASE, "CATALOG_CHANNEL_TOKEN": token})


def test_an_empty_adapter_merchants_is_no_scope_at_all():
    env = {**BASE, "CATALOG_CHANNEL_TOKEN": "t", "ADAPTER_MERCHANTS": " , "}
    with pytest.raises(RuntimeError, match="ADAPTER_MERCHANTS: a scope names at least one"):
        KitSettings.from_env(env)
