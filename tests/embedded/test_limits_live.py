"""The limits of issue 10 on a live `catalog serve` (uvicorn, h11): the app's own 431 and 429
problem documents are what a client gets over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from catalog.entrypoints.api.header_limit import MAX_REQUEST_HEADER_BYTES
from tests.embedded.test_cli import catalog_serve


def test_headers_over_the_documented_limit_get_the_apps_431(tmp_path: Path) -> None:
    with catalog_serve(tmp_path / ".catalog") as url:
        fits = httpx.get(f"{url}/health", headers={"x-padding": "a" * 7000})
        assert fits.status_code == 200
        # Past our limit, within what uvicorn's parser takes: our problem document.
        refused = httpx.get(f"{url}/health", headers={"x-padding": "a" * 12_000})
        assert refused.status_code == 431
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["limit"] == MAX_REQUEST_HEADER_BYTES
        assert refused.headers["x-content-type-options"] == "nosniff"


def test_a_caller_past_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    with catalog_serve(tmp_path / ".catalog", {"CATALOG_RATE_LIMIT": "3/m"}) as url:
        # catalog_serve's own start-up check asked /health until it answered: at least once.
        answers = [httpx.get(f"{url}/health") for _ in range(3)]
        refused = answers[-1]
        assert [a.status_code for a in answers[:-1]].count(200) >= 1
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "/problems/rate-limited"
        # 3 a minute: one every 20 s.
        assert 1 <= int(refused.headers["retry-after"]) <= 20
