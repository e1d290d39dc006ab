"""RFC 9457 problem documents: the one shape of every 4xx and 5xx answer of the API.

Each domain error maps to one problem type (a relative URI under /problems/ naming the kind
of failure, stable for clients to branch on), one status and the extension members a client
needs to react without parsing `detail`: `errors` for invalid input, `missing` for an
incomplete product, `current_status`, `current_version`.

Errors raised by the framework itself (routing, form parsing) get their type from one table,
FRAMEWORK_PROBLEMS, so no answer is ever `about:blank`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from msgspec import Struct
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from catalog.domain import errors as domain
from catalog.entrypoints.api.routing import allowed_methods, route_path
from catalog.service.problems import (
    mapping_for,
    problem_document,
)

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger("catalog.api")

# The headers security_headers.SecurityHeaders gives every other response.
UNEXPECTED_ERROR_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


@dataclass
class ApiProblem(Exception):
    """A problem raised by the HTTP layer itself (auth, headers, body size, content type)."""

    status: int
    slug: str
    title: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body is being read. An HTTPException so FastAPI's body reader re-raises
    it as it is instead of turning every read failure into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body exceeds {limit} bytes")
        self.limit = limit


def problem_response(
    request: Request | None,
    status: int,
    *,
    slug: str,
    title: str,
    detail: str | None,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    instance = request.url.path if request is not None else None
    document = problem_document(
        status, slug=slug, title=title, detail=detail, instance=instance, extensions=extensions
    )
    return JSONResponse(
        document, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


def api_problem_response(request: Request | None, problem: ApiProblem) -> JSONResponse:
    return problem_response(
        request,
        problem.status,
        slug=problem.slug,
        title=problem.title,
        detail=problem.detail,
        extensions=problem.extensions,
        headers=problem.headers,
    )


# ------------------------------------------------------------------ domain errors


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.DomainError)
    mapping = mapping_for(exc)
    if mapping is None:
        return await _unexpected(request, exc)
    return problem_response(
        request,
        mapping.status,
        slug=mapping.slug,
        title=mapping.title,
        detail=str(exc),
        extensions=mapping.extensions(exc),
        headers=mapping.headers(exc),
    )


# ------------------------------------------------------------------ request validation


def pointer(parts: Sequence[str | int]) -> str:
    """A JSON pointer (RFC 6901) from a pydantic location inside the body."""
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def describe_validation_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic/FastAPI error locations -> {field, in, message}: body fields as JSON pointers,
    query, path and header parameters by name."""
    described = []
    for error in raw:
        loc = [part for part in error.get("loc", ()) if part != "[key]"]
        where = str(loc[0]) if loc else "body"
        rest = loc[1:]
        if where == "body":
            name = pointer(rest) if rest else "/"
        else:
            name = str(rest[0]) if rest else where
        message = str(error.get("msg", "is invalid"))
        described.append({"field": name, "in": where, "message": message})
    return described


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    malformed = [e for e in raw if e.get("type") == "json_invalid"]
    if malformed:
        reason = (malformed[0].get("ctx") or {}).get("error", "invalid JSON")
        return problem_response(
            request,
            400,
            slug="malformed-body",
            title="Malformed request body",
            detail=f"the body is not valid JSON: {reason}",
        )
    described = describe_validation_errors(raw)
    return problem_response(
        request,
        422,
        slug="validation-error",
        title="Invalid request",
        detail="; ".join(f"{e['field']}: {e['message']}" for e in described[:5]),
        extensions={"errors": described},
    )


# ------------------------------------------------------------------ HTTP layer


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return api_problem_response(request, exc)


class FrameworkProblem(Struct, frozen=True):
    slug: str
    title: str
    detail: str


# What Starlette and FastAPI raise themselves, by status, with the detail given when theirs
# is only the status phrase. A status missing here still gets a type, from its phrase.
FRAMEWORK_PROBLEMS: dict[int, FrameworkProblem] = {
    400: FrameworkProblem("bad-request", "Bad request", "the request cannot be read"),
    404: FrameworkProblem("not-found", "Not found", "no such resource"),
    405: FrameworkProblem(
        "method-not-allowed", "Method not allowed", "this resource does not answer this method"
    ),
    406: FrameworkProblem(
        "not-acceptable", "Not acceptable", "this resource cannot answer in an accepted type"
    ),
    413: FrameworkProblem(
        "content-too-large", "Content too large", "the request body exceeds the limit"
    ),
    415: FrameworkProblem(
        "unsupported-media-type", "Unsupported media type", "this body type is not accepted"
    ),
}
# A multipart body the parser refused: two `file` parts, too many fields, a part over its
# limit, no boundary. Starlette turns its MultiPartException into a plain 400.
INVALID_MULTIPART = FrameworkProblem(
    "invalid-multipart", "Invalid multipart form", "the multipart form cannot be read"
)


def framework_problem(exc: StarletteHTTPException) -> FrameworkProblem:
    if isinstance(exc.__context__, MultiPartException):
        return INVALID_MULTIPART
    known = FRAMEWORK_PROBLEMS.get(exc.status_code)
    if known is not None:
        return known
    phrase = _phrase(exc.status_code)
    slug = "-".join(re.findall(r"[a-z0-9]+", phrase.lower().replace("'", ""))) or "error"
    return FrameworkProblem(slug, phrase, phrase.lower())


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    kind = framework_problem(exc)
    given = exc.detail if isinstance(exc.detail, str) else None
    detail = given if given and given != _phrase(status) else kind.detail
    headers = dict(exc.headers or {})
    if status == 405:
        methods = allowed_methods(request.app.routes, route_path(request.scope))
        headers["Allow"] = ", ".join(methods) or headers.get("Allow", "")
    return problem_response(
        request, status, slug=kind.slug, title=kind.title, detail=detail, headers=headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The client learns only that it failed; the log keeps the details for the operator.
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        500,
        slug="internal-error",
        title="Internal server error",
        detail="the server could not complete the request; it has been logged",
        # Starlette answers this one outside every middleware, SecurityHeaders included.
        headers=UNEXPECTED_ERROR_HEADERS,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(domain.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unexpected)
