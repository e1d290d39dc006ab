"""HS256 bearer tokens signed with the embedded deployment's secret (`catalog token`)."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

import jwt

from catalog.adapters.token_claims import DEFAULT_MERCHANTS_CLAIM, principal_from_claims
from catalog.service.ports import InvalidToken
from catalog.service.principals import Principal, default_subject

__all__ = ["InvalidToken", "LocalTokens"]

ISSUER = "catalog-local"
AUDIENCE = "catalog"


class LocalTokens:
    """Signs and verifies the embedded deployment's tokens. Their claim names are fixed
    (`merchant_id`, `roles`, `merchants`): the same deployment writes and reads them, so the
    CATALOG_JWT_*_CLAIM settings, which adapt to another issuer's tokens, do not apply."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(
        self,
        merchant_id: str | None,
        roles: Sequence[str],
        subject: str | None = None,
        ttl_seconds: int = 30 * 24 * 3600,
        merchants: Collection[str] = (),
    ) -> str:
        """`merchants` is a channel role's scope: merchant ids, or ALL_MERCHANTS; none given,
        a channel token acts for no merchant."""
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject or default_subject(merchant_id, roles),
            "roles": list(roles),
            "iat": now,
            "exp": now + ttl_seconds,
        }
        if merchant_id is not None:
            claims["merchant_id"] = merchant_id
        if merchants:
            claims[DEFAULT_MERCHANTS_CLAIM] = sorted(set(merchants))
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return principal_from_claims(claims)
