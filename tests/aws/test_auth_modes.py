"""CATALOG_AUTH modes other than local: API Gateway's verified claims and an issuer's JWKS.

The JWKS is served by a real HTTP server on 127.0.0.1 with keys generated for the test, so
PyJWKClient fetches, caches and matches `kid`s exactly as it would against Cognito or Auth0.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from catalog.adapters.apigw_auth import ApiGatewayClaims
from catalog.adapters.jwks_tokens import JwksTokens
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.system_clock import SystemClock
from catalog.adapters.token_claims import claim_list, principal_from_claims
from catalog.adapters.ulid_ids import UlidIds
from catalog.bootstrap import ConfigurationError, Container, token_verifier
from catalog.entrypoints.api.app import create_app
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import InvalidToken, TokenVerifier, VerifierUnavailable
from catalog.settings import Settings

ISSUER = "https://issuer.example.test/"
AUDIENCE = "catalog-api"

# ------------------------------------------------------------------ claims


@pytest.mark.parametrize(
    ("value", "roles"),
    [
        (["merchant", "platform"], ["merchant", "platform"]),
        ("[merchant platform]", ["merchant", "platform"]),  # HTTP API's rendering of an array
        ('["merchant","channel:x"]', ["merchant", "channel:x"]),
        ("merchant,platform", ["merchant", "platform"]),
        ("merchant platform", ["merchant", "platform"]),
        ("[channel:mercadolibre]", ["channel:mercadolibre"]),
        ("platform", ["platform"]),
        ("[]", []),
        ("", []),
        (None, []),
    ],
)
def test_list_claims_are_read_in_every_shape_they_arrive_in(value: Any, roles: list[str]) -> None:
    assert claim_list(value) == roles


@pytest.mark.parametrize("value", [42, {"role": "platform"}, [1, 2]])
def test_list_claims_of_other_types_are_refused(value: Any) -> None:
    with pytest.raises(InvalidToken):
        claim_list(value)


def test_principal_defaults_to_merchant_and_needs_a_subject() -> None:
    principal = principal_from_claims({"sub": "u1", "merchant_id": "acme"})
    assert principal.roles == frozenset({"merchant"})
    assert principal.can_write("acme") and not principal.can_write("globex")
    with pytest.raises(InvalidToken):
        principal_from_claims({"merchant_id": "acme", "roles": "merchant"})


def test_claim_names_are_configurable_for_identity_providers_like_cognito() -> None:
    claims = {"sub": "u1", "custom:merchant_id": "acme", "cognito:groups": "[platform]"}
    principal = principal_from_claims(
        claims, merchant_claim="custom:merchant_id", roles_claim="cognito:groups"
    )
    assert principal.merchant_id == "acme"
    assert principal.is_platform


@pytest.mark.parametrize(
    "merchants",
    [["acme", "globex"], '["acme","globex"]', "[acme globex]", "acme,globex", "acme globex"],
    ids=["json-array", "json-in-a-string", "api-gateway-array", "commas", "spaces"],
)
def test_a_channel_scope_is_read_in_every_shape_a_list_claim_arrives_in(merchants: Any) -> None:
    claims = {"sub": "ml-adapter", "roles": "[channel:ml]", "merchants": merchants}
    principal = principal_from_claims(claims)
    assert principal.channel_merchants == frozenset({"acme", "globex"})
    assert principal.can_read("acme") and principal.can_report("globex", "ml")
    assert not principal.can_read("initech")


@pytest.mark.parametrize("merchants", ["*", ["*"], "[*]"])
def test_a_channel_scope_of_star_is_every_merchant(merchants: Any) -> None:
    claims = {"sub": "ml-adapter", "roles": ["channel:ml"], "merchants": merchants}
    principal = principal_from_claims(claims)
    assert principal.can_read("initech") and principal.can_report("initech", "ml")
    assert not principal.can_write("initech")


@pytest.mark.parametrize("merchants", [None, "", "[]", []], ids=["absent", "empty", "[]", "[ ]"])
def test_a_channel_token_without_a_scope_acts_for_no_merchant(merchants: Any) -> None:
    claims = {"sub": "ml-adapter", "merchant_id": "acme", "roles": "[channel:ml]"}
    if merchants is not None:
        claims["merchants"] = merchants
    principal = principal_from_claims(claims)
    # Not even the merchant_id claim's merchant: only the scope claim grants a channel reach.
    assert not principal.can_read("acme")
    assert not principal.can_report("acme", "ml")


def test_the_scope_claim_name_is_configurable() -> None:
    claims = {"sub": "a", "roles": "[channel:ml]", "custom:merchants": "acme", "merchants": "*"}
    principal = principal_from_claims(claims, merchants_claim="custom:merchants")
    assert principal.can_read("acme")
    assert not principal.can_read("globex")  # the default claim name is not read any more


def _scope(authorizer: dict[str, Any] | None) -> dict[str, Any]:
    context: dict[str, Any] = {"requestId": "r-1", "http": {"method": "GET", "path": "/"}}
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {"type": "http", "aws.event": {"version": "2.0", "requestContext": context}}


def test_api_gateway_claims_are_read_from_the_lambda_event() -> None:
    claims = {
        "sub": "ops-admin",
        "merchant_id": "platform-ops",
        "roles": "[merchant platform]",
        "exp": "1893456000",  # numbers arrive as strings too
    }
    verifier = ApiGatewayClaims()
    principal = verifier.authenticate_request(_scope({"jwt": {"claims": claims, "scopes": None}}))
    assert principal is not None
    assert principal.subject == "ops-admin"
    assert principal.roles == frozenset({"merchant", "platform"})


def test_claims_passed_flat_under_the_authorizer_are_read_too() -> None:
    principal = ApiGatewayClaims().authenticate_request(
        _scope({"claims": {"sub": "u1", "merchant_id": "acme"}})
    )
    assert principal is not None and principal.merchant_id == "acme"


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "http"},  # not behind API Gateway at all (catalog serve)
        _scope(None),  # a route without the JWT authorizer
        _scope({"jwt": {"claims": {}, "scopes": None}}),
        _scope({"lambda": {"user": "x"}}),  # another kind of authorizer
    ],
    ids=["no-event", "no-authorizer", "no-claims", "lambda-authorizer"],
)
def test_requests_without_verified_claims_are_not_authenticated(scope: dict[str, Any]) -> None:
    assert ApiGatewayClaims().authenticate_request(scope) is None


def test_api_gateway_mode_reads_the_scope_from_the_claim_the_settings_name(
    tmp_path: Path,
) -> None:
    verifier = token_verifier(
        Settings(data_dir=tmp_path, auth="apigw", jwt_merchants_claim="custom:merchants")
    )
    assert isinstance(verifier, ApiGatewayClaims)
    claims = {"sub": "a", "roles": "[channel:ml]", "custom:merchants": "[acme]", "merchants": "*"}
    principal = verifier.authenticate_request(_scope({"jwt": {"claims": claims}}))
    assert principal is not None
    assert principal.channel_merchants == frozenset({"acme"})


def test_api_gateway_mode_never_trusts_a_bare_token() -> None:
    with pytest.raises(InvalidToken):
        ApiGatewayClaims().verify("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")


# ------------------------------------------------------------------ JWKS


class Issuer:
    """An identity provider: signing keys, the JWKS document it publishes, tokens."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.jwks = {
            "keys": [
                {**RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True), "kid": "rsa-1"},
                {**ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True), "kid": "ec-1"},
            ]
        }
        self.fetches = 0

    def token(
        self,
        *,
        algorithm: str = "RS256",
        kid: str | None = None,
        key: Any = None,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-1",
            "merchant_id": "acme",
            "roles": ["merchant"],
            "iat": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        signing_key = key or (self.rsa if algorithm.startswith("RS") else self.ec)
        default_kid = "rsa-1" if algorithm.startswith("RS") else "ec-1"
        return jwt.encode(
            claims, signing_key, algorithm=algorithm, headers={"kid": kid or default_kid}
        )


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()  # generating RSA keys takes a while: once for the module


@pytest.fixture
def jwks_url(issuer: Issuer) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.fetches += 1
            body = json.dumps(issuer.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    issuer.fetches = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def verifier(jwks_url: str) -> JwksTokens:
    return JwksTokens(jwks_url, ISSUER, AUDIENCE)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_jwks_tokens_signed_by_the_issuer_are_accepted(
    issuer: Issuer, verifier: JwksTokens, algorithm: str
) -> None:
    principal = verifier.verify(issuer.token(algorithm=algorithm, roles="[merchant platform]"))
    assert principal.subject == "user-1"
    assert principal.merchant_id == "acme"
    assert principal.roles == frozenset({"merchant", "platform"})


def test_jwks_mode_reads_the_scope_from_the_claim_the_settings_name(
    issuer: Issuer, jwks_url: str, tmp_path: Path
) -> None:
    claim = "https://catalog.example.test/merchants"
    verifier = token_verifier(
        Settings(
            data_dir=tmp_path,
            auth="jwks",
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            jwks_url=jwks_url,
            jwt_merchants_claim=claim,
        )
    )
    token = issuer.token(roles=["channel:ml"], merchants=["*"], **{claim: ["acme", "globex"]})
    principal = verifier.verify(token)
    assert principal.channel_merchants == frozenset({"acme", "globex"})
    assert principal.can_report("globex", "ml") and not principal.can_read("initech")


def test_the_key_set_is_fetched_once_for_many_tokens(issuer: Issuer, verifier: JwksTokens) -> None:
    for subject in ("a", "b", "c"):
        verifier.verify(issuer.token(sub=subject))
    assert issuer.fetches == 1


@pytest.mark.parametrize(
    "case",
    ["wrong-issuer", "wrong-audience", "expired", "no-subject", "unknown-key", "hs256", "garbage"],
)
def test_jwks_tokens_that_are_not_the_issuers_are_refused(
    issuer: Issuer, verifier: JwksTokens, case: str
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "wrong-issuer": lambda: issuer.token(iss="https://evil.example.test/"),
        "wrong-audience": lambda: issuer.token(aud="another-api"),
        "expired": lambda: issuer.token(exp=int(time.time()) - 3600),
        "no-subject": lambda: issuer.token(sub=None),
        # Signed by someone else but claiming the issuer's key id.
        "unknown-key": lambda: issuer.token(key=stranger),
        # Symmetric algorithms are never acceptable against a key set of public keys.
        "hs256": lambda: jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
            "a-shared-secret-nobody-should-trust-0123456789",
            algorithm="HS256",
            headers={"kid": "rsa-1"},
        ),
        "garbage": lambda: "not-a-jwt",
    }[case]()
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_an_unreachable_key_set_is_unavailability_not_a_bad_token(issuer: Issuer) -> None:
    verifier = JwksTokens("http://127.0.0.1:9/jwks.json", ISSUER, AUDIENCE, timeout_seconds=2)
    with pytest.raises(VerifierUnavailable):
        verifier.verify(issuer.token())


def test_audience_is_unchecked_when_none_is_configured(issuer: Issuer, jwks_url: str) -> None:
    # Cognito access tokens carry client_id instead of aud.
    verifier = JwksTokens(jwks_url, ISSUER)
    assert verifier.verify(issuer.token(aud=None)).subject == "user-1"


# ------------------------------------------------------------------ through the API


def _client(verifier: TokenVerifier, tmp_path: Path) -> TestClient:
    ctx = CatalogContext(
        store=MemoryStore(),
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        clock=SystemClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"auth-modes-cursor-secret"),
    )
    container = Container(settings=Settings(data_dir=tmp_path), ctx=ctx, tokens=verifier)
    return TestClient(create_app(container))


def test_api_with_jwks_auth(issuer: Issuer, verifier: JwksTokens, tmp_path: Path) -> None:
    with _client(verifier, tmp_path) as client:
        url = "/v1/merchants/acme/products"
        ok = client.get(url, headers={"Authorization": f"Bearer {issuer.token()}"})
        assert ok.status_code == 200, ok.text
        forged = issuer.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
        refused = client.get(url, headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_api_answers_503_when_the_key_set_is_unreachable(issuer: Issuer, tmp_path: Path) -> None:
    verifier = JwksTokens("http://127.0.0.1:9/jwks.json", ISSUER, AUDIENCE, timeout_seconds=2)
    with _client(verifier, tmp_path) as client:
        response = client.get(
            "/v1/merchants/acme/products", headers={"Authorization": f"Bearer {issuer.token()}"}
        )
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "retry-after" in response.headers


def test_api_in_apigw_mode_refuses_requests_that_did_not_come_through_api_gateway(
    issuer: Issuer, tmp_path: Path
) -> None:
    with _client(ApiGatewayClaims(), tmp_path) as client:
        response = client.get(
            "/v1/merchants/acme/products", headers={"Authorization": f"Bearer {issuer.token()}"}
        )
    assert response.status_code == 401


# ------------------------------------------------------------------ settings


def test_auth_setting_picks_the_verifier(tmp_path: Path) -> None:
    assert isinstance(token_verifier(Settings(data_dir=tmp_path, auth="apigw")), ApiGatewayClaims)
    jwks = token_verifier(Settings(data_dir=tmp_path, auth="jwks", jwt_issuer=ISSUER))
    assert isinstance(jwks, JwksTokens)


def test_jwks_url_defaults_to_the_issuers_well_known_key_set() -> None:
    settings = Settings(auth="jwks", jwt_issuer="https://cognito-idp.example.test/pool/")
    assert settings.jwks_endpoint == "https://cognito-idp.example.test/pool/.well-known/jwks.json"
    explicit = Settings(auth="jwks", jwt_issuer=ISSUER, jwks_url="https://keys.example.test/k")
    assert explicit.jwks_endpoint == "https://keys.example.test/k"


def test_jwks_auth_without_an_issuer_fails_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CATALOG_JWT_ISSUER"):
        token_verifier(Settings(data_dir=tmp_path, auth="jwks"))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_AUTH", "jwks")
    monkeypatch.setenv("CATALOG_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("CATALOG_JWT_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("CATALOG_JWT_ROLES_CLAIM", "cognito:groups")
    monkeypatch.setenv("CATALOG_JWT_MERCHANTS_CLAIM", "custom:merchants")
    monkeypatch.setenv("CATALOG_CURSOR_SECRET", "s" * 40)
    settings = Settings()
    assert (settings.auth, settings.jwt_issuer, settings.jwt_audience) == (
        "jwks",
        ISSUER,
        AUDIENCE,
    )
    assert settings.jwt_roles_claim == "cognito:groups"
    assert settings.jwt_merchants_claim == "custom:merchants"
    assert settings.cursor_secret is not None
    assert "s" * 40 not in repr(settings)  # secrets stay out of logs and tracebacks
