"""Interactive documentation served with no CDN: Swagger UI and ReDoc from local copies.

The assets come from the fastapi-offline package (its static folder only); the pages are
FastAPI's own, pointed at them.
"""

from __future__ import annotations

import json
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from catalog.entrypoints.api.operations import OPERATIONS
from catalog.entrypoints.api.security_headers import page_policy

STATIC_DIR = Path(fastapi_offline.__file__).parent / "static"
STATIC_URL = "/docs/static"
_BUNDLE_CALL = "SwaggerUIBundle({"
# Swagger UI lists a tag's operations path by path; a user meets them in another order (create,
# get, list, update, ...). A sorter is a function, which swagger_ui_parameters (JSON) cannot
# carry, so it goes into the page's script.
_OPERATIONS_SORTER = (
    "operationsSorter: (a, b) => {{ const order = {order}; "
    'const rank = (op) => order.indexOf(op.get("operation").get("operationId")); '
    "return rank(a) - rank(b); }},"
)


def install_docs(app: FastAPI) -> None:
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            # No validator badge: it would call an external service.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )
        return _page(_with_operation_order(bytes(page.body).decode()))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
        return _page(bytes(page.body).decode())


def _page(html: str) -> HTMLResponse:
    """The page with the Content-Security-Policy that lets exactly it run (security_headers)."""
    return HTMLResponse(html, headers={"Content-Security-Policy": page_policy(html)})


def _with_operation_order(html: str) -> str:
    sorter = _OPERATIONS_SORTER.format(order=json.dumps(list(OPERATIONS)))
    return html.replace(_BUNDLE_CALL, f"{_BUNDLE_CALL}\n        {sorter}", 1)
