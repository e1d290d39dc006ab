"""Who may do what: bearer tokens, tenant isolation (404), read-only principals (403)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog.adapters.local_tokens import InvalidToken, LocalTokens
from catalog.entrypoints.api.auth import VerifiedTokens
from catalog.service.principals import Principal
from tests.api.conftest import Principals
from tests.api.support import Api, assert_problem, bearer, png, product_body

UNKNOWN_ID = "01JD0000000000000000000000"


@pytest.fixture
def product(acme: Api) -> dict[str, Any]:
    return acme.create_ok()


ROUTES: list[tuple[str, str]] = [
    ("GET", "/v1/merchants/acme/products"),
    ("POST", "/v1/merchants/acme/products"),
    ("GET", "/v1/merchants/acme/products/{id}"),
    ("PATCH", "/v1/merchants/acme/products/{id}"),
    ("DELETE", "/v1/merchants/acme/products/{id}"),
    ("POST", "/v1/merchants/acme/products/{id}/status"),
    ("GET", "/v1/merchants/acme/products/{id}/history"),
    ("POST", "/v1/merchants/acme/products/{id}/images"),
    ("DELETE", "/v1/merchants/acme/products/{id}/images/" + UNKNOWN_ID),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Basic YWNtZTpzZWNyZXQ=", "Bearer", "bearer "],
    ids=["none", "garbage", "basic", "empty", "blank"],
)
def test_every_route_requires_a_valid_bearer_token(
    client: TestClient,
    product: dict[str, Any],
    events: Callable[[], list[Any]],
    method: str,
    path: str,
    authorization: str | None,
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.request(method, path.format(id=product["id"]), headers=headers)
    problem = assert_problem(response, 401)
    assert problem["type"] == "/problems/unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert len(events()) == 1  # only the registration


def test_token_signed_with_another_key_is_401(client: TestClient) -> None:
    forged = LocalTokens(b"someone-elses-key-0123456789abcdef").issue("acme", ["merchant"])
    response = client.get("/v1/merchants/acme/products", headers=bearer(forged))
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_expired_token_is_401(client: TestClient, tokens: LocalTokens) -> None:
    expired = tokens.issue("acme", ["merchant"], ttl_seconds=-60)
    assert_problem(client.get("/v1/merchants/acme/products", headers=bearer(expired)), 401)


def test_another_merchants_product_is_indistinguishable_from_an_absent_one(
    acme: Api, globex: Api, product: dict[str, Any]
) -> None:
    intruder = globex.as_merchant("acme")
    hidden = intruder.get(product["id"])
    absent = acme.get(UNKNOWN_ID)
    assert hidden.status_code == absent.status_code == 404
    hidden_body, absent_body = hidden.json(), absent.json()
    # Same body except the ids that the caller itself put in the URL.
    assert hidden_body == {
        **absent_body,
        "detail": absent_body["detail"].replace(UNKNOWN_ID, product["id"]),
        "instance": absent_body["instance"].replace(UNKNOWN_ID, product["id"]),
    }
    assert hidden.headers["content-type"] == absent.headers["content-type"]


@pytest.mark.parametrize(
    "call",
    [
        lambda api, pid: api.get(pid),
        lambda api, pid: api.patch(pid, {"name": "Hacked"}),
        lambda api, pid: api.delete(pid),
        lambda api, pid: api.set_status(pid, "INACTIVE"),
        lambda api, pid: api.history(pid),
        lambda api, pid: api.upload(pid, png()),
        lambda api, pid: api.list(),
        lambda api, pid: api.create(product_body("INTRUDER-1")),
    ],
    ids=["get", "patch", "delete", "status", "history", "upload", "list", "create"],
)
def test_a_merchant_cannot_reach_another_merchants_products(
    acme: Api,
    globex: Api,
    product: dict[str, Any],
    events: Callable[[], list[Any]],
    call: Callable[[Api, str], Any],
) -> None:
    response = call(globex.as_merchant("acme"), product["id"])
    assert_problem(response, 404)
    assert acme.get(product["id"]).json() == product
    assert len(acme.list().json()["items"]) == 1
    assert len(events()) == 1


def test_channel_principal_reads_but_cannot_write(
    channel_x: Api, product: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    assert channel_x.get(product["id"]).status_code == 200
    assert channel_x.list().status_code == 200
    assert channel_x.history(product["id"]).status_code == 200
    for response in (
        channel_x.patch(product["id"], {"name": "Channel edit"}),
        channel_x.delete(product["id"]),
        channel_x.set_status(product["id"], "INACTIVE"),
        channel_x.create(product_body("CH-1")),
        channel_x.upload(product["id"], png()),
    ):
        problem = assert_problem(response, 403)
        assert problem["type"] == "/problems/forbidden"
    assert len(events()) == 1


def test_platform_acts_for_any_merchant(
    platform: Api, acme: Api, globex: Api, product: dict[str, Any]
) -> None:
    assert platform.get(product["id"]).status_code == 200
    patched = platform.patch(product["id"], {"name": "Fixed by support"})
    assert patched.status_code == 200
    created = platform.as_merchant("globex").create(product_body("G-1"))
    assert created.status_code == 201
    assert created.json()["merchant_id"] == "globex"
    assert globex.get(created.json()["id"]).status_code == 200
    [entry, *_] = acme.history(product["id"]).json()["items"]
    assert entry["actor"] == "ops-admin"


def test_the_actor_in_history_is_the_tokens_subject(
    client: TestClient, principals: Principals
) -> None:
    api = Api(client, principals.merchant("acme", subject="jane@acme.example"), "acme")
    created = api.create_ok()
    [entry] = api.history(created["id"]).json()["items"]
    assert entry["actor"] == "jane@acme.example"


@pytest.mark.parametrize("merchant", ["ACME", "-acme", "a" * 64, "acme!"])
def test_malformed_merchant_id_is_404(platform: Api, merchant: str) -> None:
    assert_problem(platform.as_merchant(merchant).list(), 404)


class CountingVerifier:
    def __init__(self, tokens: LocalTokens) -> None:
        self.tokens = tokens
        self.calls = 0

    def verify(self, token: str) -> Principal:
        self.calls += 1
        return self.tokens.verify(token)


def test_verified_tokens_are_remembered_until_they_expire(tokens: LocalTokens) -> None:
    now = [time.time()]
    verifier = CountingVerifier(tokens)
    cache = VerifiedTokens(verifier, max_age=300, clock=lambda: now[0])
    token = tokens.issue("acme", ["merchant"], ttl_seconds=60)

    assert cache.verify(token).merchant_id == "acme"
    assert cache.verify(token).merchant_id == "acme"
    assert verifier.calls == 1

    now[0] += 61  # past the token's exp: not answered from memory, verified again
    cache.verify(token)
    assert verifier.calls == 2


def test_verified_tokens_are_rechecked_after_max_age(tokens: LocalTokens) -> None:
    now = [time.time()]
    verifier = CountingVerifier(tokens)
    cache = VerifiedTokens(verifier, max_age=10, clock=lambda: now[0])
    token = tokens.issue("acme", ["merchant"])
    cache.verify(token)
    now[0] += 11
    cache.verify(token)
    assert verifier.calls == 2


def test_refused_tokens_are_not_remembered(tokens: LocalTokens) -> None:
    verifier = CountingVerifier(LocalTokens(b"another-key-0123456789abcdef0123"))
    cache = VerifiedTokens(verifier)
    token = tokens.issue("acme", ["merchant"])
    for _ in range(2):
        with pytest.raises(InvalidToken):
            cache.verify(token)
    assert verifier.calls == 2


def test_token_cache_stays_bounded(tokens: LocalTokens) -> None:
    verifier = CountingVerifier(tokens)
    cache = VerifiedTokens(verifier, max_entries=2)
    first, second, third = (tokens.issue(m, ["merchant"]) for m in ("a1", "a2", "a3"))
    for token in (first, second, third):
        cache.verify(token)
    cache.verify(third)
    assert verifier.calls == 3
    cache.verify(first)  # evicted, verified again
    assert verifier.calls == 4
