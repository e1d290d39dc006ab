"""Signing in and out. Embedded: a one-time link from `catalog console --merchant M`, whose
page asks for one click (a POST), so a link previewer fetching the URL cannot use it up."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from catalog.entrypoints.console.sessions import SESSION_COOKIE, SESSION_SECONDS, InvalidTicket
from catalog.entrypoints.console.web import Form, base_path, render, session_of, text
from catalog.service.principals import Principal

router = APIRouter()


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, ticket: str = "") -> Response:
    if session_of(request) is not None and not ticket:
        return RedirectResponse(base_path(request) + "/products", status_code=303)
    return render(request, "sign_in.html", ticket=ticket, error="", oidc=has_oidc(request))


@router.post("/sign-in", response_class=HTMLResponse)
async def redeem_ticket(request: Request) -> Response:
    form = await request.form()
    try:
        principal = request.app.state.tickets.redeem(text(form, "ticket"))
    except InvalidTicket as error:
        return render(
            request,
            "sign_in.html",
            status_code=401,
            ticket="",
            error=str(error),
            oidc=has_oidc(request),
        )
    return open_session(request, principal)


def has_oidc(request: Request) -> bool:
    """Whether this deployment signs in with its identity provider (pages/oidc.py)."""
    return request.app.state.container.console_sign_in is not None


def open_session(request: Request, principal: Principal) -> Response:
    """A new session for `principal`, and on to the products."""
    response = RedirectResponse(base_path(request) + "/products", status_code=303)
    set_session_cookie(request, response, principal)
    return response


def set_session_cookie(request: Request, response: Response, principal: Principal) -> None:
    """Give `response` the cookie of a new session for `principal`."""
    cookie, _ = request.app.state.sessions.open(principal)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        path=base_path(request) or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.post("/sign-out")
async def sign_out(console: Form) -> Response:
    response = console.redirect("/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=base_path(console.request) or "/")
    return response
