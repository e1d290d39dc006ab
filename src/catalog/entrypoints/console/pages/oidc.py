"""Signing in with the deployment's identity provider (DESIGN.md section 12, AWS): OIDC
authorization code with PKCE, through the ConsoleSignIn port (docs/console-aws.md).

`/sign-in/oidc` starts a sign-in: a fresh state, nonce and PKCE verifier, kept in a short-lived
signed cookie, and off to the provider. The provider comes back to `/sign-in/callback` with a
code and the state; the state must be the cookie's (so nobody can sign a browser in with a
code of their own), and the code is exchanged for a verified ID token naming a merchant.

The flow's cookie is SameSite=Lax: it has to come back on the provider's redirect, a
cross-site navigation. The session's cookie is SameSite=Strict, and a Strict cookie set by a
response in a chain of redirects that began on another site is not sent on the next redirect
of that chain: the callback answers a page that goes on to the products itself, a same-site
navigation that carries it.

The routes are plain functions: FastAPI runs them in its thread pool, so the provider's HTTP
round trips do not hold up the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from msgspec import Struct

from catalog.entrypoints.console.pages.sign_in import has_oidc, set_session_cookie
from catalog.entrypoints.console.sessions import SealedClaims
from catalog.entrypoints.console.web import base_path, render
from catalog.service.ports import ConsoleSignIn, SignInRefused, SignInUnavailable
from catalog.service.principals import MERCHANT, Principal

FLOW_COOKIE = "catalog_console_oidc"
FLOW_SECONDS = 10 * 60

router = APIRouter()


class SignInFlow(Struct, frozen=True):
    """One sign-in under way: what the callback must find again."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def start(cls) -> SignInFlow:
        # 64 characters of verifier, within RFC 7636's 43 to 128.
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    @property
    def code_challenge(self) -> str:
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class SignInFlows:
    """Seals a flow into its cookie (with a key of its own) and opens it again."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._sealed = SealedClaims(key, "oidc-flows", clock)

    def seal(self, flow: SignInFlow) -> str:
        claims = {"state": flow.state, "nonce": flow.nonce, "verifier": flow.code_verifier}
        return self._sealed.seal(claims, FLOW_SECONDS)

    def open(self, cookie: str | None) -> SignInFlow | None:
        """The flow a cookie holds; None for none, a forged one or one that took too long."""
        claims = self._sealed.open(cookie, ("state", "nonce", "verifier"))
        if claims is None or self._sealed.expired(claims):
            return None
        return SignInFlow(str(claims["state"]), str(claims["nonce"]), str(claims["verifier"]))


def callback_url(request: Request) -> str:
    """The redirect URI registered with the provider: `<console URL>/sign-in/callback`."""
    return f"{request.url.scheme}://{request.url.netloc}{base_path(request)}/sign-in/callback"


def _sign_in(request: Request) -> ConsoleSignIn | None:
    sign_in: ConsoleSignIn | None = request.app.state.container.console_sign_in
    return sign_in


def _flows(request: Request) -> SignInFlows:
    return SignInFlows(request.app.state.container.console_key)


def _flow_cookie_path(request: Request) -> str:
    return base_path(request) + "/sign-in"


@router.get("/sign-in/oidc", response_class=HTMLResponse)
def start_sign_in(request: Request) -> Response:
    sign_in = _sign_in(request)
    if sign_in is None:
        return _refused(request, 404, "This console signs in with links from `catalog console`.")
    flow = SignInFlow.start()
    try:
        url = sign_in.authorization_url(
            state=flow.state,
            nonce=flow.nonce,
            code_challenge=flow.code_challenge,
            redirect_uri=callback_url(request),
        )
    except SignInUnavailable:
        return _unavailable(request)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        _flows(request).seal(flow),
        max_age=FLOW_SECONDS,
        path=_flow_cookie_path(request),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/sign-in/callback", response_class=HTMLResponse)
def finish_sign_in(
    request: Request,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    sign_in = _sign_in(request)
    flow = _flows(request).open(request.cookies.get(FLOW_COOKIE))
    if sign_in is None or flow is None or not hmac.compare_digest(state, flow.state):
        return _refused(
            request,
            400,
            "This sign-in did not start in this browser, or took more than ten minutes: "
            "sign in again.",
        )
    if error or not code:
        said = error_description or error or "no code"
        return _refused(request, 401, f"Your identity provider did not sign you in: {said}.")
    try:
        principal = sign_in.exchange(
            code=code,
            code_verifier=flow.code_verifier,
            redirect_uri=callback_url(request),
            nonce=flow.nonce,
        )
    except SignInRefused:
        return _refused(request, 401, "Your identity provider's answer was refused: sign in again.")
    except SignInUnavailable:
        return _unavailable(request)
    if MERCHANT not in principal.roles or principal.merchant_id is None:
        return _refused(
            request,
            403,
            f"You signed in as {principal.subject}, which is not a merchant's account: the "
            "console is for merchants. Ask your administrator to give the account a merchant.",
        )
    # The console acts for its merchant only, whatever else the account may do on the API.
    merchant = Principal(principal.subject, principal.merchant_id, frozenset({MERCHANT}))
    products = base_path(request) + "/products"
    response = render(request, "oidc_continue.html", products=products)
    set_session_cookie(request, response, merchant)
    response.delete_cookie(FLOW_COOKIE, path=_flow_cookie_path(request))
    return response


def _refused(request: Request, status: int, message: str) -> Response:
    response = render(
        request,
        "sign_in.html",
        status_code=status,
        ticket="",
        error=message,
        oidc=has_oidc(request),
    )
    # A flow is tried once: a refused one starts again from the beginning.
    response.delete_cookie(FLOW_COOKIE, path=_flow_cookie_path(request))
    return response


def _unavailable(request: Request) -> Response:
    return _refused(
        request, 503, "Your identity provider cannot be reached just now: try again shortly."
    )
