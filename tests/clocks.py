"""The fake clocks the tests hand to the code under test, instead of the real time.

Two contracts: the service's `Clock` port (`now()` -> an aware datetime), played by
`SteppingClock` and `FixedClock`; and a plain `() -> float` of seconds (time.time,
time.monotonic), played by `ManualSecondsClock`, which only the test moves.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

# 2026-11-30T12:00:00Z in epoch seconds: a time.time in the middle of a UTC day.
NOON = 1_796_040_000.0


class SteppingClock:
    """The first reading is `start`, each later one `step` after the previous one: every change
    gets its own, increasing time. Safe to read from several threads at once."""

    def __init__(
        self,
        start: datetime = datetime(2026, 12, 3, tzinfo=UTC),
        step: timedelta = timedelta(seconds=1),
    ) -> None:
        self._lock = threading.Lock()
        self._next = start
        self._step = step

    def now(self) -> datetime:
        with self._lock:
            reading = self._next
            self._next += self._step
            return reading


class FixedClock:
    """Every reading is the same instant."""

    def __init__(self, at: datetime = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


class ManualSecondsClock:
    """Seconds as time.time or time.monotonic give them; they change only when the test sets
    `now` or calls `advance`."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
