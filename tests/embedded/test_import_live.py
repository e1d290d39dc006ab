"""Imports on a live `catalog serve`: `catalog import` follows the job with its progress and
summary, and a server killed with SIGKILL mid-import resumes the job when it starts again,
every row applied exactly once (one product, one ProductCreated each; one JobFinished)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from catalog.bootstrap import local_tokens
from catalog.settings import Settings
from tests.embedded.conftest import read_event_log, wait_until
from tests.embedded.test_cli import free_port


@contextmanager
def serving(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    # Signed URLs (an export's download_url) name the server where it really listens.
    env["CATALOG_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "catalog.entrypoints.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=0.5).status_code == 200
        except httpx.TransportError:
            return process.poll() is not None

    try:
        assert wait_until(healthy, timeout=30), "catalog serve did not start"
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)


def catalog(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    return subprocess.run(
        [sys.executable, "-m", "catalog.entrypoints.cli", *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def acme(url: str, data_dir: Path) -> httpx.Client:
    token = local_tokens(Settings(data_dir=data_dir)).issue("acme", ["merchant"])
    return httpx.Client(
        base_url=f"{url}/v1/merchants/acme", headers={"Authorization": f"Bearer {token}"}
    )


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_catalog_import_follows_its_job_and_reports_the_bad_rows(tmp_path: Path) -> None:
    data_dir = tmp_path / ".catalog"
    rows = [{"sku": f"P{n}", "name": f"Product {n}"} for n in range(50)]
    rows[9] = {"sku": "P9"}  # line 10: no name
    file = write_rows(tmp_path / "products.jsonl", rows)
    with serving(data_dir) as (url, _):
        run = catalog("import", str(file), "--merchant", "acme", "--url", url, data_dir=data_dir)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "SUCCEEDED: 49 created, 0 updated, 0 unchanged, 1 failed" in run.stdout
        assert "line 10 (P9): /name: is required" in run.stdout
        assert "/errors" in run.stdout
        assert "50/50" in run.stderr  # the progress bar's last state

        # Through an upload ticket: the embedded server's POST /assets streams it to disk.
        uploaded = catalog(
            "import", str(file), "--merchant", "acme", "--url", url, "--upload", data_dir=data_dir
        )
        assert uploaded.returncode == 2, uploaded.stdout + uploaded.stderr
        assert "SUCCEEDED: 0 created, 0 updated, 49 unchanged, 1 failed" in uploaded.stdout

        again = catalog(
            "import", str(file), "--merchant", "acme", "--url", url, "--no-wait", data_dir=data_dir
        )
        assert again.returncode == 0, again.stderr
        job_id = again.stdout.strip()
        client = acme(url, data_dir)
        assert wait_until(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "SUCCEEDED")
        assert client.get(f"/jobs/{job_id}").json()["unchanged"] == 49
        listed = catalog("jobs", "--merchant", "acme", "--url", url, data_dir=data_dir)
        assert listed.returncode == 0, listed.stderr
        assert job_id in listed.stdout and listed.stdout.count("SUCCEEDED") == 3

        for name in ("export.jsonl", "export.csv"):
            out = tmp_path / name
            exported = catalog(
                "export", "--merchant", "acme", "--out", str(out), "--url", url, data_dir=data_dir
            )
            assert exported.returncode == 0, exported.stdout + exported.stderr
            assert f"49 products written to {out}" in exported.stdout
            back = catalog(
                "import", str(out), "--merchant", "acme", "--url", url, data_dir=data_dir
            )
            assert back.returncode == 0, back.stdout + back.stderr
            assert "SUCCEEDED: 0 created, 0 updated, 49 unchanged, 0 failed" in back.stdout


def test_a_server_killed_mid_import_resumes_the_job_and_applies_every_row_once(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / ".catalog"
    total = 4000
    rows = [
        {"sku": f"K{n:05}", "name": f"Product {n}", "attributes": {"n": n}} for n in range(total)
    ]
    content = "".join(json.dumps(row) + "\n" for row in rows)
    with serving(data_dir) as (url, process):
        client = acme(url, data_dir)
        started = client.post(
            "/imports", content=content, headers={"Content-Type": "application/x-ndjson"}
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]

        def some_rows_in() -> bool:
            return client.get(f"/jobs/{job_id}").json()["processed"] > 0

        assert wait_until(some_rows_in, timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)
    with serving(data_dir) as (url, _):
        client = acme(url, data_dir)
        interrupted = client.get(f"/jobs/{job_id}").json()
        assert interrupted["processed"] < total, "the kill came too late to test a resume"

        def finished() -> bool:
            return client.get(f"/jobs/{job_id}").json()["status"] == "SUCCEEDED"

        assert wait_until(finished, timeout=120)
        done = client.get(f"/jobs/{job_id}").json()
        assert (done["processed"], done["created"], done["failed"]) == (total, total, 0)
        skus: Counter[str] = Counter()
        cursor = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = client.get("/products", params=params).json()
            skus.update(product["sku"] for product in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(skus) == total and set(skus.values()) == {1}

        def relayed() -> bool:
            names = Counter(e["type"] for e in read_event_log(data_dir / "events.jsonl"))
            return names["JobFinished"] == 1 and names["ProductCreated"] >= total

        assert wait_until(relayed, timeout=60)
        events = read_event_log(data_dir / "events.jsonl")
        created = Counter(e["subject"] for e in events if e["type"] == "ProductCreated")
        assert len(created) == total and set(created.values()) == {1}
