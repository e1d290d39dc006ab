"""CATALOG_AUTH=apigw: trust the claims API Gateway's JWT authorizer has already verified.

Behind an HTTP API route with a JWT authorizer, API Gateway checks the token's signature,
issuer, audience and expiry before invoking the Lambda, and passes the claims in the event
(payload format 2.0): `requestContext.authorizer.jwt.claims`. Mangum exposes that event to the
app as the ASGI scope's `aws.event`. Nothing is verified again here, which is only sound when
every route has the authorizer: a request that reaches the app without claims is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.adapters.token_claims import (
    DEFAULT_MERCHANT_CLAIM,
    DEFAULT_MERCHANTS_CLAIM,
    DEFAULT_ROLES_CLAIM,
    principal_from_claims,
)
from catalog.service.ports import InvalidToken
from catalog.service.principals import Principal


def authorizer_claims(event: Mapping[str, Any]) -> Mapping[str, object] | None:
    """The verified claims of an API Gateway event, or None when no JWT authorizer ran."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    if not isinstance(authorizer, Mapping):
        return None
    jwt = authorizer.get("jwt")
    # Payload 2.0 nests the claims under `jwt`; some integrations have been seen passing
    # them flat under `authorizer` (awsdocs/amazon-api-gateway-developer-guide#113).
    claims = jwt.get("claims") if isinstance(jwt, Mapping) else authorizer.get("claims")
    return claims if isinstance(claims, Mapping) and claims else None


class ApiGatewayClaims:
    """A TokenVerifier and RequestAuthenticator: authenticates from the request context
    instead of the token."""

    def __init__(
        self,
        *,
        merchant_claim: str = DEFAULT_MERCHANT_CLAIM,
        roles_claim: str = DEFAULT_ROLES_CLAIM,
        merchants_claim: str = DEFAULT_MERCHANTS_CLAIM,
    ) -> None:
        self._merchant_claim = merchant_claim
        self._roles_claim = roles_claim
        self._merchants_claim = merchants_claim

    def authenticate_request(self, scope: Mapping[str, Any]) -> Principal | None:
        """The caller of this ASGI request, None when API Gateway verified no token for it."""
        event = scope.get("aws.event")
        claims = authorizer_claims(event) if isinstance(event, Mapping) else None
        if claims is None:
            return None
        return principal_from_claims(
            claims,
            merchant_claim=self._merchant_claim,
            roles_claim=self._roles_claim,
            merchants_claim=self._merchants_claim,
        )

    def verify(self, token: str) -> Principal:
        # Reached only through a path that bypasses API Gateway (e.g. `catalog serve` with
        # CATALOG_AUTH=apigw): the token's signature cannot be checked here, so it is refused.
        raise InvalidToken("tokens are verified by API Gateway's JWT authorizer")
