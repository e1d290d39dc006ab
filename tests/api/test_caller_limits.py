"""Requests per caller (issue 10): a token bucket per principal once its token is known, per
client address before that; 429 problems with Retry-After; invalid-token floods answered
without verifying and logged once per address and minute."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from msgspec.structs import replace

from catalog.adapters.local_tokens import LocalTokens
from catalog.adapters.memory.store import MemoryStore
from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app
from catalog.entrypoints.api.rate_limit import CallerLimits, TokenBuckets
from catalog.service.principals import Principal
from catalog.settings import RequestRate, Settings, parse_request_rate
from tests.api.conftest import Principals
from tests.api.support import assert_problem, bearer
from tests.clocks import ManualSecondsClock

PRODUCTS = "/v1/merchants/acme/products"


class CountingTokens:
    """The tests' verifier, counting the signature checks it makes."""

    def __init__(self, tokens: LocalTokens) -> None:
        self.tokens = tokens
        self.verified = 0

    def verify(self, token: str) -> Principal:
        self.verified += 1
        return self.tokens.verify(token)


@pytest.fixture
def backend() -> MemoryStore:
    # The limits run before any route reads the store: one backend is enough.
    return MemoryStore()


@pytest.fixture
def clock() -> ManualSecondsClock:
    return ManualSecondsClock()


@pytest.fixture
def verifier(tokens: LocalTokens) -> CountingTokens:
    return CountingTokens(tokens)


def limited_app(
    container: Container, verifier: CountingTokens, clock: ManualSecondsClock, rate_limit: str
) -> FastAPI:
    settings = container.settings.model_copy(update={"rate_limit": parse_request_rate(rate_limit)})
    app = create_app(replace(container, settings=settings, tokens=verifier))
    limits: CallerLimits = app.state.caller_limits
    limits.clock = clock
    return app


@pytest.fixture
def app(container: Container, verifier: CountingTokens, clock: ManualSecondsClock) -> FastAPI:
    # 2 requests per second, 3 at once.
    return limited_app(container, verifier, clock, "2/s,burst=3")


def client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40_000))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with client_at(app, "198.51.100.1") as test_client:
        yield test_client


def statuses(client: TestClient, count: int, url: str = PRODUCTS, **headers: str) -> list[int]:
    return [client.get(url, headers=headers).status_code for _ in range(count)]


def test_a_burst_past_the_limit_is_answered_429_with_retry_after(
    client: TestClient, principals: Principals, clock: ManualSecondsClock
) -> None:
    auth = bearer(principals.merchant("acme"))
    # The token's first request counts against the address (nothing knew the token yet);
    # from then on the principal has its own bucket of 3.
    assert statuses(client, 4, **auth) == [200, 200, 200, 200]
    refused = client.get(PRODUCTS, headers=auth)
    problem = assert_problem(refused, 429)
    assert problem["type"] == "/problems/rate-limited"
    assert refused.headers["Retry-After"] == "1"
    assert problem["retry_after"] == 1
    assert "2 requests per second, bursts of 3" in problem["detail"]
    # Refused requests take nothing: half a second at 2/s gives back exactly one request.
    clock.advance(0.5)
    assert statuses(client, 2, **auth) == [200, 429]
    clock.advance(10)
    assert statuses(client, 4, **auth) == [200, 200, 200, 429]


def test_retry_after_says_how_long_the_bucket_needs(
    container: Container, verifier: CountingTokens, clock: ManualSecondsClock
) -> None:
    app = limited_app(container, verifier, clock, "6/m,burst=1")
    with client_at(app, "198.51.100.9") as client:
        assert statuses(client, 1, "/health") == [200]
        refused = client.get("/health")
        assert_problem(refused, 429)
        assert refused.headers["Retry-After"] == "10"  # 6 a minute: one every 10 s
        clock.advance(9)
        assert client.get("/health").headers["Retry-After"] == "1"
        clock.advance(1)
        assert statuses(client, 1, "/health") == [200]


def test_each_principal_has_its_own_bucket_whoever_shares_its_address(
    client: TestClient, principals: Principals
) -> None:
    acme, globex = bearer(principals.merchant("acme")), bearer(principals.merchant("globex"))
    client.get(PRODUCTS, headers=acme)  # known from now on
    assert statuses(client, 4, **acme) == [200, 200, 200, 429]
    # Same address, another principal, and anonymous callers: not affected.
    globex_products = "/v1/merchants/globex/products"
    assert statuses(client, 1, globex_products, **globex) == [200]
    assert statuses(client, 3, globex_products, **globex) == [200, 200, 200]
    assert statuses(client, 1, "/health") == [200]


def test_anonymous_requests_count_per_client_address(app: FastAPI) -> None:
    with client_at(app, "203.0.113.7") as first, client_at(app, "203.0.113.8") as second:
        assert statuses(first, 4, "/health") == [200, 200, 200, 429]
        assert statuses(second, 3, "/health") == [200, 200, 200]
        assert_problem(first.get(PRODUCTS), 429)  # any route, before authentication


def test_a_known_principal_is_served_while_its_address_is_flooded(
    client: TestClient, principals: Principals
) -> None:
    auth = bearer(principals.merchant("acme"))
    assert client.get(PRODUCTS, headers=auth).status_code == 200
    flood = {"Authorization": "Bearer not-a-token"}
    assert statuses(client, 5, **flood) == [401, 401, 429, 429, 429]
    assert statuses(client, 3, **auth) == [200, 200, 200]


def test_an_invalid_token_flood_is_refused_without_verifying_it(
    client: TestClient, verifier: CountingTokens
) -> None:
    answers = statuses(client, 50, **{"Authorization": "Bearer forged.token.value"})
    assert answers == [401] * 3 + [429] * 47
    assert verifier.verified == 3  # only the requests the bucket let through were checked


def test_invalid_tokens_are_logged_once_per_address_and_minute(
    container: Container,
    verifier: CountingTokens,
    clock: ManualSecondsClock,
    principals: Principals,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = limited_app(container, verifier, clock, "1000/s")
    caplog.set_level(logging.WARNING, logger="catalog.api.limits")

    def lines() -> list[tuple[str, int]]:
        """(client, suppressed) of each invalid-token line, from its structured fields."""
        return [
            (r.__dict__["client"], r.__dict__["suppressed"])
            for r in caplog.records
            if r.__dict__.get("event") == "invalid_token"
        ]

    flood = {"Authorization": "Bearer forged.token.value"}
    with client_at(app, "192.0.2.10") as client, client_at(app, "192.0.2.11") as other:
        assert set(statuses(client, 40, **flood)) == {401}
        assert lines() == [("192.0.2.10", 0)]
        (record,) = caplog.records
        assert record.levelno == logging.WARNING
        assert record.getMessage() == "event=invalid_token client=192.0.2.10 suppressed=0"
        # No token, or a valid one, is not an invalid token.
        statuses(client, 3)
        statuses(client, 3, **bearer(principals.merchant("acme")))
        clock.advance(59)
        statuses(client, 10, **flood)
        assert len(lines()) == 1
        # Another caller gets its own line.
        statuses(other, 5, **flood)
        assert lines() == [("192.0.2.10", 0), ("192.0.2.11", 0)]
        # A minute after its line, the next one counts those it did not log.
        clock.advance(1)
        statuses(client, 1, **flood)
        assert lines() == [("192.0.2.10", 0), ("192.0.2.11", 0), ("192.0.2.10", 49)]


def test_off_switches_the_limit_off(container: Container, principals: Principals) -> None:
    off = container.settings.model_copy(update={"rate_limit": parse_request_rate("off")})
    app = create_app(replace(container, settings=off))
    assert app.state.caller_limits is None
    with client_at(app, "198.51.100.2") as client:
        # Far past the default burst of 200, from one address and one principal.
        assert set(statuses(client, 250, "/health")) == {200}
        assert set(statuses(client, 250, **bearer(principals.merchant("acme")))) == {200}


def test_the_limit_is_on_by_default_and_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CATALOG_RATE_LIMIT", raising=False)
    assert Settings().rate_limit == RequestRate(100, 200)
    for given, expected in [
        ("100/s,burst=200", RequestRate(100, 200)),
        ("50/s", RequestRate(50, 50)),
        ("600/m, burst=20", RequestRate(10, 20)),
        ("3600/h", RequestRate(1, 3600)),
        ("OFF", None),
        ("off", None),
    ]:
        monkeypatch.setenv("CATALOG_RATE_LIMIT", given)
        assert Settings().rate_limit == expected, given


@pytest.mark.parametrize("given", ["100", "100/d", "0/s", "10/s,burst=0", "10/s;burst=2", "fast"])
def test_a_malformed_rate_limit_is_refused_at_start(
    given: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_RATE_LIMIT", given)
    with pytest.raises(ValueError, match="is not a rate limit: give `off` or `<N>/s`"):
        Settings()


def test_buckets_of_idle_callers_are_dropped_when_there_are_too_many() -> None:
    buckets = TokenBuckets(1.0, 2, max_buckets=4)  # a bucket refills in 2 s
    for caller in "abcd":
        buckets.take(caller, now=0.0)
    buckets.take("e", now=1.0)  # none has refilled yet: the oldest half goes
    assert len(buckets) == 3
    buckets.take("f", now=1.0)
    buckets.take("g", now=10.0)  # every earlier one has refilled, the same as absent
    assert len(buckets) == 1
    # A dropped bucket comes back full: dropping it forgave nothing.
    assert [buckets.take("a", now=10.0) for _ in range(3)] == [0.0, 0.0, 1.0]
