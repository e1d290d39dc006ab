"""What the app's routes answer, read from FastAPI's own view of them (included routers too)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from fastapi import Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The path the router matches: the request's, without the deployment's root path."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path + "/"):
        return path[len(root_path) :]
    return path


def allowed_methods(routes: Sequence[BaseRoute], path: str) -> list[str]:
    """Every method some route answers on `path`, HEAD wherever GET is (head.HeadAsGet).

    Starlette's 405 names only the first route matching the path, so `PUT` on a product
    listed GET alone although PATCH and DELETE work there too."""
    methods: set[str] = set()
    for route in iter_route_contexts(routes):
        path_regex = getattr(route, "path_regex", None)
        if path_regex is not None and route.methods and path_regex.match(path):
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class HandReadRoute(APIRoute):
    """A route whose endpoint takes the Request and returns a Response itself.

    FastAPI's request handler solves the endpoint's dependencies, reads and validates its
    parameters and serializes its return value; an endpoint that reads the request by hand
    needs none of it, and on GET product that machinery cost more than the product's read
    (docs/performance.md). Everything else is the APIRoute's: the OpenAPI operation, the
    query-parameter rules, the body limit and the exception handlers.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{self.name}: a hand-read endpoint must be `async def`")
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], endpoint)
