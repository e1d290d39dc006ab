"""Fixtures the DynamoDB tests share: a fresh table on moto and a count of the calls made."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.aws.dynamodb_support import CallCounter, fresh_table


@pytest.fixture
def client(aws: Any) -> Any:
    """A DynamoDB client on moto, over a table of its own."""
    return fresh_table(aws)


@pytest.fixture
def calls(client: Any) -> Iterator[CallCounter]:
    """Every operation the client sends, by name; whatever a test did, it never scanned."""
    counter = CallCounter(client)
    yield counter
    assert "Scan" not in counter.calls
