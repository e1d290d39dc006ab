"""HS256 bearer tokens signed with the embedded deployment's secret (`catalog token`)."""

from __future__ import annotations

import time

import jwt

from catalog.adapters.token_claims import principal_from_claims
from catalog.service.ports import InvalidToken
from catalog.service.principals import CHANNEL_PREFIX, Principal

__all__ = ["InvalidToken", "LocalTokens"]

ISSUER = "catalog-local"
AUDIENCE = "catalog"


def default_subject(merchant_id: str, roles: list[str]) -> str:
    """The actor history credits: a channel's adapter, not the merchant it reports for."""
    if roles and all(role.startswith(CHANNEL_PREFIX) for role in roles):
        return roles[0]
    return f"{merchant_id}-user"


class LocalTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(
        self,
        merchant_id: str,
        roles: list[str],
        subject: str | None = None,
        ttl_seconds: int = 30 * 24 * 3600,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject or default_subject(merchant_id, roles),
            "merchant_id": merchant_id,
            "roles": roles,
            "iat": now,
            "exp": now + ttl_seconds,
        }
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
