"""Requests per caller: a token bucket per principal, and per client address before that.

A request whose bearer token was verified before (VerifiedTokens remembers it) is charged to
its principal's bucket. Every other request is charged to its client address's bucket, before
anything is verified: anonymous routes, a token seen for the first time, and invalid tokens,
which are never remembered. So a flood of invalid tokens drains its address's bucket and is then
answered 429 without a signature check, while a principal whose token is known keeps its own
bucket whoever shares its address (a NAT, the loopback of the embedded server's clients).

Invalid tokens are logged once per address and minute, with the count of those not logged since
the previous line, rather than once per request: a flood must not become a flood of log lines.

Written here rather than taken from a library: the `limits` package has fixed and sliding
windows but no token bucket, and its hit-then-read-stats API costs several calls per request
where this costs one dict lookup and a few float operations on the GET hot path. Everything
runs on the event loop, so no lock is needed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Hashable

from msgspec import Struct
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.entrypoints.api.auth import VerifiedTokens
from catalog.entrypoints.api.problems import problem_response
from catalog.service.ports import InvalidToken
from catalog.service.principals import Principal

logger = logging.getLogger("catalog.api.limits")

# Buckets kept at most; past that the full ones (idle long enough to have refilled, the same as
# absent) are dropped, then the oldest if that was not enough.
MAX_BUCKETS = 100_000
INVALID_TOKEN_LOG_SECONDS = 60.0


class TokenBuckets:
    """One bucket of `burst` tokens per key, refilled at `per_second`."""

    def __init__(self, per_second: float, burst: int, *, max_buckets: int = MAX_BUCKETS) -> None:
        self.per_second = per_second
        self.burst = float(burst)
        self._max_buckets = max_buckets
        # key -> [tokens left, when they were counted]
        self._buckets: dict[Hashable, list[float]] = {}

    def take(self, key: Hashable, now: float) -> float:
        """Takes one token: 0.0 when the request may go on, else the seconds until it may."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_buckets:
                self._prune(now)
            self._buckets[key] = [self.burst - 1.0, now]
            return 0.0
        level = min(self.burst, bucket[0] + (now - bucket[1]) * self.per_second)
        bucket[1] = now
        if level >= 1.0:
            bucket[0] = level - 1.0
            return 0.0
        bucket[0] = level
        return (1.0 - level) / self.per_second

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        refill = self.burst / self.per_second
        self._buckets = {
            key: bucket for key, bucket in self._buckets.items() if now - bucket[1] < refill
        }
        excess = len(self._buckets) - self._max_buckets // 2
        if excess > 0:
            for key in list(self._buckets)[:excess]:  # insertion order: the oldest first
                del self._buckets[key]


class _InvalidTokens(Struct):
    logged_at: float
    since: int = 0  # invalid tokens after the one logged


class InvalidTokenLog:
    """One structured log line per client address and minute about its invalid tokens."""

    def __init__(self, *, max_addresses: int = MAX_BUCKETS) -> None:
        self._addresses: dict[str, _InvalidTokens] = {}
        self._max_addresses = max_addresses

    def record(self, address: str, now: float) -> None:
        seen = self._addresses.get(address)
        if seen is not None and now - seen.logged_at < INVALID_TOKEN_LOG_SECONDS:
            seen.since += 1
            return
        if seen is None and len(self._addresses) >= self._max_addresses:
            self._addresses = {
                key: value
                for key, value in self._addresses.items()
                if now - value.logged_at < INVALID_TOKEN_LOG_SECONDS
            }
            if len(self._addresses) >= self._max_addresses:
                return  # every address known is within its minute: no room for a new one
        earlier = seen.since if seen is not None else 0
        self._addresses[address] = _InvalidTokens(now)
        # logfmt in the message for plain handlers, the same fields as `extra` for JSON ones;
        # `suppressed`: the invalid tokens from this client since its previous line.
        logger.warning(
            "event=invalid_token client=%s suppressed=%d",
            address,
            earlier,
            extra={"event": "invalid_token", "client": address, "suppressed": earlier},
        )


class CallerLimits:
    """What the RateLimit middleware decides with: the buckets, the token memory, the clock."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        tokens: VerifiedTokens,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.principals = TokenBuckets(per_second, burst)
        self.addresses = TokenBuckets(per_second, burst)
        self.tokens = tokens
        self.clock = clock
        self.invalid_tokens = InvalidTokenLog()

    def describe(self) -> str:
        per_second, burst = self.principals.per_second, int(self.principals.burst)
        return f"{per_second:g} requests per second, bursts of {burst}"


class RateLimit:
    """Pure ASGI middleware answering 429 (with Retry-After) to a caller past its rate."""

    def __init__(self, app: ASGIApp, *, limits: CallerLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits
        token = _bearer_token(scope)
        principal = self._known_principal(scope, token)
        client = scope.get("client")
        address = client[0] if client else "unknown"
        now = limits.clock()
        if principal is not None:
            wait = limits.principals.take(principal, now)
        else:
            wait = limits.addresses.take(address, now)
        if wait > 0.0:
            await self._refuse(scope, receive, send, wait)
            return
        if principal is not None:
            # The route's authentication takes it from here instead of looking it up again
            # (deps.current_principal): the same principal, from the same memory.
            scope.setdefault("state", {})["principal"] = principal
            await self.app(scope, receive, send)
            return
        if token is None:
            await self.app(scope, receive, send)
            return

        # A token not verified before: the app verifies it; a 401 means it was refused.
        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                limits.invalid_tokens.record(address, limits.clock())
            await send(message)

        await self.app(scope, receive, watching_send)

    def _known_principal(self, scope: Scope, token: str | None) -> Principal | None:
        tokens = self.limits.tokens
        if tokens.from_request is not None:
            # Claims a gateway verified, read from the request (cheap, nothing to verify).
            try:
                return tokens.from_request(scope)
            except InvalidToken:
                return None
        return tokens.known(token) if token is not None else None

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        response = problem_response(
            Request(scope),
            429,
            slug="rate-limited",
            title="Too many requests",
            detail=f"this caller may send {self.limits.describe()}; retry in {seconds} s",
            extensions={"retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )
        await response(scope, receive, send)


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None
