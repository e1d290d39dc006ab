"""template.yaml's console (docs/console-aws.md): its routes reach the API function without
the JWT authorizer, and the function is given the OIDC client it signs in as."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from fastapi.routing import APIRoute

from catalog.bootstrap import Container
from catalog.entrypoints.console import MOUNT_PATH
from catalog.entrypoints.console.app import build_console
from catalog.settings import Settings
from tests.deploy.test_template import TEMPLATE, _CloudFormationLoader

NO_AUTHORIZER = {"Authorizer": "NONE"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)
    return loaded


def api_function(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"]["ApiFunction"]["Properties"]
    return properties


def console_routes(template: dict[str, Any]) -> dict[tuple[str, str], Any]:
    routes = {}
    for event in api_function(template)["Events"].values():
        properties = event["Properties"]
        if properties["Path"].startswith(MOUNT_PATH):
            routes[(properties["Method"], properties["Path"])] = properties.get("Auth")
    return routes


def test_the_console_is_routed_to_the_api_function_without_the_authorizer(
    template: dict[str, Any],
) -> None:
    # A browser carries no bearer token: the console checks its own session cookie instead.
    assert console_routes(template) == {
        ("GET", "/console"): NO_AUTHORIZER,
        ("GET", "/console/{proxy+}"): NO_AUTHORIZER,
        ("POST", "/console/{proxy+}"): NO_AUTHORIZER,
    }


def test_every_console_page_and_form_has_its_route(
    template: dict[str, Any], tmp_path: Path
) -> None:
    """The console's own routes take GET and POST only: no other method needs a route."""
    container = Container(
        settings=Settings(data_dir=tmp_path),
        ctx=cast(Any, None),
        tokens=cast(Any, None),
        console_key=b"k" * 32,
    )
    methods = {
        method
        for route in build_console(container).routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    routed = {method for method, _ in console_routes(template)}
    assert methods <= routed == {"GET", "POST"}


def test_the_api_function_signs_the_console_in_as_the_client_given(
    template: dict[str, Any],
) -> None:
    variables = api_function(template)["Environment"]["Variables"]
    assert variables["CATALOG_CONSOLE_OIDC_CLIENT_ID"] == {"Ref": "ConsoleOidcClientId"}
    # At the issuer whose tokens the API's authorizer accepts.
    assert variables["CATALOG_JWT_ISSUER"] == {"Ref": "JwtIssuer"}
    parameter = template["Parameters"]["ConsoleOidcClientId"]
    assert parameter["Type"] == "String"
    # Left empty, the console keeps to sign-in links: the setting reads "" as unset.
    assert parameter["Default"] == ""
    assert Settings(console_oidc_client_id=parameter["Default"]).console_oidc_client_id is None
    # A public client: PKCE, and no client secret for the template to hand over.
    assert "CATALOG_CONSOLE_OIDC_CLIENT_SECRET" not in variables
