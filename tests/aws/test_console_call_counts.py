"""A console page is one round trip to the use cases, not a chain of calls: what each page
costs in DynamoDB operations, counted as the API's own operations are
(tests/aws/test_dynamodb_call_counts.py), on the console served by the API's application."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.local_tokens import LocalTokens
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.ulid_ids import UlidIds
from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app
from catalog.entrypoints.console.sessions import SignInTickets
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.settings import Settings
from tests.aws.dynamodb_support import TABLE, CallCounter
from tests.clocks import SteppingClock

CONSOLE_KEY = b"console-call-counts-key-0123456789"


@pytest.fixture
def console(client: Any, tmp_path: Path) -> Iterator[TestClient]:
    """The API's application with its console, over DynamoDB on moto, signed in as acme."""
    store = DynamoDbStore(client, TABLE, requirements_max_age=5.0, monotonic=lambda: 0.0)
    store.channel_requirements()  # as every process has read them after its first write
    ctx = CatalogContext(
        store=store,
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SteppingClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"console-call-count-cursors"),
    )
    container = Container(
        settings=Settings(data_dir=tmp_path, rate_limit=None),
        ctx=ctx,
        tokens=LocalTokens(b"console-call-count-tokens-0123456789"),
        console_key=CONSOLE_KEY,
    )
    with TestClient(create_app(container), base_url="https://catalog.test") as browser:
        ticket = SignInTickets(CONSOLE_KEY).issue("acme")
        signed_in = browser.post(
            "/console/sign-in", data={"ticket": ticket}, follow_redirects=False
        )
        assert signed_in.status_code == 303
        yield browser


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def create(console: TestClient, sku: str) -> str:
    form = console.get("/console/products/new").text
    answer = console.post(
        "/console/products",
        data={
            "csrf_token": csrf_of(form),
            "sku": sku,
            "name": f"Product {sku}",
            "price": "25.00",
            "currency": "USD",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"]).split("?")[0]


def test_each_page_is_a_few_reads_and_no_scan(console: TestClient, calls: CallCounter) -> None:
    editor = create(console, "CC-1")
    create(console, "CC-2")
    expected = {
        # The page of products, and the merchant's types for the filter.
        "/console/products": Counter({"Query": 2}),
        # The product, and the types for its type select.
        editor: Counter({"GetItem": 1, "Query": 1}),
        editor + "/history": Counter({"GetItem": 1, "Query": 1}),
        editor + "/publication": Counter({"GetItem": 1}),
        "/console/types": Counter({"Query": 1}),
    }
    for path, cost in expected.items():
        calls.reset()
        answer = console.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert calls.counts() == cost, path


def test_a_save_is_the_apis_read_and_write(console: TestClient, calls: CallCounter) -> None:
    editor = create(console, "CC-3")
    page = console.get(editor).text
    calls.reset()
    saved = console.post(
        editor,
        data={
            "csrf_token": csrf_of(page),
            "version": "1",
            "name": "Renamed",
            "description": "",
            "price": "25.00",
            "currency": "USD",
            "product_type": "",
            "attributes": "",
            "options": "",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    # The editor reads the product it diffs against, then the update reads and writes it once.
    assert calls.counts() == Counter({"GetItem": 2, "TransactWriteItems": 1})
