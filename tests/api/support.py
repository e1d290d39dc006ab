"""Helpers of the API tests: a thin client for the catalog's routes and tiny images."""

from __future__ import annotations

import io
import json
from typing import Any, cast

import httpx
from fastapi.testclient import TestClient
from PIL import Image

PROBLEM_JSON = "application/problem+json"


def png(size: tuple[int, int] = (8, 6), color: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def product_body(sku: Any = "TS-1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sku": sku, "name": "Trail shoe"}
    body.update(fields)
    return body


def complete_body(sku: str = "TS-1", **fields: Any) -> dict[str, Any]:
    """Everything READY needs except an image (images are uploaded separately)."""
    return product_body(
        sku,
        description="A light shoe for rough trails.",
        price={"amount": 12999, "currency": "USD"},
        **fields,
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["type"]
    return problem


def error_fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


class Api:
    """The catalog's routes for one principal; returns raw httpx responses."""

    def __init__(self, client: TestClient, token: str, merchant: str = "acme") -> None:
        self.client = client
        self.headers = bearer(token)
        self.merchant = merchant

    def as_merchant(self, merchant: str) -> Api:
        return Api(self.client, self.headers["Authorization"].removeprefix("Bearer "), merchant)

    def products_url(self, merchant: str | None = None) -> str:
        return f"/v1/merchants/{merchant or self.merchant}/products"

    def product_url(self, product_id: str, merchant: str | None = None) -> str:
        return f"{self.products_url(merchant)}/{product_id}"

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return cast(httpx.Response, self.client.request(method.upper(), url, **kwargs))

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    def create(
        self, body: Any = None, headers: dict[str, str] | None = None, **fields: Any
    ) -> httpx.Response:
        payload = body if body is not None else product_body(**fields)
        return self._send("post", self.products_url(), json=payload, headers=self._headers(headers))

    def create_ok(self, body: Any = None, **fields: Any) -> dict[str, Any]:
        response = self.create(body, **fields)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def get(
        self, product_id: str, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        return self._send(
            "get", self.product_url(product_id), params=params, headers=self._headers(headers)
        )

    def list(self, **params: Any) -> httpx.Response:
        return self._send("get", self.products_url(), params=params, headers=self.headers)

    def patch(
        self,
        product_id: str,
        patch: Any,
        if_match: str | None = None,
        content_type: str = "application/merge-patch+json",
    ) -> httpx.Response:
        headers = self._headers({"Content-Type": content_type})
        if if_match is not None:
            headers["If-Match"] = if_match
        return self._send(
            "patch", self.product_url(product_id), content=json.dumps(patch), headers=headers
        )

    def set_status(
        self, product_id: str, status: str, reason: str | None = None, **headers: str
    ) -> httpx.Response:
        body: dict[str, Any] = {"status": status}
        if reason is not None:
            body["reason"] = reason
        return self._send(
            "post",
            f"{self.product_url(product_id)}/status",
            json=body,
            headers=self._headers(headers),
        )

    def delete(self, product_id: str) -> httpx.Response:
        return self._send("delete", self.product_url(product_id), headers=self.headers)

    def history(self, product_id: str, **params: Any) -> httpx.Response:
        return self._send(
            "get", f"{self.product_url(product_id)}/history", params=params, headers=self.headers
        )

    def upload(
        self,
        product_id: str,
        data: bytes,
        filename: str = "photo.png",
        content_type: str = "image/png",
        alt: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        form = {"alt": alt} if alt is not None else None
        return self._send(
            "post",
            f"{self.product_url(product_id)}/images",
            files={"file": (filename, data, content_type)},
            data=form,
            headers=self._headers(headers),
        )

    def create_with_image(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register `body` and upload one PNG; the product view after the upload."""
        product = self.create_ok(body)
        uploaded = self.upload(product["id"], png())
        assert uploaded.status_code == 201, uploaded.text
        view: dict[str, Any] = uploaded.json()
        return view

    def ready_ok(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register `body` (complete but for its image), add an image, make it READY."""
        product = self.create_with_image(body)
        moved = self.set_status(product["id"], "READY")
        assert moved.status_code == 200, moved.text
        view: dict[str, Any] = moved.json()
        return view

    def delete_image(self, product_id: str, image_id: str) -> httpx.Response:
        return self._send(
            "delete", f"{self.product_url(product_id)}/images/{image_id}", headers=self.headers
        )


class ChannelsApi:
    """The channel orchestration routes, for a merchant (requests) or an adapter (outcomes)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def url(self, product_id: str, channel: str) -> str:
        return f"{self.api.product_url(product_id)}/channels/{channel}"

    def publish(self, product_id: str, channel: str) -> httpx.Response:
        return self.api._send(
            "post", f"{self.url(product_id, channel)}/publish", headers=self.api.headers
        )

    def unpublish(self, product_id: str, channel: str) -> httpx.Response:
        return self.api._send(
            "post", f"{self.url(product_id, channel)}/unpublish", headers=self.api.headers
        )

    def report(self, product_id: str, channel: str, **outcome: Any) -> httpx.Response:
        return self.api._send(
            "put",
            f"{self.url(product_id, channel)}/listing",
            json=outcome,
            headers=self.api.headers,
        )


class VariantsApi:
    """The variant routes of a product, and the SKU lookup, for one principal."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def url(self, product_id: str, variant_id: str | None = None) -> str:
        base = f"{self.api.product_url(product_id)}/variants"
        return f"{base}/{variant_id}" if variant_id else base

    def _headers(self, if_match: str | None, extra: dict[str, str]) -> dict[str, str]:
        headers = self.api._headers(extra)
        if if_match is not None:
            headers["If-Match"] = if_match
        return headers

    def add(
        self,
        product_id: str,
        body: Any,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        extra = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.api._send(
            "post", self.url(product_id), json=body, headers=self._headers(if_match, extra)
        )

    def add_ok(self, product_id: str, body: Any) -> dict[str, Any]:
        """The last variant of the product view after adding `body`."""
        added = self.add(product_id, body)
        assert added.status_code == 201, added.text
        variant: dict[str, Any] = added.json()["variants"][-1]
        return variant

    def patch(
        self, product_id: str, variant_id: str, patch: Any, if_match: str | None = None
    ) -> httpx.Response:
        headers = self._headers(if_match, {"Content-Type": "application/merge-patch+json"})
        return self.api._send(
            "patch", self.url(product_id, variant_id), content=json.dumps(patch), headers=headers
        )

    def remove(
        self, product_id: str, variant_id: str, if_match: str | None = None
    ) -> httpx.Response:
        return self.api._send(
            "delete", self.url(product_id, variant_id), headers=self._headers(if_match, {})
        )

    def find_sku(self, sku: str) -> httpx.Response:
        return self.api._send(
            "get", f"/v1/merchants/{self.api.merchant}/skus/{sku}", headers=self.api.headers
        )
