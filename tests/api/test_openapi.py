"""The OpenAPI document as client generators and /docs readers use it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog.bootstrap import build_container
from catalog.entrypoints.api.app import create_app
from catalog.service import problems as problem_module
from catalog.settings import Settings

METHODS = ("get", "put", "post", "delete", "patch", "head")
USER_ORDER = [
    "register_product",
    "get_product",
    "list_products",
    "update_product",
    "change_status",
    "deactivate_product",
    "product_history",
    "restore_version",
    "upload_image",
    "update_image",
    "delete_image",
    "add_variant",
    "update_variant",
    "delete_variant",
    "find_sku",
    "request_publication",
    "request_unpublication",
    "report_listing",
    "create_product_type",
    "list_product_types",
    "get_product_type",
    "update_product_type",
    "delete_product_type",
    "get_channel_requirements",
    "put_channel_requirements",
    "import_products",
    "request_import_upload",
    "export_products",
    "bulk_action",
    "list_jobs",
    "get_job",
    "cancel_job",
    "job_errors",
    "request_upload",
    "confirm_upload",
    "receive_upload",
    "get_asset",
    "health",
]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document the embedded server serves (it has every route, /assets included)."""
    folder: Path = tmp_path_factory.mktemp("openapi")
    app = create_app(build_container(Settings(data_dir=folder)))
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for url, path in document["paths"].items():
        for method, operation in path.items():
            if method in METHODS:
                yield method, url, operation


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    refs = [(where, node["$ref"]) for where, node in walk(document) if "$ref" in node]
    assert refs
    dangling = []
    for where, ref in refs:
        try:
            resolve(document, ref)
        except KeyError:
            dangling.append((where, ref))
    assert dangling == []


def test_the_listing_report_body_is_a_component(document: dict[str, Any]) -> None:
    path = "/v1/merchants/{merchant_id}/products/{product_id}/channels/{channel}/listing"
    body = document["paths"][path]["put"]["requestBody"]["content"]["application/json"]
    schema = resolve(document, body["schema"]["$ref"])
    assert schema["properties"]["state"] == {"$ref": "#/components/schemas/ListingOutcome"}
    assert "product_version" in schema["required"]


def test_no_schema_says_default_null(document: dict[str, Any]) -> None:
    nulls = [
        where
        for where, node in walk(document)
        if node.get("default", ...) is None and "/example" not in where
    ]
    assert nulls == []


def test_maps_use_additional_properties_not_pattern_properties(document: dict[str, Any]) -> None:
    assert [where for where, node in walk(document) if "patternProperties" in node] == []
    overrides = document["components"]["schemas"]["ChannelOverrides"]
    assert overrides["additionalProperties"] == {
        "anyOf": [{"$ref": "#/components/schemas/ChannelOverride"}, {"type": "null"}]
    }
    assert overrides["propertyNames"]["pattern"]


def test_patch_takes_only_merge_patch(document: dict[str, Any]) -> None:
    patch = document["paths"]["/v1/merchants/{merchant_id}/products/{product_id}"]["patch"]
    assert list(patch["requestBody"]["content"]) == ["application/merge-patch+json"]


def test_status_listing_state_and_problem_are_shared_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ProductStatus"]["enum"] == ["DRAFT", "READY", "ACTIVE", "INACTIVE"]
    assert set(schemas["ListingState"]["enum"]) == {
        "PENDING",
        "PUBLISHED",
        "FAILED",
        "UNPUBLISHING",
        "UNPUBLISHED",
    }
    status_ref = {"$ref": "#/components/schemas/ProductStatus"}
    assert schemas["ProductView"]["properties"]["status"] == status_ref
    assert schemas["TransitionView"]["properties"]["to"] == status_ref
    assert schemas["ListingView"]["properties"]["state"] == {
        "$ref": "#/components/schemas/ListingState"
    }
    # No enum of statuses is spelled out anywhere else.
    inline = [
        where
        for where, node in walk(document)
        if "enum" in node
        and "ACTIVE" in node["enum"]
        and where != "#/components/schemas/ProductStatus"
    ]
    assert inline == []
    for method, url, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                content = response["content"]
                assert list(content) == ["application/problem+json"], (method, url, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_every_tag_is_declared_with_a_description(document: dict[str, Any]) -> None:
    declared = {tag["name"]: tag.get("description") for tag in document["tags"]}
    used = {tag for _, _, operation in operations(document) for tag in operation["tags"]}
    assert used <= set(declared)
    assert all(declared.values())


def test_operations_come_in_the_order_a_user_meets_them(document: dict[str, Any]) -> None:
    listed = [operation["operationId"] for _, _, operation in operations(document)]
    assert sorted(listed) == sorted(USER_ORDER)
    # Operations sharing a path are listed together: the order holds path by path.
    first_seen = [op for op in USER_ORDER if op in listed]
    order_of_paths = [
        min(USER_ORDER.index(op["operationId"]) for op in path.values())
        for path in document["paths"].values()
    ]
    assert order_of_paths == sorted(order_of_paths)
    assert first_seen == USER_ORDER
    tags = [tag["name"] for tag in document["tags"]]
    assert tags[:6] == ["products", "history", "images", "variants", "skus", "channels"]


def test_every_product_response_documents_its_etag(document: dict[str, Any]) -> None:
    product = "#/components/schemas/ProductView"
    seen = 0
    for method, url, operation in operations(document):
        for status, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") == product:
                seen += 1
                assert "ETag" in response.get("headers", {}), (method, url, status)
    assert seen == 16
    register = document["paths"]["/v1/merchants/{merchant_id}/products"]["post"]
    assert {"ETag", "Location"} <= set(register["responses"]["201"]["headers"])


def test_a_busy_store_is_documented_with_retry_after(document: dict[str, Any]) -> None:
    for method, url, operation in operations(document):
        if url.startswith("/v1/"):
            busy = operation["responses"]["503"]
            assert "Retry-After" in busy["headers"], (method, url)


def test_each_documented_status_has_an_example_per_problem_type(
    document: dict[str, Any],
) -> None:
    for method, url, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] not in "45":
                continue
            examples = response["content"]["application/problem+json"]["examples"]
            assert examples, (method, url, status)
            for slug, example in examples.items():
                assert example["value"]["type"] == f"/problems/{slug}"
                assert example["value"]["status"] == int(status)


def test_the_examples_use_the_problem_types_the_api_defines(document: dict[str, Any]) -> None:
    documented = {
        slug
        for _, _, operation in operations(document)
        for status, response in operation["responses"].items()
        if status[0] in "45"
        for slug in response["content"]["application/problem+json"]["examples"]
    }
    defined = {kind.slug for kind in problem_module.DOMAIN_PROBLEMS.values()}
    # Every domain problem a route can meet is documented somewhere.
    assert defined <= documented


def test_the_register_example_is_a_complete_product(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["ProductCreate"]
    (example,) = schema["examples"]
    assert {"sku", "name", "description", "price", "attributes"} <= set(example)
    assert all(value is not None for value in example.values())
    register = document["paths"]["/v1/merchants/{merchant_id}/products"]["post"]
    assert "image" in register["description"].lower()


def test_free_form_objects_carry_examples(document: dict[str, Any]) -> None:
    """Without one, Swagger UI shows `additionalProp1` for a map."""
    bare = [
        where
        for where, node in walk(document["components"]["schemas"], "#/components/schemas")
        if node.get("additionalProperties") not in (None, False)
        and not node.get("examples")
        and where != "#/components/schemas/Problem"
    ]
    assert bare == []


def test_swagger_ui_lists_operations_in_the_users_order(tmp_path: Path) -> None:
    app = create_app(build_container(Settings(data_dir=tmp_path)))
    with TestClient(app) as client:
        page = client.get("/docs").text
    sorter = page[page.index("operationsSorter") :].split("\n", 1)[0]
    order = json.loads(sorter[sorter.index("[") : sorter.index("]") + 1])
    assert order == USER_ORDER
