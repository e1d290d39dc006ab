"""The jobs page: an import started from a file, its progress bar filling in live without a
reload, its bad rows at their lines, its products in the list; an export and its Download;
cancelling a job that waits its turn; a file whose format cannot be told; a file past the
inline limit, uploaded with a ticket; a deployment that runs no jobs."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from catalog.adapters.local_tokens import LocalTokens
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app
from catalog.entrypoints.console.sessions import SESSION_COOKIE, Sessions
from catalog.service.commands import RegisterProduct
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.products import register_product
from catalog.settings import Settings
from tests.console.conftest import LiveServer
from tests.embedded.conftest import wait_until
from tests.principals import ALICE

ROWS = 300
BAD_LINES = (57, 211)


def product_rows(count: int, prefix: str = "IMP") -> list[dict[str, Any]]:
    return [
        {
            "sku": f"{prefix}-{n:03}",
            "name": f"Imported product {n}",
            "price": {"amount": 1000 + n, "currency": "USD"},
        }
        for n in range(1, count + 1)
    ]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@contextmanager
def busy_worker(server: LiveServer, rows: int = 3000) -> Iterator[None]:
    """Keeps the server's one job worker busy with another merchant's import, so that the
    jobs a test starts wait their turn QUEUED: their page is seen before they run. The
    import is cancelled on the way out."""
    token = server.token("--merchant", "busy-neighbour")
    api = httpx.Client(
        base_url=f"{server.url}/v1/merchants/busy-neighbour",
        headers={"Authorization": f"Bearer {token}"},
    )
    content = "".join(json.dumps(row) + "\n" for row in product_rows(rows, "BUSY"))
    started = api.post(
        "/imports",
        content=content.encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    try:
        yield
    finally:
        api.post(f"/jobs/{job_id}/cancel")

        def finished() -> bool:
            return api.get(f"/jobs/{job_id}").json()["status"] in ("CANCELLED", "SUCCEEDED")

        assert wait_until(finished, timeout=30)
        api.close()


def open_jobs(page: Page) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()


def start_import(page: Page, file: Path, file_format: str = "") -> None:
    form = page.get_by_role("form", name="Import products")
    form.get_by_label("File").set_input_files(str(file))
    if file_format:
        form.get_by_label("Format").select_option(file_format)
    form.get_by_role("button", name="Start import").click()


def test_an_import_fills_its_progress_bar_live_and_shows_its_bad_rows(
    signed_in: Page, server: LiveServer, tmp_path: Path, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    rows: list[dict[str, Any]] = product_rows(ROWS)
    rows[BAD_LINES[0] - 1] = {"sku": "IMP-BAD-1", "price": {"amount": 500, "currency": "USD"}}
    rows[BAD_LINES[1] - 1] = {"sku": "IMP-BAD-2", "name": "Bad price", "price": {"amount": -5}}
    file = write_jsonl(tmp_path / "products.jsonl", rows)
    open_jobs(page)

    with busy_worker(server):
        start_import(page, file)
        page.wait_for_url(re.compile(r"/console/jobs/[0-9A-Z]{26}$"))
        expect(page.get_by_role("heading", name="Import (JSONL)")).to_be_visible()
        # Waiting its turn: the page polls its progress, and offers to cancel.
        live = page.locator("#job-live")
        expect(live).to_have_attribute("hx-trigger", "every 1s")
        expect(live.locator(".badge")).to_have_text("QUEUED")
        expect(page.get_by_role("button", name="Cancel")).to_be_visible()
        page.evaluate("window.sameDocument = true")  # gone if the page were loaded again

    bar = page.get_by_role("progressbar")
    expect(live.locator(".badge")).to_have_text("SUCCEEDED", timeout=30_000)
    expect(bar).to_have_attribute("value", str(ROWS))
    expect(bar).to_have_attribute("max", str(ROWS))
    expect(page.locator("#job-rows")).to_contain_text(f"{ROWS} of {ROWS} rows")
    assert page.evaluate("window.sameDocument") is True
    # Finished: polling stops, Cancel goes, and screen readers hear the outcome.
    expect(live).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.locator("#job-announce")).to_have_text(
        f"Import succeeded: {ROWS} of {ROWS} rows, 2 failed."
    )
    counters = page.locator(".counters")
    expect(counters).to_contain_text(f"Created{ROWS - 2}")
    expect(counters).to_contain_text("Failed2")

    errors = page.get_by_role("table", name="Rows that failed, by line of the file")
    first, second = errors.locator("tbody tr").all()
    expect(first).to_contain_text(str(BAD_LINES[0]))
    expect(first).to_contain_text("IMP-BAD-1")
    expect(first).to_contain_text("/name")
    expect(second).to_contain_text(str(BAD_LINES[1]))
    expect(second).to_contain_text("/price")
    shoot(page, "import-progress")

    # Every error, as JSON lines, with the page's own session.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="All 2 errors (JSON lines)").click()
    lines = Path(download_info.value.path()).read_text().splitlines()
    assert [json.loads(line)["line"] for line in lines] == list(BAD_LINES)

    page.get_by_role("link", name="Products").first.click()
    page.get_by_label("SKU lookup").fill("IMP-123")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name="Imported product 123")).to_be_visible()
    page.get_by_role("link", name="Products").first.click()
    expect(page.get_by_role("row").filter(has_text="IMP-")).to_have_count(25)

    open_jobs(page)
    job_rows = page.get_by_role("table", name="Jobs, newest first").locator("tbody tr")
    expect(job_rows).to_have_count(1)
    expect(job_rows.first).to_contain_text("SUCCEEDED")
    expect(job_rows.first).to_contain_text(f"{ROWS} of {ROWS}")
    shoot(page, "jobs")


def test_an_export_started_from_the_console_is_downloaded(signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    open_jobs(page)
    start_import(page, write_jsonl(tmp_path / "three.jsonl", product_rows(3, "EXP")))
    expect(page.locator("#job-live .badge")).to_have_text("SUCCEEDED")

    open_jobs(page)
    form = page.get_by_role("form", name="Export products")
    form.get_by_label("Format").select_option("csv")
    form.get_by_label("Status").select_option("DRAFT")
    form.get_by_role("button", name="Start export").click()
    expect(page.get_by_role("heading", name="Export (CSV)")).to_be_visible()
    expect(page.locator(".meta")).to_contain_text("status DRAFT")
    download = page.get_by_role("link", name="Download")
    expect(download).to_be_visible()
    expect(page.locator("#job-rows")).to_contain_text("3 of 3 rows")

    # A signed URL: it needs neither the session nor a token.
    url = download.get_attribute("href")
    assert url is not None
    fetched = httpx.get(url)
    assert fetched.status_code == 200, fetched.text
    exported = list(csv.DictReader(io.StringIO(fetched.text)))
    assert [row["sku"] for row in exported] == ["EXP-001", "EXP-002", "EXP-003"]
    assert exported[0]["name"] == "Imported product 1"
    assert exported[0]["price"] == "10.01"


def test_a_job_waiting_its_turn_is_cancelled(
    signed_in: Page, server: LiveServer, tmp_path: Path
) -> None:
    page = signed_in
    open_jobs(page)
    with busy_worker(server):
        start_import(page, write_jsonl(tmp_path / "some.jsonl", product_rows(5, "CAN")))
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_role("status").first).to_have_text(
            "Cancellation requested: the job stops after the rows it is writing."
        )
        expect(page.locator("#job-live .badge")).to_have_text("CANCELLED")
        expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
        expect(page.locator("#job-live")).not_to_have_attribute("hx-trigger", re.compile(".*"))


def test_a_file_whose_format_cannot_be_told_is_refused_at_its_input(
    signed_in: Page, tmp_path: Path
) -> None:
    page = signed_in
    open_jobs(page)
    file = write_jsonl(tmp_path / "products.txt", product_rows(2, "TXT"))
    start_import(page, file)
    form = page.get_by_role("form", name="Import products")
    expect(form.get_by_label("Format")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#e-format")).to_have_text(
        "Format cannot be told from the file's name: choose JSONL or CSV"
    )
    expect(page.get_by_role("table", name="Jobs, newest first")).to_have_count(0)

    # Told the format, the same file imports.
    start_import(page, file, file_format="jsonl")
    expect(page.locator("#job-live .badge")).to_have_text("SUCCEEDED")
    expect(page.locator("#job-rows")).to_contain_text("2 of 2 rows")


def test_a_file_over_the_inline_limit_is_uploaded_straight_to_storage(
    signed_in: Page, tmp_path: Path
) -> None:
    page = signed_in
    # Past 10 MB: three products, and ten lines over the 1 MiB a row may take.
    too_long = "x" * (1024 * 1024)
    lines = [json.dumps(row) for row in product_rows(3, "BIG")]
    lines += [json.dumps({"sku": f"LONG-{n}", "description": too_long}) for n in range(10)]
    file = tmp_path / "large.jsonl"
    file.write_text("\n".join(lines) + "\n")
    assert file.stat().st_size > 10 * 1024 * 1024
    open_jobs(page)
    # The file goes to the upload ticket's URL (the embedded server's POST /assets).
    with page.expect_request(re.compile(r"/assets$")) as upload:
        start_import(page, file)
    assert upload.value.method == "POST"
    page.wait_for_url(re.compile(r"/console/jobs/[0-9A-Z]{26}$"))
    expect(page.locator("#job-live .badge")).to_have_text("SUCCEEDED")
    counters = page.locator(".counters")
    expect(counters).to_contain_text("Created3")
    expect(counters).to_contain_text("Failed10")
    errors = page.get_by_role("table", name="Rows that failed, by line of the file")
    expect(errors.locator("tbody tr").first.locator("td").first).to_have_text("4")


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 3, tzinfo=UTC)


def test_a_deployment_without_jobs_says_so(tmp_path: Path) -> None:
    """AWS without CATALOG_JOBS_QUEUE_URL: the container has no jobs (in-process, no browser:
    the live server always runs them)."""
    ctx = CatalogContext(
        store=MemoryStore(),
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=FixedClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"console-tests-cursor-secret"),
    )
    key = b"console-tests-key-0123456789abcdef"
    container = Container(
        settings=Settings(data_dir=tmp_path, rate_limit=None),
        ctx=ctx,
        tokens=LocalTokens(b"console-tests-signing-key-0123456789"),
        jobs=None,
        console_key=key,
    )
    cookie, session = Sessions(key).open(ALICE)
    with TestClient(create_app(container)) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        page = client.get("/console/jobs")
        assert page.status_code == 404
        assert "This deployment runs no jobs" in page.text
        assert "Start import" not in page.text
        job = client.get("/console/jobs/01JE0000000000000000000000")
        assert job.status_code == 404
        refused = client.post(
            "/console/jobs/exports", data={"csrf_token": session.csrf_token, "format": "jsonl"}
        )
        assert refused.status_code == 404
        assert "This deployment runs no jobs" in refused.text
        # Nor bulk actions: the product list offers none, and one posted starts nothing.
        mug = RegisterProduct.from_json(ALICE.merchant_id or "", {"sku": "MUG-0", "name": "Mug"})
        register_product(ctx, ALICE, mug)
        listed = client.get("/console/products").text
        assert "MUG-0" in listed
        assert "Bulk action" not in listed
        bulk = client.post(
            "/console/bulk-actions",
            data={"csrf_token": session.csrf_token, "bulk.action": "deactivate"},
        )
        assert bulk.status_code == 404
        assert "This deployment runs no jobs" in bulk.text
