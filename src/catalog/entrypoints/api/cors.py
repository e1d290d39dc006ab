"""CORS for browser clients, off unless CATALOG_CORS_ORIGINS lists their origins.

Starlette's CORSMiddleware does the work (preflights answered before any route, the response
headers on simple and actual requests); this only says which headers our clients send and read,
and answers a refused preflight with a problem document like every other 4xx of the API.
Tokens travel in the Authorization header, never in cookies, so credentials are not allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from catalog.entrypoints.api.problems import problem_response

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# What the API's clients send: the token, bodies, conditional requests, safe retries.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key")
# What a script may read besides the CORS-safelisted ones (Content-Type, Cache-Control, ...).
EXPOSED_HEADERS = ("ETag", "Location", "Retry-After", "Idempotent-Replayed", "Outcome-Ignored")
PREFLIGHT_MAX_AGE = 3600


class BrowserOrigins(CORSMiddleware):
    """CORSMiddleware for the listed origins, with refused preflights as 403 problems."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Starlette says what it refused in plain text ("Disallowed CORS origin, method").
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        # A refused preflight grants nothing: no Access-Control-Allow-* at all.
        headers = {"Vary": response.headers["vary"]} if "vary" in response.headers else {}
        return problem_response(
            None,
            403,
            slug="cors-refused",
            title="Cross-origin request refused",
            detail=f"this preflight asks for what the API does not allow: {refused}",
            extensions={"refused": [part.strip() for part in refused.split(",")]},
            headers=headers,
        )
