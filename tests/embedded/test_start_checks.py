"""What the embedded server refuses to start with, as a user sees it from `catalog`: a secret
file others may read, and webhook targets the relay would not send to."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.adapters.embedded.secrets import SECRET_FILE
from catalog.bootstrap import ConfigurationError, build_container
from catalog.entrypoints.cli import app
from catalog.settings import Settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def embedded_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CATALOG_"):
            monkeypatch.delenv(name)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The apps `catalog serve` handed to uvicorn (none when it refused to start)."""
    import uvicorn

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: apps.append(application))
    yield apps
    for application in apps:
        application.state.container.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def serve(data_dir: Path) -> Any:
    return runner.invoke(app, ["serve", "--data-dir", str(data_dir)])


# ------------------------------------------------------------------ the secret file


def test_the_secret_file_is_created_for_its_owner_only_whatever_the_umask(data_dir: Path) -> None:
    previous = os.umask(0)  # nothing masked: the mode comes from the code alone
    try:
        build_container(Settings(data_dir=data_dir)).close()
    finally:
        os.umask(previous)

    assert mode(data_dir / SECRET_FILE) == 0o600


@pytest.mark.parametrize("exposed", [0o644, 0o640, 0o604, 0o620, 0o660])
@pytest.mark.parametrize(
    "command", [["serve"], ["token", "--merchant", "acme"], ["webhook-secret"]]
)
def test_a_secret_file_group_or_others_may_access_is_refused_with_the_fix(
    data_dir: Path, served: list[Any], exposed: int, command: list[str]
) -> None:
    build_container(Settings(data_dir=data_dir)).close()
    secret = data_dir / SECRET_FILE
    secret.chmod(exposed)

    result = runner.invoke(app, [*command, "--data-dir", str(data_dir)])

    assert result.exit_code == 2
    assert served == []
    assert result.stdout == ""  # no token, no secret
    assert result.stderr.startswith(
        f"catalog: {secret} is readable or writable by group or others (mode {exposed:04o})"
    )
    assert f"Fix it with `chmod 600 {secret}`" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("owner_only", [0o600, 0o400])
def test_a_secret_file_only_its_owner_may_read_is_accepted(
    data_dir: Path, served: list[Any], owner_only: int
) -> None:
    build_container(Settings(data_dir=data_dir)).close()
    (data_dir / SECRET_FILE).chmod(owner_only)

    result = serve(data_dir)

    assert result.exit_code == 0, result.output
    assert len(served) == 1


def test_the_refusal_is_a_configuration_error_for_any_composition(data_dir: Path) -> None:
    build_container(Settings(data_dir=data_dir)).close()
    (data_dir / SECRET_FILE).chmod(0o644)

    with pytest.raises(ConfigurationError, match="chmod 600"):
        build_container(Settings(data_dir=data_dir))


# ------------------------------------------------------------------ webhook targets


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.7/hooks", "10.0.0.7 is a private address"),
        ("https://169.254.169.254/latest", "169.254.169.254 is a cloud metadata address"),
        ("https://[fd00:ec2::254]/latest", "fd00:ec2::254 is a cloud metadata address"),
        ("http://hooks.example/catalog", "plain http: use https"),
        ("http://127.0.0.1:9000/hooks", "CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK=true"),
        # Resolved by the system: a name is judged by what it resolves to.
        ("https://localhost:9000/hooks", "localhost resolves to "),
    ],
)
def test_serve_refuses_a_webhook_target_naming_it_and_why(
    data_dir: Path,
    served: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    reason: str,
) -> None:
    monkeypatch.setenv("CATALOG_WEBHOOK_URLS", f"https://[2606:4700:4700::1111]/ok,{url}")

    result = serve(data_dir)

    assert result.exit_code == 2
    assert served == []
    assert result.stderr.startswith(f"catalog: CATALOG_WEBHOOK_URLS: webhook target {url} refused:")
    assert reason in result.stderr


def test_the_development_setting_admits_loopback_targets(
    data_dir: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_WEBHOOK_URLS", "http://127.0.0.1:9000/a,https://localhost:9001/b")
    monkeypatch.setenv("CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK", "true")

    result = serve(data_dir)

    assert result.exit_code == 0, result.output
    [served_app] = served
    assert served_app.state.container.settings.webhook_allow_http_loopback is True


def test_loopback_targets_are_refused_by_default() -> None:
    assert Settings().webhook_allow_http_loopback is False
