"""The merchant console (DESIGN.md section 12): server-rendered pages at /console, calling the
use cases in-process with the signed-in merchant's Principal. docs/console.md shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.requests import Request

    from catalog.bootstrap import Container

MOUNT_PATH = "/console"


def install_console(app: FastAPI, container: Container) -> None:
    """Serve the console at /console when the container has a console key."""
    if container.console_key is None:
        return

    async def to_products(request: Request) -> RedirectResponse:
        return RedirectResponse(request.scope.get("root_path", "") + MOUNT_PATH + "/products", 303)

    app.router.routes.append(Route(MOUNT_PATH, to_products, include_in_schema=False))
    app.router.routes.append(Mount(MOUNT_PATH, app=LazyConsole(container)))


class LazyConsole:
    """The mounted ASGI app: the console's modules (and Jinja2) load on its first request,
    not with the API."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            from catalog.entrypoints.console.app import build_console

            self._app = build_console(self._container)
        await self._app(scope, receive, send)
