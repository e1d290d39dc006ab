"""CATALOG_AUTH=jwks: verify RS256/ES256 bearer tokens against an issuer's published keys.

For deployments without API Gateway's JWT authorizer in front (or the embedded server behind
an OIDC provider). The key set is fetched from `jwks_url` on first use and cached by PyJWT's
PyJWKClient for five minutes; a token signed with an unknown `kid` triggers at most one
refetch per cooldown, which is how key rotation is picked up.
"""

from __future__ import annotations

from collections.abc import Sequence

import jwt

from catalog.adapters.token_claims import (
    DEFAULT_MERCHANT_CLAIM,
    DEFAULT_MERCHANTS_CLAIM,
    DEFAULT_ROLES_CLAIM,
    principal_from_claims,
)
from catalog.service.ports import InvalidToken, VerifierUnavailable
from catalog.service.principals import Principal

# Asymmetric only: with a JWKS an HS256 token would be "signed" with a public key.
DEFAULT_ALGORITHMS = ("RS256", "ES256")


class JwksTokens:
    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str | None = None,
        *,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        merchant_claim: str = DEFAULT_MERCHANT_CLAIM,
        roles_claim: str = DEFAULT_ROLES_CLAIM,
        merchants_claim: str = DEFAULT_MERCHANTS_CLAIM,
        leeway_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._keys = jwt.PyJWKClient(
            jwks_url, cache_jwk_set=True, lifespan=300, timeout=timeout_seconds
        )
        self._issuer = issuer
        self._audience = audience
        self._algorithms = list(algorithms)
        self._merchant_claim = merchant_claim
        self._roles_claim = roles_claim
        self._merchants_claim = merchants_claim
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Principal:
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                # Some issuers (Cognito access tokens) put the client in `client_id`, not `aud`.
                options={"require": ["sub", "exp", "iss"], "verify_aud": bool(self._audience)},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise VerifierUnavailable(str(error)) from error
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return principal_from_claims(
            claims,
            merchant_claim=self._merchant_claim,
            roles_claim=self._roles_claim,
            merchants_claim=self._merchants_claim,
        )
