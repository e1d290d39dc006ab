"""How the app's routes are made (one router per resource, added to the app flat) and what they
answer, read from FastAPI's own view of them."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, compile_path, get_name, request_response
from starlette.types import Scope


def operation_id(route: APIRoute) -> str:
    """operationId = the endpoint function's name (get_product, ...): what client generators
    show."""
    return route.name


def resource_router(*, tags: list[str], prefix: str = "") -> APIRouter:
    """The router of one resource; its routes are added to the app with `add_routes`."""
    return APIRouter(
        prefix=prefix,
        tags=list(tags),
        generate_unique_id_function=operation_id,
        route_class=DeferredRoute,
    )


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


class DeferredRoute(APIRoute):
    """An APIRoute that builds FastAPI's view of its endpoint (the dependant, the parameter,
    body and response fields, the request handler) when any of it is first asked for.

    FastAPI builds all of that when a route is declared, and the API declares ~35 routes: a
    cold Lambda container paid for every one of them before answering its first request,
    which needs one (docs/performance.md, "Cold start"). Matching needs only the path and
    methods, set here; the first request a route handles, the OpenAPI document or the
    query-parameter check builds the rest, through `APIRoute.__init__` itself, with the
    arguments the router gave. A route then is exactly the APIRoute it would have been.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        self.path = path
        self.endpoint = endpoint
        # As APIRoute.__init__ sets them, so a built route matches as it did before.
        name, methods = options.get("name"), options.get("methods")
        self.name = get_name(endpoint) if name is None else name
        self.methods = {method.upper() for method in (["GET"] if methods is None else methods)}
        self.include_in_schema = options.get("include_in_schema", True)
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        # What the router declared the route with: kept, for the build and for tests.
        self.declared: tuple[str, Callable[..., Any], dict[str, Any]] = (path, endpoint, options)
        self._built = False
        self._building = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        # Reached only for attributes not set yet: those APIRoute.__init__ sets.
        if self.__dict__.get("_built", True):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        with self._building:
            if not self._built:
                self._build()
                self._built = True
        return getattr(self, name)

    def _build(self) -> None:
        path, endpoint, options = self.declared
        APIRoute.__init__(self, path, endpoint, **options)


class HandReadRoute(DeferredRoute):
    """A route whose endpoint takes the Request and returns a Response itself.

    FastAPI's request handler solves the endpoint's dependencies, reads and validates its
    parameters and serializes its return value; an endpoint that reads the request by hand
    needs none of it, and on GET product that machinery cost more than the product's read
    (docs/performance.md). Its ASGI app is Starlette's `request_response` around the endpoint:
    the exception handlers, without the exit stacks FastAPI opens for dependencies with
    `yield` (it has none). Everything else is the APIRoute's: the OpenAPI operation and the
    query-parameter rules. Serving it builds none of FastAPI's fields (`DeferredRoute`).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{get_name(endpoint)}: a hand-read endpoint must be `async def`")
        if options.get("max_body_size") is not None:
            raise TypeError(f"{get_name(endpoint)}: a hand-read endpoint reads its own body")
        super().__init__(path, endpoint, **options)
        self.app = request_response(endpoint)

    def _build(self) -> None:
        app = self.app
        super()._build()
        self.app = app  # not FastAPI's handler, which APIRoute.__init__ set

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], self.endpoint)
