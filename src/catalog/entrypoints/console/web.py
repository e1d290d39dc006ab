"""What every console page shares: the signed-in merchant, CSRF, templates, errors by field.

Routers put `Page` (GET) or `Form` (POST, CSRF checked) in their signatures; both give the
session's Principal and the catalog's ports. A page calls the use cases itself, in-process:
one round trip from the browser, no HTTP call to the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from msgspec import Struct, field
from starlette.datastructures import FormData

from catalog.domain.errors import DomainError, InvalidField
from catalog.entrypoints.console.money import format_amount, format_price
from catalog.entrypoints.console.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    ConsoleSession,
    Sessions,
)
from catalog.service.context import CatalogContext, JobsContext
from catalog.service.principals import Principal
from catalog.service.problems import problem_of

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["amount"] = format_amount
TEMPLATES.env.filters["price"] = format_price
TEMPLATES.env.globals["CSRF_FIELD"] = CSRF_FIELD


class SignInRequired(Exception):
    """No valid session: a page redirects to sign-in, a form post is refused."""


class CsrfRefused(Exception):
    """A form posted without the session's CSRF token."""


def base_path(request: Request) -> str:
    """Where the console is mounted (`/console`, under any stage prefix)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def session_of(request: Request) -> ConsoleSession | None:
    sessions: Sessions = request.app.state.sessions
    return sessions.read(request.cookies.get(SESSION_COOKIE))


class Console(Struct, frozen=True):
    """A signed-in request: who, the ports, and how to answer it."""

    request: Request
    session: ConsoleSession
    ctx: CatalogContext
    jobs: JobsContext | None

    @property
    def principal(self) -> Principal:
        return self.session.principal

    @property
    def merchant_id(self) -> str:
        merchant_id = self.session.principal.merchant_id
        assert merchant_id is not None  # sessions are opened for merchants only
        return merchant_id

    def url(self, path: str, **query: Any) -> str:
        """A console URL: `path` under the mount, with the non-empty `query` parameters."""
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return base_path(self.request) + path + (f"?{urlencode(params)}" if params else "")

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, template, status_code, session=self.session, **context)

    def redirect(self, path: str, **query: Any) -> RedirectResponse:
        return RedirectResponse(self.url(path, **query), status_code=303)


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    session: ConsoleSession | None = None,
    **context: Any,
) -> HTMLResponse:
    base = base_path(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"base": base, "session": session, **context},
        status_code=status_code,
    )


async def signed_in(request: Request) -> Console:
    session = session_of(request)
    if session is None:
        raise SignInRequired()
    container = request.app.state.container
    return Console(request, session, container.ctx, container.jobs)


async def signed_in_form(request: Request) -> Console:
    console = await signed_in(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not console.session.csrf_matches(sent):
        raise CsrfRefused()
    return console


Page = Annotated[Console, Depends(signed_in)]
Form = Annotated[Console, Depends(signed_in_form)]


# ------------------------------------------------------------------ errors by field


class FormErrors(Struct):
    """A refused command's problem, by input: each JSON pointer the API would answer is shown
    next to the input that holds that field (`inputs` maps pointer prefixes to input names)."""

    title: str = ""
    detail: str = ""
    by_input: dict[str, str] = field(default_factory=dict)
    status: int = 422

    def __bool__(self) -> bool:
        return bool(self.title or self.by_input)

    def get(self, name: str) -> str | None:
        return self.by_input.get(name)

    @classmethod
    def of(cls, error: DomainError, inputs: Mapping[str, str]) -> FormErrors:
        problem = problem_of(error) or {"title": "Refused", "status": 422}
        errors = cls(
            title=str(problem.get("title", "")),
            detail=str(problem.get("detail", "")),
            status=int(problem.get("status", 422)),
        )
        if isinstance(error, InvalidField):
            for item in error.fields:
                name = input_for(item.field, inputs)
                errors.by_input.setdefault(name, item.message)
            errors.detail = ""
        for pointer in problem.get("missing") or ():
            name = input_for(str(pointer), inputs)
            if name != "form":  # the others are named in the detail
                errors.by_input.setdefault(name, "is required first")
        return errors


def input_for(pointer: str, inputs: Mapping[str, str]) -> str:
    """The input holding `pointer`: the longest matching prefix in `inputs`, else `form`."""
    best = ""
    for prefix in inputs:
        is_prefix = pointer == prefix or pointer.startswith(prefix.rstrip("/") + "/")
        if is_prefix and len(prefix) > len(best):
            best = prefix
    return inputs[best] if best else "form"


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
