"""Channel requirements over HTTP, on every backend: who may declare and read them, what a PUT
writes, and the problems each route answers (DESIGN.md section 9)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from catalog.domain.completeness import MAX_POINTER_LENGTH, MAX_REQUIREMENTS
from tests.api.conftest import Principals
from tests.api.support import assert_problem, bearer, error_fields

NEEDS = ["/description", "/price", "/images", "/attributes/brand"]


def url(channel: str = "mercadolibre") -> str:
    return f"/v1/channels/{channel}/requirements"


def put(
    client: TestClient,
    token: str | None,
    body: Any = None,
    channel: str = "mercadolibre",
    **headers: str,
) -> httpx.Response:
    auth = bearer(token) if token else {}
    return client.put(
        url(channel),
        json={"required": NEEDS} if body is None else body,
        headers={**auth, **headers},
    )


def get(client: TestClient, token: str | None, channel: str = "mercadolibre") -> httpx.Response:
    return client.get(url(channel), headers=bearer(token) if token else {})


@pytest.mark.parametrize("who", ["platform", "channel", "channel-without-merchants"])
def test_the_platform_or_the_channel_declares_and_anyone_reads(
    client: TestClient, principals: Principals, who: str
) -> None:
    token = {
        "platform": principals.platform(),
        "channel": principals.channel("mercadolibre"),
        "channel-without-merchants": principals.channel("mercadolibre", merchants=()),
    }[who]

    declared = put(client, token)

    assert declared.status_code == 200, declared.text
    assert declared.headers["ETag"] == '"1"'
    view = declared.json()
    assert (view["channel"], view["required"], view["version"]) == ("mercadolibre", NEEDS, 1)
    assert view["updated_at"].endswith("Z")
    for reader in (principals.merchant("globex"), principals.channel("amazon"), token):
        read = get(client, reader)
        assert (read.status_code, read.json(), read.headers["ETag"]) == (200, view, '"1"')


@pytest.mark.parametrize("who", ["merchant", "other-channel"])
def test_merchants_and_other_channels_are_403_and_nothing_is_written(
    client: TestClient, principals: Principals, who: str
) -> None:
    token = principals.merchant("acme") if who == "merchant" else principals.channel("amazon")

    problem = assert_problem(put(client, token), 403)

    assert problem["type"] == "/problems/forbidden"
    # Refused before the body is read: a bad one changes nothing.
    assert_problem(put(client, token, body={"required": "nope"}), 403)
    assert get(client, principals.merchant()).json()["version"] == 0


def test_no_token_is_401_on_both_routes(client: TestClient) -> None:
    assert_problem(get(client, None), 401)
    assert_problem(put(client, None), 401)


def test_a_channel_that_declared_nothing_needs_nothing_beyond_ready(
    client: TestClient, principals: Principals
) -> None:
    read = get(client, principals.merchant(), "amazon")

    assert read.status_code == 200
    assert read.headers["ETag"] == '"0"'
    assert read.json() == {"channel": "amazon", "required": [], "version": 0, "updated_at": None}


def test_a_slug_that_cannot_be_a_channel_is_404(client: TestClient, principals: Principals) -> None:
    for channel in ("NOT_A_SLUG", "x", "a" * 41):
        assert assert_problem(get(client, principals.merchant(), channel), 404)["type"] == (
            "/problems/not-found"
        )
        assert_problem(put(client, principals.platform(), channel=channel), 404)


def test_the_same_list_again_keeps_the_version_and_channels_are_versioned_apart(
    client: TestClient, principals: Principals
) -> None:
    platform = principals.platform()
    first = put(client, platform).json()

    again = put(client, principals.channel("mercadolibre"))
    assert (again.json(), again.headers["ETag"]) == (first, '"1"')
    amazon = put(client, platform, {"required": ["/attributes/gtin"]}, "amazon")
    assert amazon.json()["version"] == 1
    emptied = put(client, platform, {"required": []})
    assert (emptied.json()["required"], emptied.json()["version"]) == ([], 2)
    assert get(client, platform, "amazon").json()["required"] == ["/attributes/gtin"]


def test_if_match_is_the_channels_version(client: TestClient, principals: Principals) -> None:
    platform = principals.platform()
    stale = assert_problem(put(client, platform, **{"If-Match": '"1"'}), 412)
    assert stale["current_version"] == 0
    assert put(client, platform, **{"If-Match": '"0"'}).status_code == 200
    put(client, platform, {"required": ["/price"]}, "amazon")  # another channel

    changed = put(client, platform, {"required": ["/images"]}, **{"If-Match": '"1"'})
    assert (changed.status_code, changed.headers["ETag"]) == (200, '"2"')
    refused = put(client, platform, {"required": ["/price"]}, **{"If-Match": '"1"'})
    assert (assert_problem(refused, 412)["current_version"], refused.headers["ETag"]) == (2, '"2"')
    assert_problem(put(client, platform, **{"If-Match": "not-a-version"}), 400)


def test_a_bad_list_is_422_naming_every_bad_pointer_and_nothing_is_written(
    client: TestClient, principals: Principals
) -> None:
    platform = principals.platform()
    body = {"required": ["/description", "/colour", 7, "/attributes/"], "extra": 1}

    problem = assert_problem(put(client, platform, body), 422)

    assert error_fields(problem) == ["/extra", "/required/1", "/required/2", "/required/3"]
    assert_problem(put(client, platform, ["/price"]), 422)
    assert_problem(put(client, platform, {"required": ["/price"] * 101}), 422)
    assert get(client, platform).json()["version"] == 0


def test_requirements_past_the_stored_limit_are_413_and_nothing_is_written(
    client: TestClient, principals: Principals
) -> None:
    platform = principals.platform()
    longest = [
        f"/attributes/{n:03d}" + "x" * (MAX_POINTER_LENGTH - 15) for n in range(MAX_REQUIREMENTS)
    ]
    for n in range(4):
        assert put(client, platform, {"required": longest}, f"channel-{n}").status_code == 200

    problem = assert_problem(put(client, platform, {"required": longest}, "channel-4"), 413)

    assert problem["type"] == "/problems/requirements-too-large"
    assert problem["limit"] == 128 * 1024
    assert get(client, platform, "channel-4").json()["version"] == 0
    # A channel already stored may still shrink its list.
    assert put(client, platform, {"required": ["/price"]}, "channel-0").status_code == 200
