"""Settings read CATALOG_* variables as pydantic-settings did, without importing it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from catalog.settings import Settings


def test_variables_in_any_case_under_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_BACKEND", "aws")
    monkeypatch.setenv("catalog_table_name", "products")
    monkeypatch.setenv("CATALOG_DATA_DIR", "/from/env")
    monkeypatch.setenv("CATALOG_NOT_A_SETTING", "ignored")
    settings = Settings(data_dir=Path("/given"))
    assert (settings.backend, settings.table_name, settings.data_dir) == (
        "aws",
        "products",
        Path("/given"),
    )
    assert settings.model_fields_set == {"backend", "table_name", "data_dir"}


def test_values_are_validated_as_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_WEBHOOK_URLS", "http://a.test/h, http://b.test/h,")
    monkeypatch.setenv("CATALOG_RELAY_POLL_SECONDS", "1.5")
    settings = Settings()
    assert settings.webhook_urls == ["http://a.test/h", "http://b.test/h"]
    assert settings.relay_poll_seconds == 1.5
    monkeypatch.setenv("CATALOG_WEBHOOK_MAX_ATTEMPTS", "0")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert [error["loc"] for error in refused.value.errors()] == [("webhook_max_attempts",)]
