"""The OpenAPI document: FastAPI's, plus the schemas of bodies the routes read by hand."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

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
    for path in document.get("paths", {}).values():
        for operation in path.values():
            response = operation.get("responses", {}).get("422")
            if response and "application/json" in response.get("content", {}):
                response["content"] = {
                    "application/problem+json": {
                        "schema": {"$ref": REF_TEMPLATE.format(model="Problem")}
                    }
                }
    app.openapi_schema = document
    return document
