"""The API under test, built around a Container per test, once per backend.

Every API test goes through the `backend` fixture: adding a backend (SQLite, AWS against moto)
is one more entry in BACKENDS and the whole suite runs against it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from catalog.adapters.aws.dynamodb_jobs import DynamoDbJobStore
from catalog.adapters.embedded.sqlite_jobs import SqliteJobStore
from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.adapters.job_files import MemoryJobFiles
from catalog.adapters.local_tokens import LocalTokens
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.jobs import MemoryJobStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app
from catalog.service.context import CatalogContext, JobsContext
from catalog.service.cursors import CursorCodec
from catalog.service.jobs import run_job
from catalog.service.ports import JobStore
from catalog.settings import Settings
from tests.api.support import Api
from tests.aws.outbox_reader import DynamoDbStoreWithStreamOutbox
from tests.backends import BACKENDS, CatalogStore
from tests.clocks import SteppingClock

ASSET_BASE_URL = "https://cdn.example.test/catalog"
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogStore]:
    with BACKENDS[request.param](request, tmp_path) as store:
        yield store


@pytest.fixture
def assets() -> MemoryAssetStore:
    return MemoryAssetStore(ASSET_BASE_URL)


@pytest.fixture
def tokens() -> LocalTokens:
    return LocalTokens(b"api-tests-signing-key-0123456789abcdef")


@pytest.fixture
def container(
    backend: CatalogStore, assets: MemoryAssetStore, tokens: LocalTokens, tmp_path: Path
) -> Container:
    ctx = CatalogContext(
        store=backend,
        assets=assets,
        images=PillowImageInspector(),
        clock=SteppingClock(T0 + timedelta(seconds=1)),
        ids=UlidIds(),
        cursors=CursorCodec(b"api-tests-cursor-secret"),
    )
    # The limit per caller is off: its own tests (test_caller_limits.py) drive it with a clock
    # of their own; here it would make outcomes depend on how fast the machine is.
    settings = Settings(data_dir=tmp_path, rate_limit=None)
    return Container(settings=settings, ctx=ctx, tokens=tokens, jobs=jobs_for(backend, ctx))


class InlineJobQueue:
    """Runs each job as it is queued, inside the request that started it: an import's answer
    then shows the job finished (the embedded worker's thread is tested on its own)."""

    def __init__(self, ctx: CatalogContext) -> None:
        self.ctx = ctx
        self.jobs: JobsContext | None = None

    def enqueue(self, merchant_id: str, job_id: str) -> None:
        assert self.jobs is not None
        run_job(self.ctx, self.jobs, merchant_id, job_id)


def jobs_for(backend: CatalogStore, ctx: CatalogContext) -> JobsContext | None:
    store: JobStore
    if isinstance(backend, MemoryStore):
        store = MemoryJobStore(backend)
    elif isinstance(backend, SqliteStore):
        store = SqliteJobStore(backend)
    elif isinstance(backend, DynamoDbStoreWithStreamOutbox):
        store = DynamoDbJobStore(backend.store)
    else:
        return None
    queue = InlineJobQueue(ctx)
    queue.jobs = JobsContext(store, MemoryJobFiles(), queue)
    return queue.jobs


@pytest.fixture
def app(container: Container) -> FastAPI:
    return create_app(container)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass(frozen=True)
class Principals:
    """Bearer tokens for the roles the tests act as."""

    tokens: LocalTokens

    def merchant(self, merchant_id: str = "acme", subject: str | None = None) -> str:
        return self.tokens.issue(merchant_id, ["merchant"], subject=subject)

    def platform(self) -> str:
        return self.tokens.issue("platform-ops", ["platform"], subject="ops-admin")

    def channel(self, slug: str = "x", merchants: tuple[str, ...] = ("acme",)) -> str:
        """A channel adapter's token, acting for `merchants` (ALL_MERCHANTS: `("*",)`)."""
        return self.tokens.issue(
            None, [f"channel:{slug}"], subject=f"{slug}-adapter", merchants=merchants
        )


@pytest.fixture
def principals(tokens: LocalTokens) -> Principals:
    return Principals(tokens)


@pytest.fixture
def acme(client: TestClient, principals: Principals) -> Api:
    """Merchant acme acting on its own products (subject `acme-user`)."""
    return Api(client, principals.merchant("acme"), "acme")


@pytest.fixture
def globex(client: TestClient, principals: Principals) -> Api:
    return Api(client, principals.merchant("globex"), "globex")


@pytest.fixture
def platform(client: TestClient, principals: Principals) -> Api:
    return Api(client, principals.platform(), "acme")


@pytest.fixture
def channel_x(client: TestClient, principals: Principals) -> Api:
    return Api(client, principals.channel("x"), "acme")


@pytest.fixture
def events(backend: CatalogStore) -> Callable[[], list[Any]]:
    """Everything committed to the outbox so far, oldest first."""

    def read() -> list[Any]:
        return [record.event for record in backend.read_after(0, 10_000)]

    return read
