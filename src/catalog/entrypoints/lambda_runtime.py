"""What both Lambda functions do around their own work: build their runtime on the first
invocation of an execution environment, keep it for the environment's life, and tag each
invocation's log lines. Importing builds nothing (tests, tools and benchmarks import the
handlers freely)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from catalog.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


class Runtime(Protocol):
    @property
    def logger(self) -> Logger: ...


R = TypeVar("R", bound=Runtime)


class PerEnvironment(Generic[R]):
    """One runtime per execution environment, built from the settings by `start`."""

    def __init__(self, start: Callable[[Settings], R]) -> None:
        self._start = start
        # functools.cache: `runtime.cache_info().currsize == 0` says the next call is cold.
        self.runtime = functools.cache(self._build)

    def _build(self) -> R:
        """Built by the first invocation of a container, then reused by every later one."""
        return self._start(Settings())

    def reset(self) -> None:
        """Forget the built runtime: the next invocation builds a new one (tests, new
        settings)."""
        self.runtime.cache_clear()

    def invocation(self, context: Any) -> tuple[R, bool]:
        """The runtime for this invocation, built now if this is the environment's cold start
        (the second value), its logger tagged with the invocation."""
        cold = self.runtime.cache_info().currsize == 0
        current = self.runtime()
        current.logger.append_keys(
            cold_start=cold,
            function_request_id=getattr(context, "aws_request_id", None),
        )
        return current, cold
