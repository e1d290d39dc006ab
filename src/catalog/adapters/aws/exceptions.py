"""Failures of the AWS adapters that are not domain outcomes (those raise domain errors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AwsAdapterError(RuntimeError):
    """Base of every error the AWS adapters raise on their own account."""


class TransactionTooLarge(AwsAdapterError):
    """A change needs more items than one TransactWriteItems accepts (100)."""

    def __init__(self, product_id: str, items: int, limit: int) -> None:
        super().__init__(
            f"the change of product {product_id} needs {items} items in one transaction;"
            f" DynamoDB accepts at most {limit}"
        )
        self.product_id = product_id
        self.items = items
        self.limit = limit


class ItemTooLarge(AwsAdapterError):
    """One item of a change would exceed DynamoDB's 400 KB item size."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what} would take {size} bytes; a DynamoDB item holds at most {limit}")
        self.what = what
        self.size = size
        self.limit = limit


class DynamoDbTransactionFailed(AwsAdapterError):
    """DynamoDB cancelled a transaction for a reason other than a failed condition
    (throttling, validation, or conflicts that outlasted the retries)."""

    def __init__(self, product_id: str, reasons: Sequence[dict[str, Any]]) -> None:
        codes = [reason.get("Code", "None") for reason in reasons]
        super().__init__(f"transaction for product {product_id} was cancelled: {codes}")
        self.product_id = product_id
        self.reasons = list(reasons)
