"""A fake of Meta's Catalog Batch API (Graph API, `https://graph.facebook.com/<version>`).

Modelled from the public docs ("Catalog Batch API", `/{catalog_id}/items_batch` and
`/{catalog_id}/check_batch_request_status` references):

- `POST /{version}/{catalog_id}/items_batch` with `item_type=PRODUCT_ITEM` and `requests`, a
  list of `{"method": "CREATE"|"UPDATE"|"DELETE", "data": {"id": <retailer id>, ...}}`, as a
  JSON body or form fields (`requests` then a JSON string). Answers
  `{"handles": [h], "validation_status": [...]}`; the requests are processed asynchronously.
- `GET /{version}/{catalog_id}/check_batch_request_status?handle=h` answers
  `{"data": [{"status", "errors_total_count", "errors": [{"line", "id", "message"}],
  "warnings": []}]}`: `in_progress` for the first `checks_until_finished` checks, then
  `finished`. Requests with errors are not applied; the others are.
- Product fields checked on CREATE and UPDATE: id, title, description, availability
  (`in stock`, `out of stock`, `preorder`, `available for order`, `discontinued`), condition
  (`new`, `refurbished`, `used`), price (`"<amount> <ISO 4217>"`, e.g. `"129.99 USD"`), link
  and image_link (URLs), and an identifier: brand, or gtin or mpn (any one of them).
- Variants are items sharing `item_group_id` ("Product Variants"): every item of a group must
  populate the same variant fields (color, size, gender, pattern, material, age_group,
  additional_variant_attribute), and no two may have the same values in them (checked on
  the catalog as the batch would leave it; each request of the batch in a group that breaks
  either rule is refused).
- UPDATE creates a missing item (`allow_upsert` defaults to true), so it is then checked as a
  CREATE.
- `GET /{version}/{catalog_id}/products` lists the items (`retailer_id` and fields).
- Graph errors: `{"error": {"message", "type", "code", "fbtrace_id"}}`; 401 (code 190)
  without the access token (`access_token` parameter or `Authorization: Bearer`).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

AVAILABILITY = {"in stock", "out of stock", "preorder", "available for order", "discontinued"}
CONDITIONS = {"new", "refurbished", "used"}
REQUIRED = ("title", "description", "availability", "condition", "price", "link", "image_link")
#: Any one of them identifies the product.
IDENTIFIERS = ("brand", "gtin", "mpn")
PRICE = re.compile(r"^\d+(\.\d+)? [A-Z]{3}$")
MAX_REQUESTS = 5000
VARIANT_FIELDS = (
    "color", "size", "gender", "pattern", "material", "age_group", "additional_variant_attribute",
)  # fmt: skip


@dataclass
class _Batch:
    errors: list[dict[str, Any]]
    checks: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False


class FakeMetaCatalog:
    def __init__(
        self,
        access_token: str = "EAAB-test",
        catalog_id: str = "1234567890",
        checks_until_finished: int = 1,
    ) -> None:
        self.access_token = access_token
        self.catalog_id = catalog_id
        self.checks_until_finished = checks_until_finished
        #: retailer id -> the item's fields, as the catalog holds them.
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self._batches: dict[str, _Batch] = {}
        self._handles = itertools.count(1)
        self._lock = threading.Lock()
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Fake Meta Catalog Batch API")

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Any:
            self.calls.append((request.method, request.url.path))
            token = request.query_params.get("access_token") or ""
            header = request.headers.get("authorization", "")
            if header.startswith("Bearer "):
                token = header.removeprefix("Bearer ")
            if token != self.access_token:
                return _graph_error(401, "Invalid OAuth access token.", 190)
            return await call_next(request)

        @app.post("/{version}/{catalog_id}/items_batch")
        async def items_batch(catalog_id: str, request: Request) -> JSONResponse:
            if catalog_id != self.catalog_id:
                return _graph_error(400, f"Unsupported post request. Object {catalog_id}", 100)
            params = await _params(request)
            if params.get("item_type") != "PRODUCT_ITEM":
                return _graph_error(400, "(#100) param item_type must be PRODUCT_ITEM", 100)
            requests = params.get("requests")
            if isinstance(requests, str):
                try:
                    requests = json.loads(requests)
                except ValueError:
                    requests = None
            if not isinstance(requests, list) or not 0 < len(requests) <= MAX_REQUESTS:
                return _graph_error(400, "(#100) param requests must be an array", 100)
            for request_ in requests:
                if not isinstance(request_, dict) or request_.get("method") not in (
                    "CREATE", "UPDATE", "DELETE",
                ):  # fmt: skip
                    return _graph_error(400, "(#100) method must be CREATE, UPDATE or DELETE", 100)
                if not isinstance(request_.get("data"), dict) or not request_["data"].get("id"):
                    return _graph_error(400, "(#100) every request needs data.id", 100)
            handle = f"AcZ{next(self._handles):08d}"
            errors = self._validate(requests)
            with self._lock:
                self._batches[handle] = _Batch(errors=errors, requests=requests)
            return JSONResponse(
                {
                    "handles": [handle],
                    "validation_status": [
                        {
                            "retailer_id": r["data"]["id"],
                            "errors": [{"message": e["message"]} for e in errors if e["line"] == n],
                            "warnings": [],
                        }
                        for n, r in enumerate(requests)
                    ],
                }
            )

        @app.get("/{version}/{catalog_id}/check_batch_request_status")
        def check_batch_request_status(catalog_id: str, handle: str = "") -> JSONResponse:
            with self._lock:
                batch = self._batches.get(handle)
                if catalog_id != self.catalog_id or batch is None:
                    return _graph_error(400, "(#100) Invalid handle", 100)
                batch.checks += 1
                if batch.checks <= self.checks_until_finished:
                    return JSONResponse({"data": [{"status": "in_progress"}]})
                if not batch.applied:
                    self._apply(batch)
            return JSONResponse(
                {
                    "data": [
                        {
                            "status": "finished",
                            "errors_total_count": len(batch.errors),
                            "errors": batch.errors,
                            "warnings": [],
                        }
                    ]
                }
            )

        @app.get("/{version}/{catalog_id}/products")
        def products(catalog_id: str) -> JSONResponse:
            if catalog_id != self.catalog_id:
                return _graph_error(400, f"Unsupported get request. Object {catalog_id}", 100)
            return JSONResponse(
                {"data": [{"retailer_id": rid, **item} for rid, item in self.items.items()]}
            )

        return app

    def _validate(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        for line, request in enumerate(requests):
            data, retailer_id = request["data"], request["data"]["id"]

            def error(message: str, line: int = line, retailer_id: str = retailer_id) -> None:
                errors.append({"line": line, "id": retailer_id, "message": message})

            if request["method"] == "DELETE":
                continue
            if request["method"] == "CREATE" and retailer_id in self.items:
                error(f"An item with retailer_id {retailer_id} already exists in the catalog.")
            if request["method"] == "CREATE" or retailer_id not in self.items:
                for name in REQUIRED:
                    if data.get(name) in (None, ""):
                        error(f"Missing required field: {name}")
                if all(data.get(name) in (None, "") for name in IDENTIFIERS):
                    error("Missing required field: brand (or gtin or mpn)")
            if "availability" in data and data["availability"] not in AVAILABILITY:
                error(f"Invalid availability: {data['availability']}")
            if "condition" in data and data["condition"] not in CONDITIONS:
                error(f"Invalid condition: {data['condition']}")
            if "price" in data and not PRICE.match(str(data["price"])):
                error(f"Invalid price {data['price']!r}: expected e.g. '9.99 USD'")
            for name in ("link", "image_link"):
                if name in data and not str(data[name]).startswith(("http://", "https://")):
                    error(f"Invalid URL in {name}")
        return errors + self._group_errors(requests, {e["line"] for e in errors})

    def _group_errors(
        self, requests: list[dict[str, Any]], failed: set[int]
    ) -> list[dict[str, Any]]:
        """The variant rules, on the catalog as the batch's valid requests would leave it."""
        projected = {retailer_id: dict(item) for retailer_id, item in self.items.items()}
        line_of: dict[str, int] = {}
        for line, request in enumerate(requests):
            if line in failed:
                continue
            data = dict(request["data"])
            retailer_id = data.pop("id")
            if request["method"] == "DELETE":
                projected.pop(retailer_id, None)
            else:
                projected[retailer_id] = {**projected.get(retailer_id, {}), **data}
                line_of[retailer_id] = line
        groups: dict[str, list[str]] = {}
        for retailer_id, item in projected.items():
            if item.get("item_group_id"):
                groups.setdefault(str(item["item_group_id"]), []).append(retailer_id)
        errors = []
        for group, members in groups.items():
            sent = [member for member in members if member in line_of]
            problem = _group_problem(group, {m: _variant_values(projected[m]) for m in members})
            if sent and problem:
                errors += [{"line": line_of[m], "id": m, "message": problem} for m in sent]
        return errors

    def _apply(self, batch: _Batch) -> None:
        failed = {e["line"] for e in batch.errors}
        for line, request in enumerate(batch.requests):
            if line in failed:
                continue
            data = dict(request["data"])
            retailer_id = data.pop("id")
            if request["method"] == "DELETE":
                self.items.pop(retailer_id, None)
            else:  # UPDATE creates the item when missing (allow_upsert defaults to true)
                self.items[retailer_id] = {**self.items.get(retailer_id, {}), **data}
        batch.applied = True


def _variant_values(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in VARIANT_FIELDS if item.get(name) not in (None, "")}


def _group_problem(group: str, values: dict[str, dict[str, Any]]) -> str | None:
    """Why the group's variants cannot be told apart, if they cannot."""
    named = set().union(*(fields.keys() for fields in values.values()))
    lacking = sorted(m for m, fields in values.items() if fields.keys() != named)
    if lacking:
        return (
            f"Item group {group}: every variant must populate {', '.join(sorted(named))};"
            f" {', '.join(lacking)} do not"
        )
    first_with: dict[tuple[tuple[str, str], ...], str] = {}
    for member, fields in sorted(values.items()):
        combination = tuple(sorted((k, str(v)) for k, v in fields.items()))
        if combination in first_with:
            return (
                f"Item group {group}: {first_with[combination]} and {member} have the same"
                " variant values"
            )
        first_with[combination] = member
    return None


async def _params(request: Request) -> Mapping[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _graph_error(status: int, message: str, code: int) -> JSONResponse:
    kind = "OAuthException"
    body = {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AFake"}}
    return JSONResponse(body, status_code=status)
