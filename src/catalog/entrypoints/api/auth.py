"""Bearer authentication: the token becomes a Principal, or the request gets a 401 problem.

Verification itself belongs to the container's TokenVerifier (local HS256, API Gateway claims
or JWKS); this module speaks HTTP (RFC 6750) around it and remembers tokens it has already
verified, since clients send the same token on every request. A verifier that authenticates
from the request itself (API Gateway's claims in the Lambda event) is asked first.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request

from catalog.entrypoints.api.problems import ApiProblem
from catalog.service.ports import InvalidToken, TokenVerifier, VerifierUnavailable
from catalog.service.principals import Principal

C = TypeVar("C")

# Documented in the OpenAPI document (openapi.build_openapi) so Swagger UI's "Authorize" works.
SECURITY_SCHEME_NAME = "bearerAuth"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": (
        "A JWT with claims `sub`, `merchant_id` and `roles` (`merchant`, `platform`, "
        "`channel:<slug>`); a channel token also `merchants`, the merchants it acts for (or "
        "`*`). `catalog token --merchant M` prints one for the embedded server."
    ),
}


class VerifiedTokens:
    """Remembers the Principal of each verified token until the token expires, at most
    `max_age` seconds, so a client's repeated token costs one signature check.

    Only successful verifications are kept; an expiry in the past or missing from the token
    means it is checked again every time.
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        max_age: float = 300.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._max_age = max_age
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Principal, float]] = {}
        # Set when the verifier authenticates from the request (RequestAuthenticator).
        self.from_request: Callable[[Mapping[str, Any]], Principal | None] | None = getattr(
            verifier, "authenticate_request", None
        )

    def verify(self, token: str) -> Principal:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(token)
        if entry is not None and now < entry[1]:
            return entry[0]
        principal = self._verifier.verify(token)
        expiry = _expiry(token)
        if expiry is not None and now < expiry:
            with self._lock:
                if len(self._entries) >= self._max_entries:
                    # Oldest first: dicts keep insertion order.
                    del self._entries[next(iter(self._entries))]
                self._entries[token] = (principal, min(expiry, now + self._max_age))
        return principal


def _expiry(token: str) -> float | None:
    """The `exp` claim of a token that has just been verified (so its payload is trusted)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
    except (IndexError, ValueError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _unauthorized(detail: str, error: str | None) -> ApiProblem:
    challenge = 'Bearer realm="catalog"'
    if error:
        challenge += f', error="{error}"'
    return ApiProblem(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": challenge},
    )


def _unavailable() -> ApiProblem:
    return ApiProblem(
        503,
        "verifier-unavailable",
        "Service unavailable",
        "credentials cannot be checked right now; retry shortly",
        headers={"Retry-After": "5"},
    )


async def authenticate(request: Request) -> Principal:
    tokens: VerifiedTokens = request.app.state.verified_tokens
    if tokens.from_request is not None:
        principal = _checked(tokens.from_request, request.scope)
    else:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("send Authorization: Bearer <token>", None)
        principal = _checked(tokens.verify, token)
    if principal is None:
        raise _unauthorized("send Authorization: Bearer <token>", None)
    return principal


def _checked(verify: Callable[[C], Principal | None], credentials: C) -> Principal | None:
    try:
        return verify(credentials)
    except VerifierUnavailable:
        raise _unavailable() from None
    except InvalidToken:
        # The precise reason (expired, bad signature, wrong audience) is not echoed: it helps
        # an attacker more than a client, which only needs to fetch a new token.
        raise _unauthorized("the bearer token is invalid or expired", "invalid_token") from None
