"""The OpenAPI document: FastAPI's, plus the schemas of bodies the routes read by hand."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from catalog.entrypoints.api.auth import SECURITY_SCHEME, SECURITY_SCHEME_NAME
from catalog.entrypoints.api.deps import PATH_PARAMETER_DESCRIPTIONS
from catalog.entrypoints.api.schemas import REQUEST_BODY_MODELS, Problem

REF_TEMPLATE = "#/components/schemas/{model}"


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, extra = models_json_schema(
        [(model, "validation") for model in REQUEST_BODY_MODELS] + [(Problem, "serialization")],
        ref_template=REF_TEMPLATE,
    )
    for name, schema in extra.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    # FastAPI documents its own 422 shape on every route; ours is a problem document.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    document["components"]["securitySchemes"] = {SECURITY_SCHEME_NAME: SECURITY_SCHEME}
    document["security"] = [{SECURITY_SCHEME_NAME: []}]
    for url, path in document.get("paths", {}).items():
        for operation in path.values():
            if not url.startswith("/v1/"):
                operation["security"] = []  # health, signed asset URLs
            _document_path_parameters(url, operation)
            response = operation.get("responses", {}).get("422")
            if response and "application/json" in response.get("content", {}):
                response["content"] = {
                    "application/problem+json": {
                        "schema": {"$ref": REF_TEMPLATE.format(model="Problem")}
                    }
                }
    app.openapi_schema = document
    return document


def _document_path_parameters(url: str, operation: dict[str, Any]) -> None:
    """Path parameters the access dependencies read from the request (see deps)."""
    parameters = operation.setdefault("parameters", [])
    declared = {(p.get("in"), p.get("name")) for p in parameters}
    missing = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": PATH_PARAMETER_DESCRIPTIONS.get(name, ""),
        }
        for name in re.findall(r"{([^}:]+)(?::[^}]*)?}", url)
        if ("path", name) not in declared
    ]
    operation["parameters"] = missing + parameters
