"""`catalog serve` takes its port from CATALOG_PORT (what `make run PORT=...` relies on too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.entrypoints.cli import app


def test_catalog_port_sets_the_port_and_the_public_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: dict[str, Any] = {}

    def run(application: Any, **options: Any) -> None:
        served.update(options, public_url=application.state.container.settings.public_url)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.delenv("CATALOG_PUBLIC_URL", raising=False)
    monkeypatch.delenv("CATALOG_BACKEND", raising=False)
    monkeypatch.setenv("CATALOG_PORT", "8123")

    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert served["port"] == 8123
    assert served["public_url"] == "http://127.0.0.1:8123"
