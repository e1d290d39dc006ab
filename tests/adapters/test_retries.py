"""The adapters' one retry policy (adapters/retries.py): bounded attempts, doubling waits with
jitter, capped."""

from __future__ import annotations

import pytest
from tenacity import retry_if_exception_type, retry_if_result

from catalog.adapters.retries import Backoff, last_result


class Flaky:
    """Fails (returns True, or raises) the first `failures` calls, then answers False."""

    def __init__(self, failures: int, *, raises: bool = False) -> None:
        self.failures = failures
        self.raises = raises
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        failing = self.calls <= self.failures
        if failing and self.raises:
            raise TimeoutError(f"call {self.calls}")
        return failing


@pytest.mark.parametrize(
    ("failures", "answer", "calls"),
    [
        (2, False, 3),  # stops as soon as an attempt succeeds
        (100, True, 4),  # past the attempts: the last result, and no fifth call
    ],
)
def test_it_calls_until_an_attempt_succeeds_or_the_attempts_are_spent(
    failures: int, answer: bool, calls: int
) -> None:
    pauses: list[float] = []
    call = Flaky(failures)

    retrying = Backoff(4, 0.5, 10.0).retrying(
        retry_if_result(bool), sleep=pauses.append, on_exhausted=last_result
    )

    assert retrying(call) is answer
    assert call.calls == calls
    assert len(pauses) == calls - 1


def test_past_the_attempts_the_last_exception_propagates_as_is() -> None:
    call = Flaky(100, raises=True)

    retrying = Backoff(3, 0.5, 10.0).retrying(
        retry_if_exception_type(TimeoutError), sleep=lambda seconds: None
    )

    with pytest.raises(TimeoutError, match="call 3"):
        retrying(call)
    assert call.calls == 3


def test_an_error_it_is_not_told_to_retry_propagates_at_once() -> None:
    call = Flaky(100, raises=True)

    retrying = Backoff(3, 0.5, 10.0).retrying(
        retry_if_exception_type(KeyError), sleep=lambda seconds: None
    )

    with pytest.raises(TimeoutError):
        retrying(call)
    assert call.calls == 1


def test_waits_are_full_jitter_under_a_doubling_capped_ceiling() -> None:
    backoff = Backoff(8, 0.5, 4.0)
    pauses: list[float] = []
    for _ in range(50):
        retrying = backoff.retrying(
            retry_if_result(bool), sleep=pauses.append, on_exhausted=last_result
        )
        retrying(Flaky(100))

    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    by_retry = [pauses[n :: len(ceilings)] for n in range(len(ceilings))]
    for ceiling, waits in zip(ceilings, by_retry, strict=True):
        assert all(0 <= wait <= ceiling for wait in waits)
        assert len(set(waits)) > 1  # drawn, not fixed
    assert [backoff.ceiling(failures) for failures in range(1, 8)] == ceilings


def test_the_attempts_are_spent_at_the_bound() -> None:
    backoff = Backoff(3, 1.0, 60.0)

    assert [backoff.exhausted(failures) for failures in (1, 2, 3, 4)] == [
        False,
        False,
        True,
        True,
    ]


def test_a_policy_without_an_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Backoff(0, 1.0, 60.0)
