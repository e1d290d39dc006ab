"""Signing in to the console with the identity provider, in the browser: a console built with
CATALOG_CONSOLE_OIDC_CLIENT_ID and CATALOG_JWT_ISSUER (the embedded backend, served by
uvicorn on 127.0.0.1) and the fake provider on localhost, another site for the browser."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect

from catalog.bootstrap import build_container
from catalog.entrypoints.api.app import create_app
from catalog.settings import Settings
from tests.console.fake_issuer import CLIENT_ID, FakeIssuer, redirect_back, running_issuer

SIGN_IN = "Sign in with your account"


@pytest.fixture(scope="module")
def running() -> Iterator[FakeIssuer]:
    with running_issuer() as issuer:
        yield issuer


@pytest.fixture
def issuer(running: FakeIssuer) -> FakeIssuer:
    running.reset()
    return running


@pytest.fixture(scope="module")
def console_url(running: FakeIssuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The catalog's URL, its console signing in with the fake provider."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    running.redirect_uris = {f"{url}/console/sign-in/callback"}
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("console-oidc"),
        public_url=url,
        jwt_issuer=running.url,
        console_oidc_client_id=CLIENT_ID,
    )
    container = build_container(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(container), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        started = threading.Event()
        while not server.started and thread.is_alive():
            started.wait(0.02)
        assert server.started, "the catalog did not start"
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def registered(issuer: FakeIssuer, console_url: str) -> FakeIssuer:
    issuer.redirect_uris = {f"{console_url}/console/sign-in/callback"}
    return issuer


def test_signing_in_with_the_provider_lands_on_the_products(
    page: Page, issuer: FakeIssuer, console_url: str, shoot: Callable[[Page, str], Path]
) -> None:
    registered(issuer, console_url).account = {
        "sub": "carla",
        "merchant_id": "shop-oidc-1",
        "roles": ["merchant"],
    }
    page.goto(console_url + "/console/products")
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    shoot(page, "sign-in-oidc")
    page.get_by_role("link", name=SIGN_IN).click()
    page.get_by_role("button", name="Sign in as carla").click()
    # Through the provider and back, then the console's own step to the products: the
    # session's SameSite=Strict cookie is sent there, or this would be the sign-in page again.
    expect(page).to_have_url(re.compile(r"/console/products$"))
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("shop-oidc-1")
    [asked] = issuer.authorizations
    assert asked["code_challenge_method"] == "S256"
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["catalog_console"]["sameSite"] == "Strict"
    assert cookies["catalog_console"]["httpOnly"] is True
    assert "catalog_console_oidc" not in cookies  # the flow's cookie is used up

    # Signed out, the session is gone; signing in again goes through the provider again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name=SIGN_IN)).to_be_visible()
    page.get_by_role("link", name=SIGN_IN).click()
    page.get_by_role("button", name="Sign in as carla").click()
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    assert len(issuer.authorizations) == 2


def test_an_account_that_is_no_merchant_is_refused(
    page: Page, issuer: FakeIssuer, console_url: str, shoot: Callable[[Page, str], Path]
) -> None:
    registered(issuer, console_url).account = {"sub": "ops-admin", "roles": ["platform"]}
    page.goto(console_url + "/console/sign-in")
    page.get_by_role("link", name=SIGN_IN).click()
    with page.expect_response(re.compile(r"/console/sign-in/callback")) as callback:
        page.get_by_role("button", name="Sign in as ops-admin").click()
    assert callback.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text(
        "You signed in as ops-admin, which is not a merchant's account"
    )
    shoot(page, "sign-in-oidc-refused")
    page.goto(console_url + "/console/products")
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()


def test_a_sign_in_started_elsewhere_is_refused(
    page: Page, issuer: FakeIssuer, console_url: str
) -> None:
    """Login CSRF: someone starts a sign-in with their own account and sends the browser the
    provider's answer. Its state is not the one this browser's flow keeps."""
    registered(issuer, console_url).account = {
        "sub": "mallory",
        "merchant_id": "shop-oidc-mallory",
        "roles": ["merchant"],
    }
    with httpx.Client(base_url=console_url) as attacker:
        to_provider = attacker.get("/console/sign-in/oidc")
        assert to_provider.status_code == 303
        answer = redirect_back(to_provider.headers["location"])
        back = f"{console_url}/console/sign-in/callback?{urlencode(answer)}"

    # The browser has started a sign-in of its own (on the provider's page), then follows the
    # attacker's link; and again, its flow's cookie gone with the first refusal.
    page.goto(console_url + "/console/sign-in")
    page.get_by_role("link", name=SIGN_IN).click()
    expect(page.get_by_role("button", name="Sign in as mallory")).to_be_visible()
    for _ in range(2):
        answer = page.goto(back)
        assert answer is not None and answer.status == 400
        expect(page.get_by_role("alert")).to_contain_text("did not start in this browser")
    page.goto(console_url + "/console/products")
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    # The provider was never asked for tokens: the state is refused before the code is used.
    assert issuer.token_requests == []
