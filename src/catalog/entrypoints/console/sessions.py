"""Console sessions and the one-time sign-in tickets that open them.

A session is a signed cookie (HS256 with the console's key, PyJWT): the principal, a CSRF
token and an expiry. Nothing is stored server-side, so any API process (or Lambda) reads it;
the cookie is HttpOnly, SameSite=Strict and Secure over HTTPS. Every form carries the session's
CSRF token and every POST is refused without it (`require_csrf`): SameSite=Strict already
keeps other sites' forms from riding the cookie, the token covers older browsers and
same-site attackers (another app on a sibling subdomain).

A sign-in ticket (`catalog console --merchant M`) is a short-lived signed token naming the
merchant; the server redeems each ticket once (its id is remembered until it expires), so a
URL left in a terminal's scrollback cannot open a second session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
from msgspec import Struct

from catalog.service.principals import MERCHANT, Principal

SESSION_COOKIE = "catalog_console"
SESSION_SECONDS = 8 * 3600
TICKET_SECONDS = 10 * 60
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class InvalidTicket(Exception):
    """A sign-in ticket that is forged, expired or already used."""


class SealedClaims:
    """Claims signed (HS256) with a key of their own purpose, derived from the console's key,
    and an expiry judged by this clock rather than PyJWT's (so tests can move time). A token
    sealed for one purpose (a session, a ticket, an OIDC flow) never opens as another."""

    def __init__(self, key: bytes, purpose: str, clock: Callable[[], float] = time.time) -> None:
        self._key = hmac.new(key, f"console/{purpose}".encode(), hashlib.sha256).digest()
        self._audience = f"catalog-console-{purpose}"
        self.clock = clock

    def seal(self, claims: dict[str, Any], ttl_seconds: int) -> str:
        now = int(self.clock())
        sealed = {**claims, "aud": self._audience, "iat": now, "exp": now + ttl_seconds}
        return jwt.encode(sealed, self._key, algorithm="HS256")

    def open(self, token: str | None, required: tuple[str, ...]) -> dict[str, Any] | None:
        """The claims of a token this sealed, or None for none or a forged one. Expired
        claims are returned: `expired` tells, since some callers say so."""
        if not token:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=self._audience,
                options={
                    "require": ["exp", *required],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            return None
        return claims if isinstance(claims["exp"], int) else None

    def expired(self, claims: dict[str, Any]) -> bool:
        return bool(claims["exp"] <= self.clock())


class ConsoleSession(Struct, frozen=True):
    principal: Principal
    csrf_token: str
    expires_at: int

    def csrf_matches(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token)


class Sessions:
    """Opens and reads session cookies."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._sealed = SealedClaims(key, "sessions", clock)

    def open(self, principal: Principal) -> tuple[str, ConsoleSession]:
        """The cookie value of a new session for `principal`, and the session."""
        csrf_token = secrets.token_urlsafe(24)
        claims = {
            "sub": principal.subject,
            "merchant_id": principal.merchant_id,
            "roles": sorted(principal.roles),
            "csrf": csrf_token,
        }
        cookie = self._sealed.seal(claims, SESSION_SECONDS)
        session = self.read(cookie)
        assert session is not None
        return cookie, session

    def read(self, cookie: str | None) -> ConsoleSession | None:
        """The session a cookie holds, or None for none, a forged one or an expired one."""
        claims = self._sealed.open(cookie, ("sub", "csrf"))
        if claims is None or self._sealed.expired(claims):
            return None
        principal = Principal(
            subject=str(claims["sub"]),
            merchant_id=claims.get("merchant_id"),
            roles=frozenset(claims.get("roles") or ()),
        )
        return ConsoleSession(principal, str(claims["csrf"]), claims["exp"])


class SignInTickets:
    """Issues one-time sign-in tickets (the CLI) and redeems them (the server)."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._sealed = SealedClaims(key, "tickets", clock)
        self._lock = threading.Lock()
        self._redeemed: dict[str, float] = {}

    def issue(self, merchant_id: str, subject: str | None = None) -> str:
        claims = {
            "sub": subject or f"{merchant_id}-user",
            "merchant_id": merchant_id,
            "jti": secrets.token_urlsafe(16),
        }
        return self._sealed.seal(claims, TICKET_SECONDS)

    def redeem(self, ticket: str) -> Principal:
        """The merchant principal a ticket signs in, once; InvalidTicket otherwise."""
        claims = self._sealed.open(ticket, ("sub", "jti", "merchant_id"))
        if claims is None:
            raise InvalidTicket("this sign-in link is not valid")
        if self._sealed.expired(claims):
            raise InvalidTicket("this sign-in link has expired: run `catalog console` again")
        now = self._sealed.clock()
        with self._lock:
            for jti, expiry in list(self._redeemed.items()):
                if expiry <= now:
                    del self._redeemed[jti]
            if claims["jti"] in self._redeemed:
                raise InvalidTicket("this sign-in link was already used: run `catalog console`")
            self._redeemed[claims["jti"]] = float(claims["exp"])
        return Principal(
            subject=str(claims["sub"]),
            merchant_id=str(claims["merchant_id"]),
            roles=frozenset({MERCHANT}),
        )
