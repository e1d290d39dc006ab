"""HS256 bearer tokens signed with the embedded deployment's secret (`catalog token`)."""

from __future__ import annotations

import time

import jwt

from catalog.service.principals import Principal

ISSUER = "catalog-local"
AUDIENCE = "catalog"


class InvalidToken(Exception):
    pass


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
            "sub": subject or f"{merchant_id}-user",
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


def principal_from_claims(claims: dict[str, object]) -> Principal:
    """Claims -> Principal, shared by every way of authenticating (local, apigw, jwks)."""
    roles = claims.get("roles") or ["merchant"]
    if isinstance(roles, str):
        roles = roles.replace(",", " ").split()
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("roles must be a list of strings")
    merchant_id = claims.get("merchant_id")
    return Principal(
        subject=str(claims["sub"]),
        merchant_id=merchant_id if isinstance(merchant_id, str) else None,
        roles=frozenset(roles),
    )
