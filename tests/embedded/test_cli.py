"""The `catalog` command as a user runs it: serve (a real process), token, events."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from catalog.bootstrap import local_tokens
from catalog.entrypoints.cli import app
from catalog.service.principals import Principal
from catalog.settings import Settings
from tests.embedded.conftest import wait_until

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def catalog_serve(data_dir: Path, settings: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    env.update(settings or {})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "catalog.entrypoints.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=0.5).status_code == 200
        except httpx.TransportError:
            return process.poll() is not None  # stop waiting if it died

    try:
        assert wait_until(healthy, timeout=30), "catalog serve did not start"
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)


def test_serve_creates_its_data_folder_and_keeps_data_across_restarts(tmp_path):
    data_dir = tmp_path / "fresh" / ".catalog"

    with catalog_serve(data_dir) as url:
        token = runner.invoke(app, ["token", "--merchant", "acme", "--data-dir", str(data_dir)])
        headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
        created = httpx.post(
            f"{url}/v1/merchants/acme/products",
            headers=headers,
            json={"sku": "KEEP-1", "name": "Kept"},
        )
        assert created.status_code == 201, created.text

    assert (data_dir / "catalog.db").exists()
    with catalog_serve(data_dir) as url:
        listed = httpx.get(f"{url}/v1/merchants/acme/products", headers=headers)
        assert wait_until(lambda: (data_dir / "events.jsonl").exists())

    assert [item["sku"] for item in listed.json()["items"]] == ["KEEP-1"]
    events = runner.invoke(app, ["events", "--data-dir", str(data_dir)])
    assert events.exit_code == 0
    assert '"type":"ProductCreated"' in events.stdout.replace(" ", "")


def test_token_carries_the_merchant_and_roles_and_verifies_with_the_folder_secret(tmp_path):
    result = runner.invoke(
        app,
        [
            "token",
            "--merchant",
            "acme",
            "--role",
            "platform",
            "--subject",
            "ops",
            "--data-dir",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 0
    principal = local_tokens(Settings(data_dir=tmp_path)).verify(result.stdout.strip())
    assert principal.merchant_id == "acme"
    assert principal.subject == "ops"
    assert principal.roles == frozenset({"platform"})


def test_webhook_secret_is_printed_in_standard_webhooks_form(tmp_path):
    result = runner.invoke(app, ["webhook-secret", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout.startswith("whsec_")


def test_version_prints_the_installed_package_version():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])

    assert result.exit_code == 0
    assert result.stdout.strip() == f"catalog {version('product-catalog')}"


def _help_of_every_command() -> dict[str, str]:
    helps: dict[str, str] = {}

    def walk(path: list[str]) -> None:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        helps[" ".join(["catalog", *path])] = result.output
        click_command = typer.main.get_command(app)
        for name in path:
            click_command = click_command.commands[name]  # type: ignore[attr-defined]
        for name in getattr(click_command, "commands", {}):
            walk([*path, name])

    walk([])
    return helps


def test_no_help_shows_a_python_type_label():
    helps = _help_of_every_command()

    assert {"catalog", "catalog token", "catalog serve", "catalog aws bootstrap"} <= set(helps)
    for command, text in helps.items():
        assert not re.search(r"<(bool|str|int|float|path|list\[[a-z]+\])>", text), (command, text)


def test_options_that_take_a_value_show_what_the_value_is():
    token_help = runner.invoke(app, ["token", "--help"], env={"COLUMNS": "200"}).output

    assert re.search(r"--ttl\s+SECONDS", token_help)
    assert re.search(r"--role\s+ROLE", token_help)
    assert re.search(r"--data-dir\s+PATH", token_help)
    assert re.search(r"--merchant\s+MERCHANT", token_help)


def test_an_option_with_fixed_values_shows_them():
    relay_help = runner.invoke(app, ["aws", "relay", "--help"], env={"COLUMNS": "200"}).output

    assert re.search(r"--from\s+TRIM_HORIZON\|LATEST\s", relay_help), relay_help


@pytest.mark.parametrize("role", ["admin", "channel:", "channel:X", "channel:a", "merchants", ""])
def test_token_refuses_a_role_outside_the_allowed_forms(tmp_path, role):
    result = runner.invoke(
        app, ["token", "--merchant", "acme", "--role", role, "--data-dir", str(tmp_path)]
    )

    assert result.exit_code == 2  # a usage error, no token printed
    message = " ".join(result.output.replace("│", " ").split())  # unwrap the error panel
    assert f"{role!r} is not a role: use merchant, platform or channel:<slug>" in message
    assert "eyJ" not in result.output


@pytest.mark.parametrize("role", ["merchant", "platform", "channel:mercadolibre", "channel:a-1"])
def test_token_accepts_the_allowed_roles(tmp_path, role):
    result = runner.invoke(
        app, ["token", "--merchant", "acme", "--role", role, "--data-dir", str(tmp_path)]
    )

    assert result.exit_code == 0, result.output
    principal = local_tokens(Settings(data_dir=tmp_path)).verify(result.stdout.strip())
    assert principal.roles == frozenset({role})


def test_a_channel_token_acts_as_the_channel_and_a_merchant_token_as_the_merchant_user(tmp_path):
    def subject(*args: str) -> str:
        result = runner.invoke(
            app, ["token", "--merchant", "acme", *args, "--data-dir", str(tmp_path)]
        )
        assert result.exit_code == 0, result.output
        return local_tokens(Settings(data_dir=tmp_path)).verify(result.stdout.strip()).subject

    assert subject("--role", "channel:mercadolibre") == "channel:mercadolibre"
    assert subject() == "acme-user"
    assert subject("--role", "channel:meta", "--subject", "meta-bot") == "meta-bot"


def _issued(tmp_path: Path, *args: str) -> tuple[Principal, str]:
    """The principal of the token `catalog token ARGS` prints, and what it said on stderr."""
    result = runner.invoke(app, ["token", *args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "\n" not in token  # stdout is the token alone, for TOKEN=$(catalog token ...)
    return local_tokens(Settings(data_dir=tmp_path)).verify(token), result.stderr


@pytest.mark.parametrize(
    "merchants",
    [["--merchant", "acme", "--merchant", "globex"], ["--merchant", "acme,globex"]],
    ids=["repeated", "comma-separated"],
)
def test_a_channel_token_is_scoped_to_the_merchants_named(
    tmp_path: Path, merchants: list[str]
) -> None:
    principal, said = _issued(tmp_path, *merchants, "--role", "channel:meta")

    assert principal.channel_merchants == frozenset({"acme", "globex"})
    assert principal.can_report("globex", "meta") and not principal.can_read("initech")
    assert "channel:meta: reads the products of merchants acme, globex" in said
    assert "ALL" not in said


def test_a_channel_token_for_every_merchant_takes_an_explicit_flag_and_says_so(
    tmp_path: Path,
) -> None:
    principal, said = _issued(tmp_path, "--all-merchants", "--role", "channel:meta")

    assert principal.channel_merchants == frozenset({"*"})
    assert principal.can_read("initech") and not principal.can_write("initech")
    assert "reads the products of ALL merchants (*)" in said


def test_a_platform_token_needs_no_merchant(tmp_path: Path) -> None:
    principal, said = _issued(tmp_path, "--role", "platform")

    assert principal.is_platform and principal.merchant_id is None
    assert principal.subject == "platform-operator"
    assert "platform: reads and changes the products of every merchant" in said


def test_a_merchant_token_says_whose_products_it_changes(tmp_path: Path) -> None:
    principal, said = _issued(tmp_path, "--merchant", "acme")

    assert principal.can_write("acme") and not principal.can_read("globex")
    assert "merchant: reads and changes the products of merchant acme" in said


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--role", "channel:meta"], "a channel token acts only for the merchants it names"),
        (["--merchant", "*", "--role", "channel:meta"], "(for every merchant: --all-merchants)"),
        (["--merchant", "Acme", "--role", "channel:meta"], "'Acme' is not a merchant id"),
        (["--all-merchants"], "give a --role channel:<slug>"),
        (["--all-merchants", "--role", "platform"], "give a --role channel:<slug>"),
        (
            ["--all-merchants", "--merchant", "acme", "--role", "channel:meta"],
            "either --merchant or --all-merchants, not both",
        ),
        (["--merchant", "acme,globex"], "a merchant token acts for exactly one merchant"),
        ([], "a merchant token acts for exactly one merchant"),
        (
            ["--merchant", "acme", "--merchant", "globex", "--role", "platform"],
            "only a --role channel:<slug> token takes more than one --merchant",
        ),
    ],
    ids=[
        "channel-without-scope",
        "star-as-a-merchant",
        "not-a-merchant-id",
        "all-merchants-without-channel",
        "all-merchants-for-platform",
        "both-scopes",
        "merchant-token-for-two",
        "merchant-token-for-none",
        "platform-with-two",
    ],
)
def test_token_refuses_a_scope_that_does_not_fit_its_roles(
    tmp_path: Path, args: list[str], reason: str
) -> None:
    result = runner.invoke(app, ["token", *args, "--data-dir", str(tmp_path)])

    assert result.exit_code == 2  # a usage error, no token printed
    message = " ".join(result.output.replace("│", " ").split())  # unwrap the error panel
    assert reason in message
    assert "eyJ" not in result.output


@pytest.mark.parametrize(
    ("level", "access_log"), [("info", True), ("debug", True), ("warning", False), ("error", False)]
)
def test_serve_logs_each_request_only_at_a_level_that_shows_it(
    tmp_path, monkeypatch, level, access_log
):
    """Below INFO uvicorn would build every request's access line only to drop it."""
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path), "--log-level", level])
    assert result.exit_code == 0, result.output
    assert (seen["log_level"], seen["access_log"]) == (level, access_log)
