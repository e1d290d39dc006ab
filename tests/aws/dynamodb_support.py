"""Test-only helpers of the DynamoDB tests: a fresh table on moto, and a boto3 call counter."""

from __future__ import annotations

from collections import Counter
from typing import Any

from catalog.adapters.aws.dynamodb_table import ensure_table
from tests.aws.moto_serial import serialize_dynamodb_requests

TABLE = "catalog-test"


def fresh_table(aws: Any, table_name: str = TABLE) -> Any:
    """A DynamoDB client on the test's clean moto account, with the catalog table created."""
    serialize_dynamodb_requests()
    client = aws.client("dynamodb")
    ensure_table(client, table_name)
    return client


class CallCounter:
    """Counts the API operations a boto3 client makes, by name (GetItem, Query, ...).

    botocore emits `before-call.<service>.<Operation>` once per API call, before any retry,
    so each operation the code asks for counts once.
    """

    def __init__(self, client: Any) -> None:
        self.calls: list[str] = []
        client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def reset(self) -> None:
        self.calls.clear()

    def counts(self) -> Counter[str]:
        return Counter(self.calls)
