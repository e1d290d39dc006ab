"""The console in a real browser: Debian's Chromium driven by Playwright, against a live
`catalog serve` on a temporary data folder (the embedded deployment `make run` starts).

One server per test module; each test signs in as a merchant of its own, so tests share
nothing but the process. `catalog console --merchant M` prints the sign-in link, as a person
would get it. Screenshots: every test may call `shoot(page, name)`; with
CATALOG_SCREENSHOTS_DIR set (`make screenshots`), they are written there for docs/console.md.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.embedded.test_import_live import catalog, serving

VIEWPORT = {"width": 1280, "height": 860}
_merchants = itertools.count(1)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "the console's browser tests need Chromium: apt-get install -y chromium "
            "(.ci/run and `make test` install it when they can)"
        )
    return path


# Module scope, not session: while Playwright runs, its event loop is the thread's running
# loop, and any other test in the same worker that runs a loop of its own (Mangum's Lambda
# handler does) would fail with "This event loop is already running".
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=chromium_path(),
        # As root (CI), Chromium's sandbox cannot start; the pages are our own.
        args=["--no-sandbox", "--disable-dev-shm-usage"],
    )
    yield browser
    browser.close()


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path

    def sign_in_link(self, merchant_id: str) -> str:
        result = catalog(
            "console", "--merchant", merchant_id, "--url", self.url, data_dir=self.data_dir
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def token(self, *args: str) -> str:
        result = catalog("token", *args, data_dir=self.data_dir)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("console-data")
    with serving(data_dir) as (url, _process):
        yield LiveServer(url, data_dir)


@pytest.fixture
def merchant_id() -> str:
    """A merchant of this test's own (worker and counter make it unique in the run)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return f"shop-{worker}-{next(_merchants)}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Page, server: LiveServer, merchant_id: str) -> None:
    page.goto(server.sign_in_link(merchant_id))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/products")


@pytest.fixture
def signed_in(page: Page, server: LiveServer, merchant_id: str) -> Page:
    """A browser page signed in as `merchant_id`, on the product list."""
    sign_in(page, server, merchant_id)
    return page


@pytest.fixture
def shoot(tmp_path: Path) -> Callable[[Page, str], Path]:
    """Screenshot a page: always into the test's folder (the test may look at it), and into
    CATALOG_SCREENSHOTS_DIR when set, as <name>.png."""

    def take(page: Page, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        wanted = os.environ.get("CATALOG_SCREENSHOTS_DIR")
        if wanted:
            Path(wanted).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(wanted) / f"{name}.png")
        return path

    return take
