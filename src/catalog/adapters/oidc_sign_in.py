"""The console's sign-in with an OpenID Connect provider (ConsoleSignIn): authorization code
with PKCE, against CATALOG_JWT_ISSUER, as the client CATALOG_CONSOLE_OIDC_CLIENT_ID.

The provider's endpoints come from its discovery document, fetched on the first sign-in (not
when the container is built: a Lambda's cold start makes no call for a page nobody asked
for) and kept for the process's life. The ID token is verified against the provider's JWKS
(PyJWT's PyJWKClient, which refetches on an unknown `kid`): signature, `iss`, `aud` (this
client), `exp` and the `nonce` the sign-in started with; its claims become a Principal as
the API's tokens' do (token_claims).

HTTP goes through the standard library, like PyJWKClient's: the Lambda package leaves httpx
out, and two small requests per sign-in need nothing more. PyJWT (and the cryptography it
loads) is imported on the first sign-in too, off the API's cold path.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from msgspec import Struct

from catalog.adapters.token_claims import (
    DEFAULT_MERCHANT_CLAIM,
    DEFAULT_MERCHANTS_CLAIM,
    DEFAULT_ROLES_CLAIM,
    principal_from_claims,
)
from catalog.service.ports import InvalidToken, SignInRefused, SignInUnavailable
from catalog.service.principals import Principal

if TYPE_CHECKING:
    import jwt

DISCOVERY_PATH = "/.well-known/openid-configuration"
# Asymmetric only: an HS256 ID token would be "signed" with the client secret, or nothing.
ALGORITHMS = ("RS256", "ES256")
_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderMetadata(Struct, frozen=True):
    """What the discovery document says, of what this client uses."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class OidcSignIn:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        scopes: str = "openid",
        merchant_claim: str = DEFAULT_MERCHANT_CLAIM,
        roles_claim: str = DEFAULT_ROLES_CLAIM,
        merchants_claim: str = DEFAULT_MERCHANTS_CLAIM,
        leeway_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._client_secret = client_secret
        wanted = scopes.split()
        self._scopes = " ".join(wanted if "openid" in wanted else ["openid", *wanted])
        self._claims = {
            "merchant_claim": merchant_claim,
            "roles_claim": roles_claim,
            "merchants_claim": merchants_claim,
        }
        self._leeway = leeway_seconds
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._keys: jwt.PyJWKClient | None = None

    def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, redirect_uri: str
    ) -> str:
        endpoint = self._provider().authorization_endpoint
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "scope": self._scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange(
        self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> Principal:
        provider = self._provider()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if self._client_secret is None:
            form["client_id"] = self._client_id
        else:
            # client_secret_basic, the method every provider must accept (RFC 6749 2.3.1).
            pair = f"{quote(self._client_id, safe='')}:{quote(self._client_secret, safe='')}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        answer = self._fetch_json(provider.token_endpoint, urlencode(form).encode(), headers)
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise SignInUnavailable("the token endpoint answered without an id_token")
        claims = self._verified(id_token, provider, nonce)
        try:
            return principal_from_claims(claims, **self._claims)
        except InvalidToken as error:
            raise SignInRefused(str(error)) from error

    def _verified(self, id_token: str, provider: ProviderMetadata, nonce: str) -> dict[str, Any]:
        import jwt
        from jwt.algorithms import has_crypto

        if not has_crypto:
            raise SignInUnavailable(
                "verifying ID tokens needs the cryptography package: "
                "pip install 'product-catalog[jwks]'"
            )
        try:
            key = self._key_set(provider).get_signing_key_from_jwt(id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self._issuer,
                audience=self._client_id,
                leeway=self._leeway,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "nonce"]},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise SignInUnavailable(f"the provider's keys are unreachable: {error}") from error
        except jwt.PyJWTError as error:
            raise SignInRefused(f"the ID token is not valid: {error}") from error
        if not hmac.compare_digest(str(claims["nonce"]), nonce):
            raise SignInRefused("the ID token was not issued for this sign-in (nonce)")
        audience = claims["aud"]
        # An ID token for several audiences names the one it was issued to (OIDC Core 3.1.3.7).
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self._client_id:
            raise SignInRefused("the ID token was issued to another client (azp)")
        return claims

    def _key_set(self, provider: ProviderMetadata) -> jwt.PyJWKClient:
        import jwt

        with self._lock:
            if self._keys is None:
                self._keys = jwt.PyJWKClient(
                    provider.jwks_uri, cache_jwk_set=True, lifespan=300, timeout=self._timeout
                )
            return self._keys

    def _provider(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata is not None:
                return self._metadata
        document = self._fetch_json(self._issuer.rstrip("/") + DISCOVERY_PATH)
        # The document must be the issuer's own (OIDC Discovery 4.3): the ID tokens' `iss`.
        if document.get("issuer") != self._issuer:
            raise SignInUnavailable(
                f"the discovery document names issuer {document.get('issuer')!r}, "
                f"not {self._issuer!r}"
            )
        endpoints = {name: document.get(name) for name in _ENDPOINTS}
        for name, url in endpoints.items():
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise SignInUnavailable(f"the discovery document gives no usable {name}")
        metadata = ProviderMetadata(**endpoints)  # type: ignore[arg-type]  # checked above
        with self._lock:
            self._metadata = metadata
        return metadata

    def _fetch_json(
        self, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        request = urllib.request.Request(
            url, data=body, headers={"accept": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            # A 400/401 from the token endpoint is its verdict on this code (invalid_grant:
            # expired, replayed, or the verifier does not match the challenge).
            if body is not None and error.code in (400, 401):
                raise SignInRefused(_oauth_error(error)) from error
            raise SignInUnavailable(f"{url} answered {error.code}") from error
        except (OSError, ValueError) as error:
            raise SignInUnavailable(f"{url} could not be read: {error}") from error
        if not isinstance(answer, dict):
            raise SignInUnavailable(f"{url} answered something other than a JSON object")
        return answer


def _oauth_error(error: urllib.error.HTTPError) -> str:
    try:
        answer = json.loads(error.read())
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return f"the token endpoint refused the code ({error.code})"
    described = answer.get("error_description")
    return f"the token endpoint refused the code: {answer.get('error')}" + (
        f" ({described})" if described else ""
    )
