"""No answer is built from the request's Host (or X-Forwarded-*) headers: URLs come from the
configured public URL, or are relative."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from msgspec.structs import replace

from catalog.adapters.embedded.local_assets import LocalAssetStore
from catalog.bootstrap import Container
from catalog.entrypoints.api.app import create_app
from catalog.settings import Settings
from tests.api.support import Api, assert_problem, png

PUBLIC_URL = "https://catalog.example.test"
HOSTILE = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "gopher",
    "X-Forwarded-Prefix": "/evil",
    "Forwarded": "host=evil.example;proto=gopher",
}


@pytest.fixture
def container(container: Container, tmp_path: Path) -> Container:
    """The embedded deployment on its public URL, serving its own asset URLs."""
    settings = container.settings.model_copy(update={"public_url": PUBLIC_URL})
    local = LocalAssetStore(tmp_path / "assets", PUBLIC_URL, b"k" * 32)
    return replace(
        container, settings=settings, ctx=replace(container.ctx, assets=local), local_assets=local
    )


def test_a_trailing_slash_redirects_onto_the_public_url(client: TestClient, acme: Api) -> None:
    response = client.get(
        acme.products_url() + "/?status=DRAFT",
        headers={**acme.headers, **HOSTILE},
        follow_redirects=False,
    )
    assert response.status_code == 307
    assert response.headers["location"] == f"{PUBLIC_URL}/v1/merchants/acme/products?status=DRAFT"


def test_without_a_public_url_there_is_no_redirect(container: Container, acme: Api) -> None:
    # On AWS the embedded default address means nothing: only CATALOG_PUBLIC_URL counts.
    aws = replace(container, settings=Settings(backend="aws", data_dir=container.settings.data_dir))
    with TestClient(create_app(aws)) as client:
        response = client.get(
            acme.products_url() + "/", headers={**acme.headers, **HOSTILE}, follow_redirects=False
        )
    problem = assert_problem(response, 404)
    assert problem["type"] == "/problems/not-found"
    assert "location" not in response.headers


def test_an_explicit_public_url_redirects_on_aws_too(container: Container, acme: Api) -> None:
    aws = replace(
        container,
        settings=Settings(
            backend="aws", public_url=PUBLIC_URL + "/", data_dir=container.settings.data_dir
        ),
    )
    with TestClient(create_app(aws)) as client:
        response = client.post(
            acme.products_url() + "/", headers={**acme.headers, **HOSTILE}, follow_redirects=False
        )
    assert response.status_code == 307  # the method and body are kept
    assert response.headers["location"] == f"{PUBLIC_URL}/v1/merchants/acme/products"


def test_no_answer_carries_a_hostile_host(client: TestClient, acme: Api) -> None:
    def send(method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**acme.headers, **HOSTILE}
        return client.request(method, url, headers=headers, follow_redirects=False, **kwargs)

    created = send("POST", acme.products_url(), json={"sku": "TS-1", "name": "Trail shoe"})
    product = acme.product_url(created.json()["id"])
    answers = [
        created,
        send("POST", product + "/images", files={"file": ("a.png", png(), "image/png")}),
        send("POST", product + "/images/uploads", json={"content_type": "image/png", "size": 99}),
        send("GET", product),
        send("HEAD", product),
        send("GET", acme.products_url()),
        send("GET", product + "/history"),
        send("GET", acme.products_url() + "/"),
        send("GET", product + "/"),
        send("GET", "/v2/nowhere"),
        send("PUT", product),
        send("GET", "/docs"),
        send("GET", "/openapi.json"),
    ]
    image_url = answers[1].json()["images"][0]["url"]
    answers.append(send("GET", image_url.removeprefix(PUBLIC_URL)))

    assert created.headers["location"] == product
    assert image_url.startswith(PUBLIC_URL + "/assets/")
    assert answers[2].json()["url"] == PUBLIC_URL + "/assets"
    assert answers[2].json()["confirm_url"].startswith(product + "/images/uploads/")
    for response in answers:
        assert response.status_code < 500, response.text
        shown = " ".join(f"{name}: {value}" for name, value in response.headers.items())
        assert "evil" not in shown, (response.request.url, shown)
        assert "gopher" not in shown
        assert b"evil" not in response.content, response.request.url
