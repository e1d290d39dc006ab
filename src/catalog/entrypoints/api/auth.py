"""Bearer authentication: the token becomes a Principal, or the request gets a 401 problem.

Verification itself belongs to the container's TokenVerifier (local HS256, API Gateway claims
or JWKS); this module only speaks HTTP (RFC 6750) around it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from catalog.adapters.local_tokens import InvalidToken
from catalog.entrypoints.api.problems import ApiProblem
from catalog.service.principals import Principal

bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description=(
        "A JWT with claims `sub`, `merchant_id` and `roles` (`merchant`, `platform`, "
        "`channel:<slug>`). `catalog token --merchant M` prints one for the embedded server."
    ),
)


def _unauthorized(detail: str, error: str | None) -> ApiProblem:
    challenge = 'Bearer realm="catalog"'
    if error:
        challenge += f', error="{error}"'
    return ApiProblem(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": challenge},
    )


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("send Authorization: Bearer <token>", None)
    try:
        return request.app.state.container.tokens.verify(credentials.credentials)  # type: ignore[no-any-return]
    except InvalidToken:
        # The precise reason (expired, bad signature, wrong audience) is not echoed: it helps
        # an attacker more than a client, which only needs to fetch a new token.
        raise _unauthorized("the bearer token is invalid or expired", "invalid_token") from None
