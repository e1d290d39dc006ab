"""A live embedded server on 127.0.0.1 and a Python client generated from its OpenAPI document
with openapi-python-client, the way an integrator would make one."""

from __future__ import annotations

import importlib
import json
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import uvicorn

from catalog.bootstrap import build_container, local_tokens
from catalog.entrypoints.api.app import create_app
from catalog.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Installed by `make test` (the check-template prerequisite) from deploy/requirements-tools.lock.
GENERATOR = ROOT / ".venv-tools" / "bin" / "openapi-python-client"
PACKAGE = "catalog_client"


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings

    def token(self, merchant: str = "acme", role: str = "merchant") -> str:
        channel = role.startswith("channel:")
        return local_tokens(self.settings).issue(
            merchant,
            [role],
            subject=role if channel else None,
            merchants=[merchant] if channel else [],
        )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("client-server"), public_url=url, relay_poll_seconds=0.05
    )
    app = create_app(build_container(settings))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        ready = threading.Event()
        while not server.started and thread.is_alive():
            ready.wait(0.02)
        assert server.started, "the embedded server did not start"
        yield LiveServer(url, settings)
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


@dataclass(frozen=True)
class GeneratedClient:
    package: ModuleType
    output: str


@pytest.fixture(scope="module")
def generator() -> Path:
    if not GENERATOR.exists():
        pytest.fail(
            f"openapi-python-client is not installed at {GENERATOR}: run `make test`, which "
            "installs it (deploy/requirements-tools.lock) before running the tests",
            pytrace=False,
        )
    return GENERATOR


@pytest.fixture(scope="module")
def generated(
    generator: Path, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeneratedClient]:
    folder = tmp_path_factory.mktemp("generated-client")
    with urllib.request.urlopen(f"{live_server.url}/openapi.json", timeout=10) as response:
        document = json.load(response)
    (folder / "openapi.json").write_text(json.dumps(document))
    # No post hooks: formatting the output with ruff is the integrator's business.
    # As docs/api.md tells integrators: an import's file types are bytes to the generator.
    overrides = (
        "content_type_overrides:\n"
        "  application/x-ndjson: application/octet-stream\n"
        "  text/csv: application/octet-stream\n"
    )
    config = f"post_hooks: []\npackage_name_override: {PACKAGE}\n{overrides}"
    (folder / "config.yaml").write_text(config)
    run = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(folder))
    try:
        yield GeneratedClient(importlib.import_module(PACKAGE), output)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]
