"""Unknown or repeated query parameters are a 400, on every route.

FastAPI ignores a query parameter a route does not declare, and silently keeps one value of a
repeated scalar parameter: `?q=shoe` or `?sku=TS-1` on the list answered the whole list and the
client believed it had filtered. The parameters a route accepts are read once, on the first
request with a query string that reaches it, from what FastAPI itself knows of the route (its
dependant's query parameters, and those documented by hand in `openapi_extra` for routes that
read the query themselves), so a route added later is covered without doing anything.

The check runs before the route (and its authentication): which parameters a route takes is
public, in the OpenAPI document, so answering it first tells nobody anything. Requests without
a query string, the hot path, cost one dict lookup.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from fastapi import params
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import RouteContext, iter_route_contexts
from msgspec import Struct
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.entrypoints.api.problems import ApiProblem, api_problem_response
from catalog.entrypoints.api.routing import route_path


class QueryRule(Struct, frozen=True):
    """What one route accepts. `methods` None (a mount) matches any method and checks nothing."""

    path_regex: re.Pattern[str]
    methods: frozenset[str] | None
    accepted: frozenset[str]
    # Parameters declared as lists: these may repeat (`?tag=a&tag=b`).
    repeatable: frozenset[str]
    checked: bool = True


def query_rule(route: RouteContext) -> QueryRule:
    """What one route (one with a path) accepts."""
    path_regex = route.path_regex
    methods = getattr(route, "methods", None)
    if methods is None:
        return QueryRule(path_regex, None, frozenset(), frozenset(), checked=False)
    accepted: set[str] = set()
    repeatable: set[str] = set()
    dependant = getattr(route, "dependant", None)
    if dependant is not None:
        for field in get_flat_params(dependant):
            if isinstance(field.field_info, params.Query):
                accepted.add(field.alias)
                # The very predicate FastAPI uses to read a parameter with getlist().
                if field_annotation_is_sequence(field.field_info.annotation):
                    repeatable.add(field.alias)
    for name, is_list in _documented_query_parameters(getattr(route, "openapi_extra", None)):
        accepted.add(name)
        if is_list:
            repeatable.add(name)
    return QueryRule(path_regex, frozenset(methods), frozenset(accepted), frozenset(repeatable))


def _documented_query_parameters(openapi_extra: object) -> Iterable[tuple[str, bool]]:
    """(name, takes a list) of the query parameters a route documents by hand."""
    if not isinstance(openapi_extra, dict):
        return []
    return [
        (str(parameter["name"]), (parameter.get("schema") or {}).get("type") == "array")
        for parameter in openapi_extra.get("parameters") or []
        if isinstance(parameter, dict) and parameter.get("in") == "query"
    ]


class QueryParameterCheck:
    """Pure ASGI middleware answering 400 for a parameter the matched route does not accept."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self._routes = routes
        self._rules: dict[int, QueryRule] = {}

    @functools.cached_property
    def _paths(self) -> list[tuple[re.Pattern[str], set[str] | None, RouteContext]]:
        # Read on the first request with a query string, not when the middleware is built.
        return [
            (route.path_regex, route.methods, route)
            for route in iter_route_contexts(self._routes)
            if getattr(route, "path_regex", None) is not None
        ]

    def _rule(self, route: RouteContext) -> QueryRule:
        # A route's parameters are read when a request first reaches it: reading them makes
        # FastAPI build the route (routing.DeferredRoute), which no other route's request
        # should pay for.
        key = id(route)
        if key not in self._rules:
            self._rules[key] = query_rule(route)
        return self._rules[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            problem = self.problem_for(scope)
            if problem is not None:
                await api_problem_response(Request(scope), problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def problem_for(self, scope: Scope) -> ApiProblem | None:
        rule = self._rule_for(route_path(scope), scope["method"])
        if rule is None or not rule.checked:
            return None  # the router answers 404 or 405, or a mount serves it
        counts = Counter(name for name, _ in QueryParams(scope["query_string"]).multi_items())
        unknown = sorted(name for name in counts if name not in rule.accepted)
        if unknown:
            return _unknown(unknown, rule.accepted)
        repeated = sorted(
            name for name, count in counts.items() if count > 1 and name not in rule.repeatable
        )
        if repeated:
            return _repeated(repeated)
        return None

    def _rule_for(self, path: str, method: str) -> QueryRule | None:
        for path_regex, methods, route in self._paths:
            if path_regex.match(path) and (methods is None or method in methods):
                return self._rule(route)
        return None


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _unknown(unknown: list[str], accepted: frozenset[str]) -> ApiProblem:
    takes = f"it takes {_names(sorted(accepted))}" if accepted else "it takes none"
    return ApiProblem(
        400,
        "unknown-query-parameter",
        "Unknown query parameter",
        f"this route has no query parameter {_names(unknown)}; {takes}",
        extensions={"parameters": unknown, "accepted": sorted(accepted)},
    )


def _repeated(repeated: list[str]) -> ApiProblem:
    return ApiProblem(
        400,
        "repeated-query-parameter",
        "Repeated query parameter",
        f"give {_names(repeated)} once: this route takes one value",
        extensions={"parameters": repeated},
    )
