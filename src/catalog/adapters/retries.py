"""The adapters' one retry policy: a bounded number of attempts, and between two attempts an
exponentially growing wait with jitter, computed by tenacity.

Who retries what (docs/architecture.md, "Retries"): DynamoDbStore a transaction cancelled only
by conflicts, and the keys a BatchGetItem left unprocessed; the EventBridge relay the entries
PutEvents refused; the embedded relay an event a sink refused. botocore's standard retry mode
covers every AWS call below those (throttling, 5xx, network). Re-applying a command on a
version conflict is the service's business (service/products.py), never an adapter's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import Struct
from tenacity import (
    RetryCallState,
    Retrying,
    retry_base,
    stop_after_attempt,
    wait_exponential,
    wait_full_jitter,
)
from tenacity.nap import sleep as tenacity_sleep


class Backoff(Struct, frozen=True):
    """`attempts` tries in all, the first included. After the n-th failed one the next waits
    up to `min(max_seconds, first_seconds * 2**(n-1))`."""

    attempts: int
    first_seconds: float
    max_seconds: float

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def retrying(
        self,
        retry: retry_base,
        *,
        sleep: Callable[[float], None] = tenacity_sleep,
        before_sleep: Callable[[RetryCallState], None] | None = None,
        on_exhausted: Callable[[RetryCallState], Any] | None = None,
    ) -> Retrying:
        """A tenacity loop of this backoff with full jitter (a wait drawn anywhere in [0,
        ceiling]: concurrent callers spread out instead of retrying in lockstep). `retry`
        says which outcome to try again. Once the attempts are spent it returns what
        `on_exhausted` returns; without one, the last attempt's exception propagates as is.
        Build one per call: a Retrying keeps the state of the call it runs."""
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_full_jitter(multiplier=self.first_seconds, max=self.max_seconds),
            retry=retry,
            sleep=sleep,
            before_sleep=before_sleep,
            retry_error_callback=on_exhausted,
            reraise=on_exhausted is None,
        )

    def ceiling(self, failures: int) -> float:
        """The longest wait after `failures` failed attempts in a row, for a caller that
        schedules its retries itself instead of sleeping in a loop."""
        return backoff_ceiling(failures, self.first_seconds, self.max_seconds)

    def exhausted(self, failures: int) -> bool:
        """Whether `failures` failed attempts spend the attempts."""
        return bool(stop_after_attempt(self.attempts)(_after(failures)))


def backoff_ceiling(failures: int, first_seconds: float, max_seconds: float) -> float:
    """`min(max_seconds, first_seconds * 2**(failures-1))`: tenacity's exponential wait."""
    return float(wait_exponential(first_seconds, max_seconds)(_after(failures)))


def last_result(state: RetryCallState) -> Any:
    """`on_exhausted` for loops retried on their result: hand back the last one."""
    assert state.outcome is not None  # set by the attempt that just ended
    return state.outcome.result()


def _after(failures: int) -> RetryCallState:
    """tenacity's strategies read the attempt number off a call's state: this one says
    `failures` attempts were made."""
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(1, failures)
    return state
