"""Routes build FastAPI's view of their endpoint when first used (routing.DeferredRoute), so a
cold start answers its first request without building ~35 routes; once built, a route is the
APIRoute FastAPI would have made.

The routers' routes are module-level objects, shared by every app a process creates, so what
is built when is watched in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from catalog.entrypoints.api.routing import DeferredRoute

COLD_APP = """
import json, sys
from fastapi.testclient import TestClient
from catalog.adapters.local_tokens import LocalTokens
from catalog.bootstrap import build_container
from catalog.entrypoints.api.app import create_app
from catalog.entrypoints.api.routing import DeferredRoute
from catalog.settings import Settings

settings = Settings(data_dir=sys.argv[1], rate_limit=None)
container = build_container(settings)
app = create_app(container)
routes = [route for route in app.routes if isinstance(route, DeferredRoute)]
auth = {"Authorization": "Bearer " + container.tokens.issue("acme", ["merchant"])}
seen = {"routes": len(routes)}

def step(name, response):
    built = sorted(route.name for route in routes if "dependant" in vars(route))
    seen[name] = [response.status_code if response else None, built, "pydantic.v1" in sys.modules]

with TestClient(app) as client:
    step("created", None)
    step("health", client.get("/health"))
    body = {"sku": "S", "name": "N"}
    created = client.post("/v1/merchants/acme/products", json=body, headers=auth)
    step("post", created)
    step("get", client.get("/v1/merchants/acme/products/" + created.json()["id"], headers=auth))
    step("query", client.get("/v1/merchants/acme/products?bogus=1", headers=auth))
    step("openapi", client.get("/openapi.json"))
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", COLD_APP, str(tmp_path_factory.mktemp("cold"))],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return seen


def test_creating_the_app_builds_no_route(cold: dict[str, Any]) -> None:
    assert cold["routes"] > 30
    assert cold["created"] == [None, [], False]


def test_hand_read_routes_answer_without_building_anything(cold: dict[str, Any]) -> None:
    """Health and GET product, the first requests of a cold container, build no route and
    never import pydantic.v1 (FastAPI's check for v1 models when it builds a field)."""
    assert cold["health"] == [200, [], False]
    assert cold["post"][:2] == [201, ["register_product"]]
    assert cold["get"][:2] == [200, ["register_product"]]


def test_a_query_string_builds_only_the_route_whose_parameters_it_checks(
    cold: dict[str, Any],
) -> None:
    status, built, _ = cold["query"]
    assert status == 400  # the unknown parameter is refused, as with eager routes
    assert built == ["list_products", "register_product"]


def test_the_openapi_document_builds_every_route(cold: dict[str, Any]) -> None:
    status, built, _ = cold["openapi"]
    assert status == 200
    assert len(built) == cold["routes"]


@pytest.mark.parametrize("backend", ["memory"], indirect=True)
def test_a_built_route_is_the_api_route_fastapi_makes(app: FastAPI) -> None:
    def shape(route: APIRoute) -> dict[str, Any]:
        body = route.body_field
        return {
            "unique_id": route.unique_id,
            "methods": route.methods,
            "status_code": route.status_code,
            "response_model": route.response_model,
            "body": None if body is None else body.field_info.annotation,
            "path": [param.name for param in route.dependant.path_params],
            "query": [param.name for param in route.dependant.query_params],
            "headers": [param.name for param in route.dependant.header_params],
            "responses": sorted(map(str, route.responses)),
            "tags": route.tags,
            "description": route.description,
        }

    routes = [route for route in app.routes if isinstance(route, DeferredRoute)]
    # Each route made again, eagerly, from what its router declared it with.
    declared = [route.declared for route in routes]
    eager = [APIRoute(path, endpoint, **options) for path, endpoint, options in declared]
    assert [shape(route) for route in routes] == [shape(route) for route in eager]


@pytest.mark.parametrize("backend", ["memory"], indirect=True)
def test_an_attribute_no_route_has_is_still_missing(client: TestClient, app: FastAPI) -> None:
    route = next(route for route in app.routes if isinstance(route, DeferredRoute))
    assert getattr(route, "no_such_attribute", None) is None
    with pytest.raises(AttributeError, match="no_such_attribute"):
        _ = route.no_such_attribute  # type: ignore[attr-defined]
