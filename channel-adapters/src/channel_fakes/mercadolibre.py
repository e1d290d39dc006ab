"""A fake of Mercado Libre's items API (`https://api.mercadolibre.com`).

Modelled from the public developer docs ("List products", "Sync and modify listings",
"Validations"):

- `POST /items` creates an active item. Required: title, category_id, price (a number, major
  units), currency_id, available_quantity, buying_mode, listing_type_id, condition, pictures
  (`[{"source": url}]`), and the category's required attributes (`[{"id", "value_name"}]`).
  Optional `description: {"plain_text"}` and `seller_custom_field`.
- `GET /items/{id}`; `PUT /items/{id}` modifies title, price, available_quantity, pictures,
  attributes or `status` (`paused`, `active`, `closed`); category, listing type, buying mode,
  condition and currency cannot change; a closed item cannot be modified.
- `GET|PUT /items/{id}/description` (`{"plain_text": ...}`).
- Variations ("Variations"): `variations: [{"attribute_combinations": [{"id", "value_name"}],
  "price", "available_quantity", "picture_ids", "attributes": [{"id": "SELLER_SKU", ...}]}]`.
  The combination's attributes must be the category's `allow_variations` ones, the same in
  every variation, and no two variations may share a combination; every variation has the
  item's one price, a quantity, and at least one picture among the item's (by id or source
  URL); up to `max_variations` (100 in most categories). The item's `available_quantity` is
  their sum. On `PUT`, the list replaces the item's: an entry with an existing variation's
  `id` changes it, one without creates one (ids are ML's), an existing one left out is
  deleted; an item with variations cannot take a quantity of its own, nor lose them all.
- Errors: `{"message", "error", "status", "cause": [{"code", "type", "references",
  "message", ...}]}`; 401 without a valid `Authorization: Bearer` token.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

BUYING_MODES = {"buy_it_now", "auction", "classified"}
LISTING_TYPES = {"free", "bronze", "silver", "gold", "gold_special", "gold_premium", "gold_pro"}
CONDITIONS = {"new", "used", "not_specified"}
UPDATABLE = {
    "title", "price", "available_quantity", "pictures", "attributes", "status", "variations",
}  # fmt: skip
FIXED = {"category_id", "listing_type_id", "buying_mode", "condition", "currency_id"}
TITLE_MAX = 60

#: category id -> attribute ids the category requires (GET /categories/{id}/attributes,
#: the ones tagged `required`), a few real-looking ones.
DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "MLA3530": (),  # Otros
    "MLA109027": ("BRAND", "MODEL"),  # Zapatillas
    "MLA1055": ("BRAND", "MODEL"),  # Celulares y Smartphones
}
#: category id -> the attributes tagged `allow_variations` (those variations combine).
DEFAULT_VARIATION_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "MLA3530": (),
    "MLA109027": ("COLOR", "SIZE"),
    "MLA1055": ("COLOR", "INTERNAL_MEMORY"),
}
MAX_VARIATIONS = 100


class FakeMercadoLibre:
    def __init__(
        self,
        access_token: str = "APP_USR-test",
        site_id: str = "MLA",
        categories: Mapping[str, Sequence[str]] | None = None,
        variation_attributes: Mapping[str, Sequence[str]] | None = None,
        max_variations: int = MAX_VARIATIONS,
    ) -> None:
        self.access_token = access_token
        self.site_id = site_id
        self.categories = dict(categories or DEFAULT_CATEGORIES)
        self.variation_attributes = dict(variation_attributes or DEFAULT_VARIATION_ATTRIBUTES)
        self.max_variations = max_variations
        self.items: dict[str, dict[str, Any]] = {}
        self.descriptions: dict[str, str] = {}
        #: Every request received, as (method, path): lets tests prove no call was made.
        self.calls: list[tuple[str, str]] = []
        self._ids = itertools.count(1_000_000_001)
        self._variation_ids = itertools.count(180_000_000_001)
        self._lock = threading.Lock()
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Fake Mercado Libre items API")

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Any:
            self.calls.append((request.method, request.url.path))
            if request.headers.get("authorization") != f"Bearer {self.access_token}":
                return _error(401, "invalid access token", "unauthorized")
            return await call_next(request)

        @app.post("/items")
        async def create_item(request: Request) -> JSONResponse:
            body = await _json_object(request)
            if isinstance(body, JSONResponse):
                return body
            causes = self._validate_new(body)
            if causes:
                return _error(400, "Validation error", "validation_error", causes)
            with self._lock:
                item_id = f"{self.site_id}{next(self._ids)}"
                item = self._item(item_id, body)
                if "variations" in body:
                    self._set_variations(item, body["variations"])
                self.items[item_id] = item
                description = (body.get("description") or {}).get("plain_text")
                if description:
                    self.descriptions[item_id] = description
            return JSONResponse(item, status_code=201)

        @app.get("/items/{item_id}")
        def get_item(item_id: str) -> JSONResponse:
            item = self.items.get(item_id)
            if item is None:
                return _error(404, f"Item with id {item_id} not found", "not_found")
            return JSONResponse(item)

        @app.put("/items/{item_id}")
        async def modify_item(item_id: str, request: Request) -> JSONResponse:
            body = await _json_object(request)
            if isinstance(body, JSONResponse):
                return body
            with self._lock:
                item = self.items.get(item_id)
                if item is None:
                    return _error(404, f"Item with id {item_id} not found", "not_found")
                causes = self._validate_change(item, body)
                if causes:
                    return _error(400, "Validation error", "validation_error", causes)
                variations = body.get("variations")
                if "pictures" in body:
                    body = {**body, "pictures": _pictures(body["pictures"])}
                item.update({k: v for k, v in body.items() if k != "variations"})
                if variations is not None:
                    self._set_variations(item, variations)
            return JSONResponse(item)

        @app.get("/items/{item_id}/description")
        def get_description(item_id: str) -> JSONResponse:
            if item_id not in self.items:
                return _error(404, f"Item with id {item_id} not found", "not_found")
            return JSONResponse({"plain_text": self.descriptions.get(item_id, "")})

        @app.put("/items/{item_id}/description")
        async def set_description(item_id: str, request: Request) -> JSONResponse:
            body = await _json_object(request)
            if isinstance(body, JSONResponse):
                return body
            if item_id not in self.items:
                return _error(404, f"Item with id {item_id} not found", "not_found")
            text = body.get("plain_text")
            if not isinstance(text, str):
                cause = _cause("item.description.plain_text.invalid", "plain_text is required")
                return _error(400, "Validation error", "validation_error", [cause])
            self.descriptions[item_id] = text
            return JSONResponse({"plain_text": text})

        return app

    def _validate_new(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        causes = []
        for field in (
            "title", "category_id", "price", "currency_id", "available_quantity",
            "buying_mode", "listing_type_id", "condition", "pictures",
        ):  # fmt: skip
            if body.get(field) in (None, "", []):
                causes.append(_cause(f"item.{field}.required", f"The field {field} is required."))
        if causes:
            return causes
        causes += self._validate_values(body)
        category = body["category_id"]
        if category not in self.categories:
            causes.append(_cause("item.category_id.invalid", f"Category {category} does not exist"))
        else:
            given = {a.get("id") for a in body.get("attributes") or [] if isinstance(a, dict)}
            for attribute in self.categories[category]:
                if attribute not in given:
                    causes.append(
                        _cause(
                            "item.attributes.missing_required",
                            f"The attributes [{attribute}] are required for category {category}.",
                            references=["item.attributes"],
                        )
                    )
        for field, allowed in (
            ("buying_mode", BUYING_MODES),
            ("listing_type_id", LISTING_TYPES),
            ("condition", CONDITIONS),
        ):
            if body[field] not in allowed:
                causes.append(_cause(f"item.{field}.invalid", f"Invalid {field}: {body[field]}"))
        if "variations" in body and not causes:
            causes += self._validate_variations(
                category, body["variations"], _pictures(body["pictures"]), body["price"], []
            )
        return causes

    def _validate_change(self, item: Mapping[str, Any], body: Mapping[str, Any]) -> list[Any]:
        if item["status"] == "closed":
            return [_cause("item.status.not_modifiable", f"Item {item['id']} is closed.")]
        causes = []
        for field in body:
            if field in FIXED and body[field] != item.get(field):
                causes.append(_cause("field_not_updatable", f"{field} cannot be modified"))
            elif field not in UPDATABLE and field not in FIXED:
                causes.append(_cause("body.invalid_fields", f"Unknown field {field}"))
        if "status" in body and body["status"] not in ("active", "paused", "closed"):
            causes.append(_cause("item.status.invalid", f"Invalid status {body['status']}"))
        causes += self._validate_values(body)
        if causes:
            return causes
        listed = item.get("variations") or []
        if "variations" in body:
            pictures = _pictures(body["pictures"]) if "pictures" in body else item["pictures"]
            price = body.get("price", item["price"])
            causes += self._validate_variations(
                item["category_id"], body["variations"], pictures, price, listed
            )
        elif listed and "available_quantity" in body:
            causes.append(
                _cause(
                    "item.available_quantity.invalid",
                    "The item has variations: set available_quantity on each variation.",
                )
            )
        elif listed and "price" in body:
            causes.append(
                _cause("item.price.invalid", "The item has variations: set the price on each one.")
            )
        return causes

    def _validate_variations(
        self,
        category: str,
        variations: Any,
        pictures: list[dict[str, Any]],
        price: Any,
        listed: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The whole list an item would have, against the item's pictures and price."""

        def cause(code: str, message: str) -> dict[str, Any]:
            return _cause(f"item.variations.{code}", message, references=["item.variations"])

        if not isinstance(variations, list) or not all(isinstance(v, dict) for v in variations):
            return [cause("invalid", "variations must be a list of objects")]
        if listed and not variations:
            return [cause("empty", "An item with variations keeps at least one; close it instead")]
        if len(variations) > self.max_variations:
            return [cause("max", f"An item takes at most {self.max_variations} variations")]
        by_id = {variation["id"]: variation for variation in listed}
        causes = []
        merged = []
        for variation in variations:
            if "id" in variation and variation["id"] not in by_id:
                causes.append(cause("id.invalid", f"Variation {variation['id']} does not exist"))
            else:
                merged.append({**by_id.get(variation.get("id"), {}), **variation})
        allowed = set(self.variation_attributes.get(category, ()))
        picture_keys = {p["id"] for p in pictures} | {p["source"] for p in pictures}
        axes: set[frozenset[str]] = set()
        combinations: set[frozenset[tuple[str, str]]] = set()
        for variation in merged:
            combination = variation.get("attribute_combinations")
            if not (
                isinstance(combination, list)
                and combination
                and all(
                    isinstance(part, dict) and part.get("id") and part.get("value_name")
                    for part in combination
                )
            ):
                causes.append(
                    cause("attribute_combinations.invalid", "Each variation needs"
                          ' attribute_combinations [{"id", "value_name"}]')
                )  # fmt: skip
                continue
            ids = frozenset(str(part["id"]) for part in combination)
            axes.add(ids)
            if ids - allowed:
                causes.append(
                    cause(
                        "attribute_combinations.not_allowed",
                        f"Category {category} does not allow variations by"
                        f" {', '.join(sorted(ids - allowed))}",
                    )
                )
            pairs = frozenset((str(p["id"]), str(p["value_name"])) for p in combination)
            if pairs in combinations:
                described = ", ".join(f"{k}={v}" for k, v in sorted(pairs))
                causes.append(cause("duplicated", f"Two variations have {described}"))
            combinations.add(pairs)
            if not _is_number(variation.get("price")) or variation["price"] != price:
                causes.append(
                    cause("price.invalid", "Every variation must have the item's one price")
                )
            quantity = variation.get("available_quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                causes.append(
                    cause("available_quantity.invalid", "Each variation needs an integer >= 0")
                )
            picture_ids = variation.get("picture_ids")
            if not isinstance(picture_ids, list) or not picture_ids:
                causes.append(cause("pictures.missing", "Each variation needs a picture"))
            elif any(str(p) not in picture_keys for p in picture_ids):
                causes.append(
                    cause("picture_ids.invalid", "picture_ids must be pictures of the item")
                )
            attributes = variation.get("attributes", [])
            if not isinstance(attributes, list) or not all(
                isinstance(a, dict) and a.get("id") and isinstance(a.get("value_name"), str)
                for a in attributes
            ):
                causes.append(
                    cause("attributes.invalid", 'attributes must be [{"id", "value_name"}]')
                )
        if len(axes) > 1:
            causes.append(
                cause(
                    "attribute_combinations.inconsistent",
                    "Every variation must combine the same attributes",
                )
            )
        return causes

    def _set_variations(self, item: dict[str, Any], variations: list[dict[str, Any]]) -> None:
        """Replace the item's variations (validated), giving new ones ML's ids."""
        by_id = {variation["id"]: variation for variation in item.get("variations") or []}
        picture_of = {p["source"]: p["id"] for p in item["pictures"]}
        kept = []
        for variation in variations:
            merged = {**by_id.get(variation.get("id"), {}), **variation}
            merged.setdefault("id", next(self._variation_ids))
            merged.setdefault("sold_quantity", 0)
            merged["picture_ids"] = [picture_of.get(p, p) for p in merged["picture_ids"]]
            merged.setdefault("attributes", [])
            kept.append(merged)
        item["variations"] = kept
        item["available_quantity"] = sum(v["available_quantity"] for v in kept)
        if kept:
            item["price"] = kept[0]["price"]

    def _validate_values(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        causes = []
        title = body.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > TITLE_MAX):
            causes.append(
                _cause("item.title.length.invalid", f"Title must be up to {TITLE_MAX} characters")
            )
        price = body.get("price")
        if price is not None and (not _is_number(price) or price <= 0):
            causes.append(_cause("item.price.invalid", "price must be a positive number"))
        quantity = body.get("available_quantity")
        if quantity is not None and (not isinstance(quantity, int) or quantity < 0):
            causes.append(_cause("item.available_quantity.invalid", "must be an integer >= 0"))
        pictures = body.get("pictures")
        if pictures is not None and not (
            isinstance(pictures, list)
            and all(isinstance(p, dict) and _is_url(p.get("source")) for p in pictures)
        ):
            causes.append(_cause("item.pictures.invalid", 'pictures must be [{"source": url}]'))
        return causes

    def _item(self, item_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        slug = re.sub(r"[^a-z0-9]+", "-", str(body["title"]).lower()).strip("-")
        number = item_id[len(self.site_id) :]
        return {
            "id": item_id,
            "site_id": self.site_id,
            "title": body["title"],
            "category_id": body["category_id"],
            "price": body["price"],
            "currency_id": body["currency_id"],
            "initial_quantity": body["available_quantity"],
            "available_quantity": body["available_quantity"],
            "buying_mode": body["buying_mode"],
            "listing_type_id": body["listing_type_id"],
            "condition": body["condition"],
            "pictures": _pictures(body["pictures"]),
            "attributes": list(body.get("attributes") or []),
            "seller_custom_field": body.get("seller_custom_field"),
            "status": "active",
            "permalink": f"https://articulo.mercadolibre.com.ar/{self.site_id}-{number}-{slug}-_JM",
        }


def _pictures(pictures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": f"{n}-PIC", "source": p["source"], "url": p["source"]}
        for n, p in enumerate(pictures, 1)
    ]


def _cause(code: str, message: str, references: list[str] | None = None) -> dict[str, Any]:
    field = code.split(".")[1] if code.startswith("item.") else None
    return {
        "department": "items",
        "type": "error",
        "code": code,
        "references": references or ([f"item.{field}"] if field else []),
        "message": message,
    }


def _error(
    status: int, message: str, error: str, cause: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body = {"message": message, "error": error, "status": status, "cause": cause or []}
    return JSONResponse(body, status_code=status)


async def _json_object(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "body.invalid", "bad_request")
    if not isinstance(body, dict):
        return _error(400, "body.invalid", "bad_request")
    return body


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))
