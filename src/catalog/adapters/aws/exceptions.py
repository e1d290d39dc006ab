"""Failures of the AWS adapters. Each also is the domain error a caller acts on (too large:
a client error; unavailable: retry), so the API maps them without knowing AWS."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.domain.errors import ProductTooLarge, StoreUnavailable


class AwsAdapterError(RuntimeError):
    """Base of every error the AWS adapters raise on their own account."""


class TransactionTooLarge(AwsAdapterError, ProductTooLarge):
    """A change needs more items than one TransactWriteItems accepts (100)."""

    def __init__(self, product_id: str, items: int, limit: int) -> None:
        ProductTooLarge.__init__(self, f"the change of product {product_id}", items, limit)
        self.args = (
            f"the change of product {product_id} needs {items} items in one transaction;"
            f" DynamoDB accepts at most {limit}",
        )
        self.product_id = product_id
        self.items = items


class ItemTooLarge(AwsAdapterError, ProductTooLarge):
    """One item of a change would exceed DynamoDB's 400 KB item size."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        ProductTooLarge.__init__(self, what, size, limit)


class DynamoDbTransactionFailed(AwsAdapterError, StoreUnavailable):
    """DynamoDB cancelled a transaction for a reason other than a failed condition
    (throttling, validation, or conflicts that outlasted the retries)."""

    def __init__(self, product_id: str, reasons: Sequence[dict[str, Any]]) -> None:
        codes = [reason.get("Code", "None") for reason in reasons]
        super().__init__(f"transaction for product {product_id} was cancelled: {codes}")
        self.product_id = product_id
        self.reasons = list(reasons)


class UnprocessedKeys(AwsAdapterError, StoreUnavailable):
    """BatchGetItem kept returning keys unprocessed (throttled) after the bounded retries."""

    def __init__(self, keys: int, attempts: int) -> None:
        super().__init__(f"{keys} keys still unprocessed after {attempts} BatchGetItem calls")
        self.keys = keys
        self.attempts = attempts


class JobNotQueued(AwsAdapterError, StoreUnavailable):
    """SQS refused a new job's message after botocore's retries: the job is stored QUEUED, and
    the request's retry with its Idempotency-Key hands it on (service/jobs.py)."""

    def __init__(self, job_id: str, cause: str) -> None:
        super().__init__(f"job {job_id} could not be queued: {cause}")
        self.job_id = job_id
