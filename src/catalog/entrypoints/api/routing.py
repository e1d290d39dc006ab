"""What the app's routes answer, read from FastAPI's own view of them (included routers too)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
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
