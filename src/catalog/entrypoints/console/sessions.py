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
from dataclasses import dataclass

import jwt

from catalog.service.principals import MERCHANT, Principal

SESSION_COOKIE = "catalog_console"
SESSION_SECONDS = 8 * 3600
TICKET_SECONDS = 10 * 60
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

_SESSION_AUDIENCE = "catalog-console"
_TICKET_AUDIENCE = "catalog-console-sign-in"


class InvalidTicket(Exception):
    """A sign-in ticket that is forged, expired or already used."""


def _subkey(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, f"console/{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class ConsoleSession:
    principal: Principal
    csrf_token: str
    expires_at: int

    def csrf_matches(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token)


class Sessions:
    """Opens and reads session cookies."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = _subkey(key, "sessions")
        self._clock = clock

    def open(self, principal: Principal) -> tuple[str, ConsoleSession]:
        """The cookie value of a new session for `principal`, and the session."""
        now = int(self._clock())
        session = ConsoleSession(principal, secrets.token_urlsafe(24), now + SESSION_SECONDS)
        claims = {
            "aud": _SESSION_AUDIENCE,
            "sub": principal.subject,
            "merchant_id": principal.merchant_id,
            "roles": sorted(principal.roles),
            "csrf": session.csrf_token,
            "iat": now,
            "exp": session.expires_at,
        }
        return jwt.encode(claims, self._key, algorithm="HS256"), session

    def read(self, cookie: str | None) -> ConsoleSession | None:
        """The session a cookie holds, or None for none, a forged one or an expired one."""
        if not cookie:
            return None
        try:
            claims = jwt.decode(
                cookie,
                self._key,
                algorithms=["HS256"],
                audience=_SESSION_AUDIENCE,
                options={
                    "require": ["sub", "exp", "csrf"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            return None
        # Checked against this clock rather than PyJWT's, so tests can move time.
        if not isinstance(claims["exp"], int) or claims["exp"] <= self._clock():
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
        self._key = _subkey(key, "tickets")
        self._clock = clock
        self._lock = threading.Lock()
        self._redeemed: dict[str, float] = {}

    def issue(self, merchant_id: str, subject: str | None = None) -> str:
        now = int(self._clock())
        claims = {
            "aud": _TICKET_AUDIENCE,
            "sub": subject or f"{merchant_id}-user",
            "merchant_id": merchant_id,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + TICKET_SECONDS,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def redeem(self, ticket: str) -> Principal:
        """The merchant principal a ticket signs in, once; InvalidTicket otherwise."""
        try:
            claims = jwt.decode(
                ticket,
                self._key,
                algorithms=["HS256"],
                audience=_TICKET_AUDIENCE,
                options={
                    "require": ["sub", "exp", "jti", "merchant_id"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            raise InvalidTicket("this sign-in link is not valid") from error
        now = self._clock()
        if claims["exp"] <= now:
            raise InvalidTicket("this sign-in link has expired: run `catalog console` again")
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
