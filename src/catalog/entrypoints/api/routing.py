"""How the app's routes are made (one router per resource, added to the app flat) and what they
answer, read from FastAPI's own view of them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import Scope


def operation_id(route: APIRoute) -> str:
    """operationId = the endpoint function's name (get_product, ...): what client generators
    show."""
    return route.name


def resource_router(*, tags: list[str], prefix: str = "") -> APIRouter:
    """The router of one resource; its routes are added to the app with `add_routes`."""
    return APIRouter(prefix=prefix, tags=list(tags), generate_unique_id_function=operation_id)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes as the app's own. Since FastAPI 0.137, `include_router` keeps the
    router as a node of the app's route list that every request under it is matched against
    twice (to pick the node, then the route in it), which cost GET product about 5% of its
    throughput (docs/performance.md). A resource router carries its prefix, tags and
    operation ids on each route and has no router-level dependencies, so its routes need
    nothing from an inclusion."""
    app.router.routes.extend(router.routes)


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
