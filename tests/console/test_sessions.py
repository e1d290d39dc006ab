"""Console sessions and sign-in tickets, without a browser: what a forged, expired or reused
credential gets, and what the cookie carries."""

from __future__ import annotations

import jwt
import pytest

from catalog.entrypoints.console.sessions import (
    SESSION_SECONDS,
    TICKET_SECONDS,
    InvalidTicket,
    Sessions,
    SignInTickets,
)
from catalog.service.principals import MERCHANT, Principal

KEY = b"console-tests-key-0123456789abcdef"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def acme() -> Principal:
    return Principal("acme-user", "acme", frozenset({MERCHANT}))


def test_a_session_cookie_reads_back_until_it_expires() -> None:
    clock = Clock()
    sessions = Sessions(KEY, clock)
    cookie, opened = sessions.open(acme())
    session = sessions.read(cookie)
    assert session == opened
    assert session is not None and session.principal == acme()
    clock.now += SESSION_SECONDS - 1
    assert sessions.read(cookie) is not None
    clock.now += 1
    assert sessions.read(cookie) is None


def test_a_cookie_signed_with_another_key_or_altered_is_no_session() -> None:
    cookie, _ = Sessions(b"another-key-0123456789abcdef-0000").open(acme())
    assert Sessions(KEY).read(cookie) is None
    genuine, _ = Sessions(KEY).open(acme())
    claims = jwt.decode(genuine, options={"verify_signature": False})
    claims["merchant_id"] = "globex"
    forged = jwt.encode(claims, b"guessed-key-0123456789abcdef-000", algorithm="HS256")
    assert Sessions(KEY).read(forged) is None
    assert Sessions(KEY).read("") is None
    assert Sessions(KEY).read("not.a.jwt") is None


def test_a_sign_in_ticket_is_not_a_session_and_a_session_is_not_a_ticket() -> None:
    ticket = SignInTickets(KEY).issue("acme")
    assert Sessions(KEY).read(ticket) is None
    cookie, _ = Sessions(KEY).open(acme())
    with pytest.raises(InvalidTicket):
        SignInTickets(KEY).redeem(cookie)


def test_each_session_has_its_own_csrf_token() -> None:
    sessions = Sessions(KEY)
    _, first = sessions.open(acme())
    _, second = sessions.open(acme())
    assert first.csrf_token != second.csrf_token
    assert first.csrf_matches(first.csrf_token)
    assert not first.csrf_matches(second.csrf_token)
    assert not first.csrf_matches(None)
    assert not first.csrf_matches("")


def test_a_ticket_signs_in_its_merchant_once() -> None:
    tickets = SignInTickets(KEY)
    ticket = tickets.issue("acme", subject="ana")
    principal = tickets.redeem(ticket)
    assert principal == Principal("ana", "acme", frozenset({MERCHANT}))
    with pytest.raises(InvalidTicket, match="already used"):
        tickets.redeem(ticket)


def test_a_ticket_expires() -> None:
    clock = Clock()
    tickets = SignInTickets(KEY, clock)
    ticket = tickets.issue("acme")
    clock.now += TICKET_SECONDS
    with pytest.raises(InvalidTicket, match="expired"):
        tickets.redeem(ticket)


def test_a_forged_ticket_is_refused() -> None:
    forged = SignInTickets(b"another-key-0123456789abcdef-0000").issue("acme")
    with pytest.raises(InvalidTicket, match="not valid"):
        SignInTickets(KEY).redeem(forged)
