"""The console's own small application, mounted by the API at /console (install_console).

Built on the first request to /console (LazyConsole), so that an API process (a Lambda's cold
start above all) that is never asked for a page never imports Jinja2 or the templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from catalog.domain.errors import DomainError
from catalog.entrypoints.console.pages import (
    bulk_actions,
    history,
    images,
    jobs,
    oidc,
    overrides,
    products,
    publication,
    sign_in,
    types,
    variants,
)
from catalog.entrypoints.console.sessions import Sessions, SignInTickets
from catalog.entrypoints.console.web import (
    CsrfRefused,
    SignInRequired,
    base_path,
    render,
    session_of,
)
from catalog.service.problems import problem_of

if TYPE_CHECKING:
    from catalog.bootstrap import Container

STATIC = Path(__file__).parent / "static"

# Pages load only the console's own files. Images: the asset store's URLs (another origin on
# AWS: S3 or a CDN; blob: for an upload's preview); connections: direct uploads to S3.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {img}; "
    "connect-src 'self' {connect}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def build_console(container: Container) -> FastAPI:
    if container.console_key is None:
        raise RuntimeError("the console needs a key: build the container with console_key")
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.container = container
    app.state.sessions = Sessions(container.console_key)
    app.state.tickets = SignInTickets(container.console_key)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        sign_in,
        oidc,
        products,
        variants,
        overrides,
        images,
        publication,
        history,
        types,
        jobs,
        bulk_actions,
    ):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        return RedirectResponse(base_path(request) + "/products", status_code=303)

    _install_error_pages(app)
    policy = POLICY.format(img="https: http:", connect="https: http:")

    @app.middleware("http")
    async def page_headers(request: Request, call_next: object) -> Response:
        response: Response = await call_next(request)  # type: ignore[operator]
        response.headers["content-security-policy"] = policy
        if not request.url.path.startswith(base_path(request) + "/static/"):
            response.headers.setdefault("cache-control", "no-store")
        response.headers["referrer-policy"] = "same-origin"
        return response

    return app


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("hx-request"):
            # A panel polling (or a button swapping) after the session ended: htmx would put
            # the sign-in page inside the panel; HX-Redirect sends the whole page there.
            return Response(
                status_code=401, headers={"HX-Redirect": base_path(request) + "/sign-in"}
            )
        if request.method == "GET":
            return RedirectResponse(base_path(request) + "/sign-in", status_code=303)
        return _error_page(request, 401, "Signed out", "Your session has ended: sign in again.")

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return _error_page(
            request,
            403,
            "Form refused",
            "This form was not sent from the console: reload the page and try again.",
        )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        problem = problem_of(exc) or {"status": 500, "title": "Unexpected error"}
        status = int(problem["status"])
        if status == 404:
            return _error_page(
                request, 404, "Not found", "There is nothing here, or it is not yours to see."
            )
        return _error_page(request, status, str(problem["title"]), str(problem.get("detail", "")))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return _error_page(request, 422, "Invalid request", "Some of what was sent is invalid.")


def _error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status_code=status,
        session=session_of(request),
        title=title,
        detail=detail,
    )
