"""Every failure is a problem document with a /problems/ type: the framework's own errors
(routing, methods, form parsing) as much as the catalog's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from msgspec.structs import replace
from starlette.exceptions import HTTPException

from catalog.adapters.embedded.local_assets import LocalAssetStore
from catalog.bootstrap import Container
from catalog.domain import limits
from catalog.entrypoints.api.app import create_app
from tests.api.conftest import Principals
from tests.api.support import PROBLEM_JSON, Api, bearer, png

BOUNDARY = "catalog-test-boundary"


@pytest.fixture
def container(container: Container, tmp_path: Path) -> Container:
    """The embedded asset routes too (POST /assets parses a form of its own)."""
    local = LocalAssetStore(tmp_path / "assets", "http://testserver", b"k" * 32)
    return replace(container, ctx=replace(container.ctx, assets=local), local_assets=local)


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    """A multipart/form-data body of (name, content, filename) parts, exactly as listed."""
    body = b""
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: image/png\r\n"
        body += b"\r\n" + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@dataclass(frozen=True)
class BadRequest:
    what: str
    send: Callable[[TestClient, Api, str], httpx.Response]
    status: int
    slug: str


def _images(api: Api, product_id: str) -> str:
    return f"{api.product_url(product_id)}/images"


BAD_REQUESTS = [
    BadRequest("unknown route", lambda c, a, p: c.get("/v2/whatever"), 404, "not-found"),
    BadRequest(
        "method not allowed",
        lambda c, a, p: c.put(a.products_url(), headers=a.headers),
        405,
        "method-not-allowed",
    ),
    BadRequest(
        "malformed JSON",
        lambda c, a, p: c.post(
            a.products_url(),
            content=b'{"sku": ',
            headers={**a.headers, "Content-Type": "application/json"},
        ),
        400,
        "malformed-body",
    ),
    BadRequest(
        "JSON sent as text",
        lambda c, a, p: c.post(
            a.products_url(), content=b"{}", headers={**a.headers, "Content-Type": "text/plain"}
        ),
        415,
        "unsupported-media-type",
    ),
    BadRequest("no token", lambda c, a, p: c.get(a.products_url()), 401, "unauthorized"),
    BadRequest(
        "two file parts",
        lambda c, a, p: c.post(
            _images(a, p),
            content=multipart(("file", png(), "a.png"), ("file", png(), "b.png")),
            headers={**a.headers, **FORM},
        ),
        400,
        "invalid-multipart",
    ),
    BadRequest(
        "no boundary",
        lambda c, a, p: c.post(
            _images(a, p),
            content=multipart(("file", png(), "a.png")),
            headers={**a.headers, "Content-Type": "multipart/form-data"},
        ),
        400,
        "invalid-multipart",
    ),
    BadRequest(
        "too many fields",
        lambda c, a, p: c.post(
            _images(a, p),
            content=multipart(*[("alt", b"x", None)] * 5, ("file", png(), "a.png")),
            headers={**a.headers, **FORM},
        ),
        400,
        "invalid-multipart",
    ),
    BadRequest(
        "a field part too large",
        lambda c, a, p: c.post(
            _images(a, p),
            content=multipart(("alt", b"x" * (8 * limits.MAX_ALT_LENGTH), None)),
            headers={**a.headers, **FORM},
        ),
        400,
        "invalid-multipart",
    ),
    BadRequest(
        "a part without a name",
        lambda c, a, p: c.post(
            _images(a, p),
            content=f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
            f"--{BOUNDARY}--\r\n".encode(),
            headers={**a.headers, **FORM},
        ),
        400,
        "invalid-multipart",
    ),
    BadRequest(
        "two file parts on a direct upload",
        lambda c, a, p: c.post(
            "/assets",
            content=multipart(("file", png(), "a.png"), ("file", png(), "b.png")),
            headers=FORM,
        ),
        400,
        "invalid-multipart",
    ),
    BadRequest(
        "a body over the limit",
        lambda c, a, p: c.post(
            a.products_url(),
            content=b" " * (limits.MAX_JSON_BODY_BYTES + 1),
            headers={**a.headers, "Content-Type": "application/json"},
        ),
        413,
        "content-too-large",
    ),
    BadRequest(
        "an unknown query parameter",
        lambda c, a, p: c.get(a.products_url(), params={"q": "shoe"}, headers=a.headers),
        400,
        "unknown-query-parameter",
    ),
]


def assert_typed_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"/problems/{slug}"
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem


def test_every_bad_request_is_a_typed_problem(client: TestClient, acme: Api) -> None:
    product_id = acme.create_ok()["id"]
    for bad in BAD_REQUESTS:
        response = bad.send(client, acme, product_id)
        try:
            assert_typed_problem(response, bad.status, bad.slug)
        except AssertionError as failure:
            raise AssertionError(f"{bad.what}: {failure}") from None
    # Nothing above wrote anything: the product is as it was created.
    assert acme.get(product_id).json()["version"] == 1


def test_the_parser_names_the_reason_in_the_detail(client: TestClient, acme: Api) -> None:
    product_id = acme.create_ok()["id"]
    response = client.post(
        _images(acme, product_id),
        content=multipart(("file", png(), "a.png"), ("file", png(), "b.png")),
        headers={**acme.headers, **FORM},
    )
    problem = assert_typed_problem(response, 400, "invalid-multipart")
    assert "Too many files" in problem["detail"]
    assert problem["instance"] == _images(acme, product_id)


@pytest.mark.parametrize(
    ("status", "slug", "title"),
    [(418, "im-a-teapot", "I'm a Teapot"), (429, "too-many-requests", "Too Many Requests")],
)
def test_any_other_framework_status_gets_a_type_from_its_phrase(
    container: Container, principals: Principals, status: int, slug: str, title: str
) -> None:
    app: FastAPI = create_app(container)

    async def refuse() -> None:
        raise HTTPException(status)

    app.add_api_route("/refuse", refuse, methods=["GET"])
    with TestClient(app) as client:
        response = client.get("/refuse", headers=bearer(principals.merchant()))
    problem = assert_typed_problem(response, status, slug)
    assert problem["title"] == title
