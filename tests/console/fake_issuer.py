"""A small OpenID Connect provider for the tests: discovery, /authorize, /token and /jwks on
127.0.0.1 (a random port, a thread), strict where the console could go wrong.

GET /authorize checks what the client sent (response type, client id, a registered redirect
URI, an S256 challenge, state, nonce, the openid scope) and shows a page with one button,
"Sign in as <sub>", for `issuer.account`; the button posts to /authorize, which redirects back
with a single-use code and the state. The redirect back is the answer to a form of the
provider's own page, as after a real provider's password form: a navigation another site
started, which is what the console's SameSite=Strict session cookie is particular about.

POST /token checks the client, the code, the redirect URI and the PKCE verifier against the
challenge, then answers an RS256 ID token with the nonce, `aud` = the client id and the
account's claims, changed by `issuer.id_token_changes` when a test wants a bad one.

Its URL says `localhost` while the console under test is served on 127.0.0.1: two sites for
the browser, so the provider's redirects are cross-site navigations, as in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote_plus, urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "catalog-console"
KEY_ID = "fake-issuer-1"
ALICE = {"sub": "alice", "merchant_id": "acme", "roles": ["merchant"]}


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Grant:
    """What /authorize handed a code out for."""

    challenge: str
    redirect_uri: str
    nonce: str
    claims: dict[str, Any]


@dataclass
class FakeIssuer:
    port: int
    client_id: str = CLIENT_ID
    client_secret: str | None = None
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    # Who /authorize signs in: the ID token's claims besides iss, aud, iat, exp and nonce.
    account: dict[str, Any] = field(default_factory=lambda: dict(ALICE))
    # Set by a test: claims to replace (or add) in the ID tokens, and a key to sign them with.
    id_token_changes: dict[str, Any] = field(default_factory=dict)
    signing_key: rsa.RSAPrivateKey | None = None
    # Empty: any redirect URI is registered.
    redirect_uris: set[str] = field(default_factory=set)
    # Every /authorize query received, and every /token form, in order.
    authorizations: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _grants: dict[str, Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def reset(self) -> None:
        """Back to signing in ALICE with good tokens, for the next test."""
        self.account = dict(ALICE)
        self.id_token_changes = {}
        self.signing_key = None
        self.redirect_uris = set()
        self.authorizations.clear()
        self.token_requests.clear()

    # ---------------------------------------------------------------- the endpoints

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]}

    def authorization_page(self, query: dict[str, str]) -> tuple[int, str]:
        """GET /authorize: (200, the sign-in page) or (400, why)."""
        self.authorizations.append(query)
        problem = self._authorization_problem(query)
        if problem:
            return 400, problem
        fields = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in query.items()
        )
        who = html.escape(str(self.account.get("sub", "nobody")))
        return 200, (
            '<!doctype html><title>Fake issuer</title><form method="post" action="/authorize">'
            f"{fields}<button>Sign in as {who}</button></form>"
        )

    def authorize(self, form: dict[str, str]) -> tuple[int, str]:
        """POST /authorize, the page's button: (302, back to the client) or (400, why)."""
        problem = self._authorization_problem(form)
        if problem:
            return 400, problem
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._grants[code] = Grant(
                form["code_challenge"], form["redirect_uri"], form["nonce"], dict(self.account)
            )
        back = urlencode({"code": code, "state": form["state"]})
        return 302, f"{form['redirect_uri']}?{back}"

    def _authorization_problem(self, query: dict[str, str]) -> str:
        checks = (
            ("response_type must be code", query.get("response_type") == "code"),
            ("unknown client_id", query.get("client_id") == self.client_id),
            ("openid scope missing", "openid" in query.get("scope", "").split()),
            ("code_challenge_method must be S256", query.get("code_challenge_method") == "S256"),
            ("code_challenge missing", bool(query.get("code_challenge"))),
            ("state missing", bool(query.get("state"))),
            ("nonce missing", bool(query.get("nonce"))),
            ("redirect_uri not registered", self._registered(query.get("redirect_uri", ""))),
        )
        return "; ".join(what for what, ok in checks if not ok)

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        if not self._client_authenticated(form, authorization):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # single use
        if grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = form.get("code_verifier", "")
        if not hmac.compare_digest(s256(verifier), grant.challenge):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant),
        }

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **grant.claims,
            **self.id_token_changes,
        }
        key = self.signing_key or self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})

    def _registered(self, redirect_uri: str) -> bool:
        if not redirect_uri:
            return False
        return not self.redirect_uris or redirect_uri in self.redirect_uris

    def _client_authenticated(self, form: dict[str, str], authorization: str | None) -> bool:
        if self.client_secret is None:
            return form.get("client_id") == self.client_id
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        # Each half form-urlencoded before base64 (RFC 6749 2.3.1).
        client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        return (unquote_plus(client_id), unquote_plus(secret)) == (
            self.client_id,
            self.client_secret,
        )


def _handler(issuer: FakeIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, issuer.discovery())
            elif url.path == "/jwks":
                self._json(200, issuer.jwks())
            elif url.path == "/authorize":
                status, page = issuer.authorization_page(dict(parse_qsl(url.query)))
                self._answer(status, "text/html", page.encode())
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            form = {name: values[0] for name, values in parse_qs(body).items()}
            path = urlsplit(self.path).path
            if path == "/token":
                self._json(*issuer.token(form, self.headers.get("authorization")))
            elif path == "/authorize":
                status, where = issuer.authorize(form)
                self.send_response(status)
                if status == 302:
                    self.send_header("location", where)
                self.send_header("content-length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._answer(status, "application/json", json.dumps(payload).encode())

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests' output stays the tests'

    return Handler


@contextmanager
def running_issuer(client_secret: str | None = None) -> Iterator[FakeIssuer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    issuer = FakeIssuer(server.server_address[1], client_secret=client_secret)
    server.RequestHandlerClass = _handler(issuer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def redirect_back(authorization_url: str) -> dict[str, str]:
    """What the provider sends the browser back with (the code and the state), for tests that
    play the browser: its page, then its button."""
    page = httpx.get(authorization_url)
    assert page.status_code == 200, page.text
    url = urlsplit(authorization_url)
    answer = httpx.post(f"{url.scheme}://{url.netloc}{url.path}", data=dict(parse_qsl(url.query)))
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))
