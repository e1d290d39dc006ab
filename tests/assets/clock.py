from __future__ import annotations

from dataclasses import dataclass

# 2026-11-30T12:00:00Z, in the middle of a UTC day.
NOON = 1_796_040_000.0


@dataclass
class FakeClock:
    now: float = NOON

    def __call__(self) -> float:
        return self.now
