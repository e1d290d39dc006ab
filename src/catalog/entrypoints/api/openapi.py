"""The OpenAPI document: FastAPI's, completed so that generated clients are first-class.

On top of what FastAPI derives from the routes this adds the schemas of the bodies the routes
read by hand, every problem each operation can answer (operations.OPERATIONS) with an example
per problem type, the response headers (ETag on every product, Retry-After on 503), one tag
and one place per operation, and rewrites what client generators trip on: `"default": null`
in request schemas (optional fields turn required in TypeScript), `patternProperties` (maps
become `additionalProperties` with `propertyNames`), FastAPI's own 422 shape.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from catalog.entrypoints.api import job_schemas, requirements_schemas, type_schemas
from catalog.entrypoints.api.auth import SECURITY_SCHEME, SECURITY_SCHEME_NAME
from catalog.entrypoints.api.deps import MERGE_PATCH_MEDIA, PATH_PARAMETER_DESCRIPTIONS
from catalog.entrypoints.api.operations import (
    OPERATIONS,
    PROBLEM_EXAMPLES,
    PROBLEM_HEADERS,
    STATUS_DESCRIPTIONS,
)
from catalog.entrypoints.api.problems import PROBLEM_JSON
from catalog.entrypoints.api.schemas import PRODUCT_VIEW_EXAMPLE, REQUEST_BODY_MODELS, Problem
from catalog.service.problems import PROBLEM_BASE

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": REF_TEMPLATE.format(model="Problem")}
PRODUCT_REF = REF_TEMPLATE.format(model="ProductView")
_SUCCESS = re.compile(r"[23]\d\d")

ETAG_HEADER = {
    "description": 'The product version, quoted: `"3"` (`"3;channel=c"` for a channel view).',
    "schema": {"type": "string"},
}
# The form fields of an embedded upload ticket (a presigned POST's on S3 are alike).
UPLOAD_FIELDS_EXAMPLE = {
    "key": "uploads/acme/01JD8X5J9ZK8Q5W6V2C3N4M5P6/01JD8X6B2Q3R4S5T6V7W8X9Y0Z",
    "Content-Type": "image/png",
    "policy": "eyJrZXkiOiAidXBsb2Fkcy9hY21lLy4uLiJ9",
    "signature": "k3Jt0v9mN2pQ",
}
LOCATION_HEADER = {"description": "URL of the product", "schema": {"type": "string"}}


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
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _, extra = models_json_schema(
        [
            (model, "validation")
            for model in (
                *REQUEST_BODY_MODELS,
                *type_schemas.REQUEST_BODY_MODELS,
                *requirements_schemas.REQUEST_BODY_MODELS,
                *job_schemas.REQUEST_BODY_MODELS,
            )
        ]
        + [(Problem, "serialization")],
        ref_template=REF_TEMPLATE,
    )
    for name, schema in extra.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    ticket = schemas.get("UploadTicketView", {}).get("properties", {})
    if "fields" in ticket:
        ticket["fields"].setdefault("examples", [UPLOAD_FIELDS_EXAMPLE])
    # FastAPI documents its own 422 shape on every route; ours is a problem document.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {SECURITY_SCHEME_NAME: SECURITY_SCHEME}
    document["security"] = [{SECURITY_SCHEME_NAME: []}]
    document["paths"] = _in_operation_order(document.get("paths", {}))
    for url, path in document["paths"].items():
        for method, operation in path.items():
            if not url.startswith("/v1/"):
                operation["security"] = []  # health, signed asset URLs
            _document_path_parameters(url, operation)
            _document_responses(method, operation)
            _document_request_body(method, operation)
    _rewrite_for_generators(document)
    app.openapi_schema = document
    return document


def _in_operation_order(paths: dict[str, Any]) -> dict[str, Any]:
    """Paths, and operations within a path, in the order of OPERATIONS (a user's order)."""
    rank = {operation_id: index for index, operation_id in enumerate(OPERATIONS)}

    def place(operation: dict[str, Any]) -> int:
        return rank.get(operation.get("operationId", ""), len(rank))

    ordered = {
        url: dict(sorted(path.items(), key=lambda item: place(item[1])))
        for url, path in paths.items()
    }
    return dict(sorted(ordered.items(), key=lambda item: min(map(place, item[1].values()))))


def _document_responses(method: str, operation: dict[str, Any]) -> None:
    described = OPERATIONS.get(operation.get("operationId", ""))
    if described is None:
        return
    operation["tags"] = [described.tag]
    responses = {
        status: response
        for status, response in operation.get("responses", {}).items()
        if _SUCCESS.fullmatch(status)
    }
    for status, response in responses.items():
        if described.returns_product and status[0] == "2":
            _document_product_response(response, created=status == "201" and method == "post")
    if described.conditional:
        responses["304"] = {
            "description": "Not modified: the ETag in If-None-Match is still current",
            "headers": {"ETag": ETAG_HEADER},
        }
    responses = dict(sorted(responses.items()))
    for status, slugs in described.problems.items():
        responses[str(status)] = {
            "description": STATUS_DESCRIPTIONS[status],
            **({"headers": PROBLEM_HEADERS[status]} if status in PROBLEM_HEADERS else {}),
            "content": {
                PROBLEM_JSON: {
                    "schema": PROBLEM_REF,
                    "examples": {slug: _problem_example(status, slug) for slug in slugs},
                }
            },
        }
    operation["responses"] = responses


def _document_product_response(response: dict[str, Any], *, created: bool) -> None:
    headers = response.setdefault("headers", {})
    headers.setdefault("ETag", ETAG_HEADER)
    if created and "Location" in headers:
        headers["Location"] = LOCATION_HEADER
    content = response.get("content", {}).get("application/json")
    if content is not None and content.get("schema", {}).get("$ref") == PRODUCT_REF:
        content["example"] = PRODUCT_VIEW_EXAMPLE


def _problem_example(status: int, slug: str) -> dict[str, Any]:
    example = PROBLEM_EXAMPLES[slug]
    return {
        "summary": example.title,
        "value": {
            "type": PROBLEM_BASE + slug,
            "title": example.title,
            "status": status,
            "detail": example.detail,
            **example.extensions,
        },
    }


def _document_request_body(method: str, operation: dict[str, Any]) -> None:
    content = operation.get("requestBody", {}).get("content", {})
    if method == "patch" and MERGE_PATCH_MEDIA in content:
        # application/json is accepted too, but one media type keeps generated clients to one
        # method, sending the type the patch semantics are defined for.
        for media in [media for media in content if media != MERGE_PATCH_MEDIA]:
            del content[media]


def _rewrite_for_generators(node: Any) -> None:
    """Walks the whole document: drops `"default": null`, turns patternProperties into
    additionalProperties (with the key pattern as propertyNames)."""
    if isinstance(node, list):
        for item in node:
            _rewrite_for_generators(item)
        return
    if not isinstance(node, dict):
        return
    if "default" in node and node["default"] is None:
        del node["default"]
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1:
        ((pattern, schema),) = patterns.items()
        del node["patternProperties"]
        node["additionalProperties"] = schema
        node["propertyNames"] = {"pattern": pattern}
    for key, value in node.items():
        if key not in ("example", "examples"):
            _rewrite_for_generators(value)


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
