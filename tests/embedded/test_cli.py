"""The `catalog` command as a user runs it: serve (a real process), token, events."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from typer.testing import CliRunner

from catalog.bootstrap import local_tokens
from catalog.entrypoints.cli import app
from catalog.settings import Settings
from tests.embedded.conftest import wait_until

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def catalog_serve(data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
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
