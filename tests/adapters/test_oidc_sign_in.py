"""The console's OIDC sign-in against a provider on 127.0.0.1 (tests/console/fake_issuer.py):
what it asks the provider for, and which ID tokens sign somebody in."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from catalog.adapters.oidc_sign_in import OidcSignIn
from catalog.service.ports import SignInRefused, SignInUnavailable
from catalog.service.principals import MERCHANT, Principal
from tests.console.fake_issuer import (
    CLIENT_ID,
    FakeIssuer,
    new_key,
    redirect_back,
    running_issuer,
    s256,
)

REDIRECT_URI = "https://catalog.example.test/console/sign-in/callback"


@pytest.fixture(scope="module")
def running() -> Iterator[FakeIssuer]:
    with running_issuer() as issuer:
        yield issuer


@pytest.fixture
def issuer(running: FakeIssuer) -> FakeIssuer:
    running.reset()
    return running


def sign_in_with(
    client: OidcSignIn, *, nonce: str = "n-1", verifier: str | None = None, sent: str = ""
) -> Principal:
    """One sign-in as a browser would go through it: to the provider and back, then the
    exchange of the code (with `sent` as the verifier when given, else the right one)."""
    verifier = verifier or secrets.token_urlsafe(48)
    url = client.authorization_url(
        state="s-1", nonce=nonce, code_challenge=s256(verifier), redirect_uri=REDIRECT_URI
    )
    back = redirect_back(url)
    assert back["state"] == "s-1"
    return client.exchange(
        code=back["code"], code_verifier=sent or verifier, redirect_uri=REDIRECT_URI, nonce=nonce
    )


def test_a_good_id_token_signs_its_merchant_in(issuer: FakeIssuer) -> None:
    issuer.redirect_uris = {REDIRECT_URI}
    client = OidcSignIn(issuer.url, CLIENT_ID, scopes="email")
    principal = sign_in_with(client)
    assert principal == Principal("alice", "acme", frozenset({MERCHANT}))
    [asked] = issuer.authorizations
    assert asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == REDIRECT_URI
    assert asked["scope"].split() == ["openid", "email"]
    [exchanged] = issuer.token_requests
    assert exchanged["client_id"] == CLIENT_ID
    assert "client_secret" not in exchanged  # a public client, PKCE only


def test_claims_are_read_with_the_configured_names(issuer: FakeIssuer) -> None:
    issuer.account = {"sub": "bob", "custom:merchant_id": "globex", "custom:roles": "merchant"}
    client = OidcSignIn(
        issuer.url, CLIENT_ID, merchant_claim="custom:merchant_id", roles_claim="custom:roles"
    )
    assert sign_in_with(client) == Principal("bob", "globex", frozenset({MERCHANT}))


def test_a_confidential_client_authenticates_its_token_request() -> None:
    with running_issuer(client_secret="s3cret/+") as issuer:
        good = OidcSignIn(issuer.url, CLIENT_ID, client_secret="s3cret/+")
        assert sign_in_with(good).merchant_id == "acme"
        wrong = OidcSignIn(issuer.url, CLIENT_ID, client_secret="guessed")
        with pytest.raises(SignInRefused, match="invalid_client"):
            sign_in_with(wrong)


def test_an_id_token_for_another_sign_in_is_refused(issuer: FakeIssuer) -> None:
    client = OidcSignIn(issuer.url, CLIENT_ID)
    url = client.authorization_url(
        state="s", nonce="mine", code_challenge=s256("v" * 43), redirect_uri=REDIRECT_URI
    )
    code = redirect_back(url)["code"]
    with pytest.raises(SignInRefused, match="nonce"):
        client.exchange(code=code, code_verifier="v" * 43, redirect_uri=REDIRECT_URI, nonce="x")


def test_an_id_token_for_another_client_is_refused(issuer: FakeIssuer) -> None:
    issuer.id_token_changes = {"aud": "another-client"}
    with pytest.raises(SignInRefused, match=r"(?i)audience"):
        sign_in_with(OidcSignIn(issuer.url, CLIENT_ID))
    issuer.id_token_changes = {"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}
    with pytest.raises(SignInRefused, match="azp"):
        sign_in_with(OidcSignIn(issuer.url, CLIENT_ID))


def test_a_code_without_its_verifier_is_refused(issuer: FakeIssuer) -> None:
    with pytest.raises(SignInRefused, match="PKCE"):
        sign_in_with(OidcSignIn(issuer.url, CLIENT_ID), sent=secrets.token_urlsafe(48))


def test_an_expired_id_token_is_refused(issuer: FakeIssuer) -> None:
    an_hour_ago = int(time.time()) - 3600
    issuer.id_token_changes = {"iat": an_hour_ago - 300, "exp": an_hour_ago}
    with pytest.raises(SignInRefused, match="expired"):
        sign_in_with(OidcSignIn(issuer.url, CLIENT_ID))


def test_an_id_token_signed_with_another_key_is_refused(issuer: FakeIssuer) -> None:
    issuer.signing_key = new_key()
    with pytest.raises(SignInRefused, match=r"(?i)signature"):
        sign_in_with(OidcSignIn(issuer.url, CLIENT_ID))


def test_an_id_token_from_another_issuer_is_refused(issuer: FakeIssuer) -> None:
    issuer.id_token_changes = {"iss": "https://elsewhere.example.test"}
    with pytest.raises(SignInRefused, match="issuer"):
        sign_in_with(OidcSignIn(issuer.url, CLIENT_ID))


def test_a_code_is_exchanged_once(issuer: FakeIssuer) -> None:
    client = OidcSignIn(issuer.url, CLIENT_ID)
    url = client.authorization_url(
        state="s", nonce="n", code_challenge=s256("v" * 43), redirect_uri=REDIRECT_URI
    )
    code = redirect_back(url)["code"]
    client.exchange(code=code, code_verifier="v" * 43, redirect_uri=REDIRECT_URI, nonce="n")
    with pytest.raises(SignInRefused, match="invalid_grant"):
        client.exchange(code=code, code_verifier="v" * 43, redirect_uri=REDIRECT_URI, nonce="n")


def test_an_account_without_a_subject_is_refused(issuer: FakeIssuer) -> None:
    issuer.account = {"merchant_id": "acme"}
    with pytest.raises(SignInRefused):
        sign_in_with(OidcSignIn(issuer.url, CLIENT_ID))


def test_the_authorization_url_keeps_the_endpoints_own_query(issuer: FakeIssuer) -> None:
    client = OidcSignIn(issuer.url, CLIENT_ID)
    url = client.authorization_url(
        state="st", nonce="no", code_challenge="ch", redirect_uri=REDIRECT_URI
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{issuer.url}/authorize"
    assert dict(parse_qsl(parts.query)) == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "st",
        "nonce": "no",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
    }


def test_an_unreachable_issuer_is_unavailable_not_refused() -> None:
    with running_issuer() as gone:
        url = gone.url
    client = OidcSignIn(url, CLIENT_ID, timeout_seconds=2)
    with pytest.raises(SignInUnavailable):
        client.authorization_url(state="s", nonce="n", code_challenge="c", redirect_uri="r")


def test_a_discovery_document_of_another_issuer_is_not_trusted(issuer: FakeIssuer) -> None:
    # The same server under another name: its document names http://localhost:<port>.
    client = OidcSignIn(f"http://127.0.0.1:{issuer.port}", CLIENT_ID)
    with pytest.raises(SignInUnavailable, match="names issuer"):
        client.authorization_url(state="s", nonce="n", code_challenge="c", redirect_uri="r")
