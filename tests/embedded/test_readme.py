"""The README's curl session, run as written with bash against a live `catalog serve`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from catalog.bootstrap import local_tokens
from catalog.settings import Settings
from tests.embedded.test_cli import catalog_serve

README = Path(__file__).resolve().parents[2] / "README.md"
README_BASE_URL = "http://127.0.0.1:8000"


def readme_session() -> str:
    blocks = re.findall(r"^```bash\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "the README has one bash block: the curl session"
    assert README_BASE_URL in blocks[0]
    return str(blocks[0])


def test_the_readme_session_runs_as_written_and_ends_with_an_inactive_product(tmp_path):
    # The session runs from the repository's folder: .venv/bin/... and .catalog/ beside it.
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    data_dir = tmp_path / ".catalog"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}

    with catalog_serve(data_dir) as url:
        run = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + readme_session().replace(README_BASE_URL, url)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr

        token = local_tokens(Settings(data_dir=data_dir)).issue("acme", ["merchant"])
        acme = httpx.Client(
            base_url=f"{url}/v1/merchants/acme", headers={"Authorization": f"Bearer {token}"}
        )
        products = {p["sku"]: p for p in acme.get("/products").json()["items"]}
        product, shirt = products.pop("TS-1"), products.pop("SH-1")
        history = acme.get(f"/products/{product['id']}/history").json()["items"]
        found = acme.get("/skus/SH-1-L").json()

    assert products == {}
    assert [(v["sku"], v["stock"]) for v in shirt["variants"]] == [("SH-1-M", 5), ("SH-1-L", 2)]
    assert found == {
        "sku": "SH-1-L",
        "product_id": shirt["id"],
        "variant_id": shirt["variants"][1]["id"],
    }

    assert product["sku"] == "TS-1"
    assert product["status"] == "INACTIVE"
    assert product["listings"]["mercadolibre"]["state"] == "UNPUBLISHED"
    assert product["attributes"] == {"color": "red", "width": "wide"}  # the merge patch
    assert len(product["images"]) == 1
    assert [entry["version"] for entry in history] == list(range(product["version"], 0, -1))
    transitions = [
        (entry["transition"]["from"], entry["transition"]["to"])
        for entry in reversed(history)
        if entry["transition"]
    ]
    assert transitions == [
        (None, "DRAFT"),
        ("DRAFT", "READY"),
        ("READY", "ACTIVE"),
        ("ACTIVE", "INACTIVE"),
    ]
    # The adapter's reports are credited to the channel, the rest to the merchant's user.
    assert {entry["actor"] for entry in history} == {"acme-user", "channel:mercadolibre"}
    assert f'"id":"{product["id"]}"' in run.stdout.replace(" ", "")
