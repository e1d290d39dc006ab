"""Every answer a route gives is in the OpenAPI document: its status, and for a problem its
type among that status's examples.

The `recorded` fixture records (method, route, status, problem type) of every response the
test client receives and, when the test ends, compares them with the served document. The
tests send what a client gets wrong, route by route: no token, another merchant, a read-only
principal, an unknown query parameter, a bad or stale If-Match, a wrong body, a busy store, a
writer that keeps losing races, and each route's own refusals.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from catalog.bootstrap import build_container, local_tokens
from catalog.domain.errors import StoreUnavailable, VersionConflict
from catalog.entrypoints.api.app import create_app
from catalog.settings import Settings
from tests.api.support import complete_body, png

PRODUCTS = "/v1/merchants/acme/products"
OTHER_MERCHANT = "/v1/merchants/globex/products"


@dataclass
class Recorder:
    document: dict[str, Any]
    seen: set[tuple[str, str, int, str | None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] = [
            (re.compile(_template_regex(url)), url, path)
            for url, path in self.document["paths"].items()
        ]

    def route_of(self, method: str, path: str) -> str | None:
        for pattern, url, operations in self.routes:
            if pattern.fullmatch(path) and method in operations:
                return url
        return None

    def record(self, response: httpx.Response) -> None:
        response.read()
        method = response.request.method.lower()
        route = self.route_of(method, response.request.url.path)
        assert route is not None, f"{method} {response.request.url.path} is not documented"
        slug = None
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            slug = response.json()["type"].removeprefix("/problems/")
        self.seen.add((method, route, response.status_code, slug))

    def undocumented(self) -> list[tuple[str, str, int, str | None]]:
        missing = []
        for method, route, status, slug in sorted(self.seen, key=str):
            responses = self.document["paths"][route][method]["responses"]
            response = responses.get(str(status))
            if response is None:
                missing.append((method, route, status, slug))
            elif slug is not None:
                examples = response["content"]["application/problem+json"]["examples"]
                if slug not in examples:
                    missing.append((method, route, status, slug))
        return missing

    def statuses(self, method: str, route: str) -> set[int]:
        return {status for m, r, status, _ in self.seen if (m, r) == (method, route)}


def _template_regex(url: str) -> str:
    parts = re.split(r"({[^}]+})", url)
    return "".join(
        ".+" if part == "{key}" else "[^/]+" if part.startswith("{") else re.escape(part)
        for part in parts
    )


@dataclass
class Setup:
    client: TestClient
    settings: Settings
    store: Any
    recorder: Recorder

    def token(self, merchant: str = "acme", role: str = "merchant") -> dict[str, str]:
        scope = [merchant] if role.startswith("channel:") else []
        issued = local_tokens(self.settings).issue(merchant, [role], merchants=scope)
        return {"Authorization": f"Bearer {issued}"}

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("headers", self.token())
        response: httpx.Response = self.client.request(method, url, **kwargs)
        return response

    def product(self, sku: str, *, image: bool = True, ready: bool = False) -> dict[str, Any]:
        created = self.send("POST", PRODUCTS, json=complete_body(sku))
        assert created.status_code == 201, created.text
        product: dict[str, Any] = created.json()
        if image:
            uploaded = self.send(
                "POST", f"{PRODUCTS}/{product['id']}/images", files={"file": ("a.png", png())}
            )
            assert uploaded.status_code == 201, uploaded.text
            product = uploaded.json()
        if ready:
            made = self.send("POST", f"{PRODUCTS}/{product['id']}/status", json={"status": "READY"})
            assert made.status_code == 200, made.text
            product = made.json()
        return product


def _recorded(tmp_path: Path, **settings: Any) -> Iterator[Setup]:
    built = Settings(data_dir=tmp_path, public_url="http://testserver", **settings)
    container = build_container(built)
    app = create_app(container)
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        recorder = Recorder(document)
        client.event_hooks["response"] = [recorder.record]
        yield Setup(client, built, container.ctx.store, recorder)
    assert recorder.seen
    assert recorder.undocumented() == []


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[Setup]:
    # Without the limit per caller: these tests send hundreds of requests as fast as they can.
    yield from _recorded(tmp_path, rate_limit=None)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Setup]:
    """With the default limit per caller, its clock stopped: no bucket refills."""
    setup = _recorded(tmp_path)
    current = next(setup)
    stopped = time.monotonic()
    current.client.app.state.caller_limits.clock = lambda: stopped  # type: ignore[attr-defined]
    yield current
    yield from setup


@dataclass(frozen=True)
class Call:
    """One valid request of a route, on product `p` (and image `i` of it)."""

    method: str
    path: str
    json_body: Any = None
    content_type: str = "application/json"
    multipart: bool = False
    if_match: bool = False
    writes: bool = True

    def url(self, product: dict[str, Any], base: str = PRODUCTS) -> str:
        image = product["images"][0]["id"] if product["images"] else "01JD8X6B2Q3R4S5T6V7W8X9Y0Z"
        return base + self.path.format(p=product["id"], i=image)


ULID = "01JD8X6B2Q3R4S5T6V7W8X9Y0Z"
IMAGE_PATCH = Call(
    "PATCH",
    "/{p}/images/{i}",
    json_body={"alt": "Side view"},
    content_type="application/merge-patch+json",
    if_match=True,
)
CALLS = [
    Call("POST", "", json_body=complete_body("NEW-1")),
    Call("GET", "/{p}", writes=False),
    Call("GET", "", writes=False),
    Call(
        "PATCH",
        "/{p}",
        json_body={"name": "Renamed"},
        content_type="application/merge-patch+json",
        if_match=True,
    ),
    Call("POST", "/{p}/status", json_body={"status": "DRAFT"}, if_match=True),
    Call("DELETE", "/{p}", if_match=True),
    Call("GET", "/{p}/history", writes=False),
    Call("POST", "/{p}/images", multipart=True, if_match=True),
    Call("DELETE", "/{p}/images/{i}", if_match=True),
    Call("POST", "/{p}/channels/shop/publish", if_match=True),
    Call("POST", "/{p}/channels/shop/unpublish", if_match=True),
    Call("POST", "/{p}/images/uploads", json_body={"content_type": "image/png", "size": 100}),
    Call("POST", f"/{{p}}/images/uploads/{ULID}/confirm", json_body={}, if_match=True),
    IMAGE_PATCH,
]
REPORT = Call(
    "PUT",
    "/{p}/channels/shop/listing",
    json_body={"state": "PUBLISHED", "product_version": 1, "external_id": "E1"},
)


def send_call(
    setup: Setup, call: Call, product: dict[str, Any], **overrides: Any
) -> httpx.Response:
    url = overrides.pop("url", call.url(product))
    headers = {**setup.token(), **overrides.pop("extra_headers", {})}
    headers = overrides.pop("headers", headers)
    if call.multipart:
        return setup.send(
            call.method, url, headers=headers, files={"file": ("a.png", png())}, **overrides
        )
    if call.json_body is not None:
        headers = {"Content-Type": call.content_type, **headers}
        content = overrides.pop("content", json.dumps(call.json_body))
        return setup.send(call.method, url, headers=headers, content=content, **overrides)
    return setup.send(call.method, url, headers=headers, **overrides)


def test_what_every_route_answers_a_client_that_gets_it_wrong(recorded: Setup) -> None:
    product = recorded.product("TS-1")
    anonymous: dict[str, str] = {}
    for call in [*CALLS, REPORT]:
        send_call(recorded, call, product, headers=anonymous)
        send_call(recorded, call, product, url=call.url(product, OTHER_MERCHANT))
        send_call(recorded, call, product, url=call.url(product) + "?sku=TS-1")
        send_call(recorded, call, product, url=call.url(product) + "?limit=1&limit=2")
        if call.writes:
            send_call(recorded, call, product, headers=recorded.token("acme", "channel:shop"))
        if call.if_match:
            send_call(recorded, call, product, extra_headers={"If-Match": "not-a-version"})
            send_call(recorded, call, product, extra_headers={"If-Match": '"999"'})
        if call.json_body is not None:
            send_call(recorded, call, product, content="{not json")
            send_call(recorded, call, product, content=json.dumps({"bogus": 1}))
            send_call(recorded, call, product, content="[" + "0," * 200_000 + "0]")
            send_call(recorded, call, product, extra_headers={"Content-Type": "text/plain"})
        elif call.writes:
            # Any body over the limit is refused, even where the route reads none.
            send_call(recorded, call, product, content=b"x" * 300_000)
    # A merchant may not report for a channel; the channel's adapter must send a valid report.
    send_call(recorded, REPORT, product, headers=recorded.token("acme", "merchant"))
    adapter = recorded.token("acme", "channel:shop")
    send_call(recorded, REPORT, product, headers=adapter, content=json.dumps({"state": "X"}))
    # The routes that take query parameters take each once.
    repeated = {"/{p}": "?channel=ab&channel=cd", "": "?limit=1&limit=2"}
    for call in (CALLS[1], CALLS[2], CALLS[6]):
        query = repeated.get(call.path, "?limit=1&limit=2")
        send_call(recorded, call, product, url=call.url(product) + query)
    images = f"{PRODUCTS}/{product['id']}/images"
    send_call(recorded, Call("POST", ""), product, url=images, json={"file": "a.png"})
    for method, route in [("post", "/v1/merchants/{merchant_id}/products")]:
        assert {401, 404, 400, 403, 413, 415, 422} <= recorded.recorder.statuses(method, route)


def test_what_every_route_answers_when_the_store_is_busy(
    recorded: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = recorded.product("TS-1")

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("throttled")

    for method in ("get", "page", "history", "idempotency_record", "commit"):
        monkeypatch.setattr(recorded.store, method, busy)
    for call in [*CALLS, REPORT]:
        role = "channel:shop" if call is REPORT else "platform"
        answer = send_call(recorded, call, product, headers=recorded.token("acme", role))
        assert answer.status_code == 503, (call, answer.text)
        assert answer.headers["Retry-After"]


def test_what_writers_answer_when_they_keep_losing_the_race(
    recorded: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = recorded.product("TS-1", ready=True)
    published = send_call(recorded, CALLS[9], product)
    assert published.status_code == 202

    def moved(change: Any) -> None:
        raise VersionConflict(product["id"], 1)

    monkeypatch.setattr(recorded.store, "commit", moved)
    outcome = {"state": "PUBLISHED", "product_version": published.json()["version"]}
    for call in [CALLS[3], CALLS[5], CALLS[7], CALLS[10], IMAGE_PATCH]:
        answer = send_call(recorded, call, product)
        assert answer.status_code == 409, (call, answer.text)
    answer = send_call(
        recorded,
        REPORT,
        product,
        headers=recorded.token("acme", "channel:shop"),
        content=json.dumps({**outcome, "external_id": "E1"}),
    )
    assert answer.status_code == 409, answer.text


def test_what_every_route_answers_oversized_headers_and_callers_past_their_rate(
    limited: Setup,
) -> None:
    product = limited.product("TS-1")
    oversized = {"X-Padding": "a" * 9000}
    for call in [*CALLS, REPORT]:
        answer = send_call(limited, call, product, extra_headers=oversized)
        assert answer.status_code == 431, (call, answer.text)
    # Drain one principal's bucket (its token's first request counts against the address,
    # which must have room for it), then the address's with anonymous requests.
    merchant = limited.token()
    drained = [limited.send("GET", PRODUCTS, headers=merchant).status_code for _ in range(202)]
    assert drained[0] == 200
    assert drained[-1] == 429
    drained = [limited.send("GET", "/health", headers={}).status_code for _ in range(201)]
    assert drained[-1] == 429
    for call in [*CALLS, REPORT]:
        for headers in ({}, merchant):
            answer = send_call(limited, call, product, headers=headers)
            assert answer.status_code == 429, (call, answer.text)
            assert int(answer.headers["Retry-After"]) >= 1


def test_what_each_route_refuses_on_its_own(recorded: Setup) -> None:
    send = recorded.send
    draft = recorded.product("D-1", image=False)
    ready = recorded.product("R-1", ready=True)
    p, r = f"{PRODUCTS}/{draft['id']}", f"{PRODUCTS}/{ready['id']}"
    # register
    assert send("POST", PRODUCTS, json=complete_body("D-1")).status_code == 409
    keyed = {**recorded.token(), "Idempotency-Key": "k1"}
    send("POST", PRODUCTS, json=complete_body("K-1"), headers=keyed)
    assert send("POST", PRODUCTS, json=complete_body("K-2"), headers=keyed).status_code == 422
    # get
    etag = send("GET", p).headers["etag"]
    assert send("GET", p, headers={**recorded.token(), "If-None-Match": etag}).status_code == 304
    assert send("GET", p + "?channel=NOT_A_SLUG").status_code == 422
    assert send("GET", f"{PRODUCTS}/{ULID}").status_code == 404
    # list and history
    assert send("GET", PRODUCTS + "?cursor=forged").status_code == 400
    assert send("GET", PRODUCTS + "?limit=0").status_code == 422
    assert send("GET", p + "/history?cursor=forged").status_code == 400
    assert send("GET", p + "/history?limit=1000").status_code == 422
    # status
    assert send("POST", p + "/status", json={"status": "READY"}).status_code == 422
    assert send("POST", r + "/status", json={"status": "READY"}).status_code == 200
    # channels
    assert send("POST", p + "/channels/shop/publish").status_code == 409
    assert send("POST", p + "/channels/NOT_A_SLUG/publish").status_code == 422
    assert send("POST", p + "/channels/NOT_A_SLUG/unpublish").status_code == 422
    adapter = recorded.token("acme", "channel:shop")
    outcome = {"state": "PUBLISHED", "product_version": 1, "external_id": "E1"}
    assert send("PUT", p + "/channels/shop/listing", json=outcome, headers=adapter).status_code in (
        409,
        200,
    )
    # images
    assert send("POST", p + "/images", files={"file": ("a.svg", b"<svg/>")}).status_code == 415
    assert send("POST", p + "/images", files={"alt": (None, "no file")}).status_code == 422
    two_files = [("file", ("a.png", png())), ("file", ("b.png", png()))]
    assert send("POST", p + "/images", files=two_files).status_code == 400
    assert send("POST", p + "/images", files={"file": ("a.png", b"")}).status_code == 422
    assert send("DELETE", f"{p}/images/{ULID}").status_code == 404
    assert send("PATCH", f"{p}/images/{ULID}", json={"alt": "x"}).status_code == 404
    assert send("PATCH", f"{p}/images/{ULID}", json={"alt": 7}).status_code == 422
    assert send("POST", f"{p}/images/uploads/{ULID}/confirm").status_code == 404
    assert (
        send(
            "POST", p + "/images/uploads", json={"content_type": "image/svg", "size": 1}
        ).status_code
        == 422
    )
    # an ACTIVE product keeps its last image
    published = send("POST", r + "/channels/shop/publish")
    assert published.status_code == 202, published.text
    outcome = {"state": "PUBLISHED", "product_version": published.json()["version"]}
    listed = send(
        "PUT", r + "/channels/shop/listing", json={**outcome, "external_id": "E1"}, headers=adapter
    )
    assert listed.json()["status"] == "ACTIVE", listed.text
    image = listed.json()["images"][0]["id"]
    assert send("DELETE", f"{r}/images/{image}").status_code == 422
    assert send("PATCH", r, json={"price": None}).status_code == 422
    # inactive products refuse changes
    assert send("DELETE", r).status_code == 200
    assert send("PATCH", r, json={"name": "x"}).status_code == 409
    assert send("POST", r + "/images", files={"file": ("a.png", png())}).status_code == 409
    assert (
        send(
            "POST", r + "/images/uploads", json={"content_type": "image/png", "size": 9}
        ).status_code
        == 409
    )
    assert send("POST", r + "/channels/shop/publish").status_code == 409
    assert send("POST", r + "/status", json={"status": "READY"}).status_code == 409
    assert send("DELETE", f"{r}/images/{image}").status_code == 409
    assert send("PATCH", f"{r}/images/{image}", json={"alt": "x"}).status_code == 409
    assert send("GET", "/assets/a.png?expires=1&expires=2", headers={}).status_code == 400
    # assets and health
    asset = send("GET", "/assets/acme/nothing.png?expires=1&signature=x", headers={})
    assert asset.status_code == 404
    assert send("GET", "/assets/acme/x.png?bogus=1", headers={}).status_code == 400
    assert send(
        "POST", "/assets", data={"key": "k"}, files={"file": ("a", b"x")}, headers={}
    ).status_code in (400, 403)
    assert (
        send("POST", "/assets", content=b"x", headers={"Content-Type": "text/plain"}).status_code
        == 400
    )
    assert send("GET", "/health", headers={}).status_code == 200
    assert send("GET", "/health?verbose=1", headers={}).status_code == 400


def test_a_served_image_answers_304_to_its_etag(recorded: Setup) -> None:
    product = recorded.product("IMG-1")
    url = product["images"][0]["url"].removeprefix("http://testserver")
    first = recorded.send("GET", url, headers={})
    assert first.status_code == 200
    again = recorded.send("GET", url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_what_a_direct_upload_answers(recorded: Setup) -> None:
    send = recorded.send
    product = recorded.product("UP-1", image=False)
    uploads = f"{PRODUCTS}/{product['id']}/images/uploads"

    def ticket() -> dict[str, Any]:
        issued = send("POST", uploads, json={"content_type": "image/png", "size": 1000})
        assert issued.status_code == 201, issued.text
        body: dict[str, Any] = issued.json()
        return body

    def upload(issued: dict[str, Any], data: bytes) -> httpx.Response:
        return send(
            "POST", "/assets", data=issued["fields"], files={"file": ("a", data)}, headers={}
        )

    rejected = ticket()
    assert upload(rejected, b"not an image").status_code == 204
    confirm = f"{uploads}/{rejected['upload_id']}/confirm"
    assert send("POST", confirm).status_code == 415
    assert send("POST", confirm).status_code == 409
    assert upload(rejected, png()).status_code == 403
    stale = ticket()
    assert upload(stale, png()).status_code == 204
    stale_confirm = f"{uploads}/{stale['upload_id']}/confirm"
    moved = {**recorded.token(), "If-Match": '"999"'}
    assert send("POST", stale_confirm, headers=moved).status_code == 412
    too_big = ticket()
    assert upload(too_big, b"x" * 2000).status_code == 413


def test_what_the_channel_requirements_routes_answer(recorded: Setup) -> None:
    send = recorded.send
    url = "/v1/channels/shop/requirements"
    body = json.dumps({"required": ["/description", "/attributes/brand"]})
    platform = {**recorded.token("acme", "platform"), "Content-Type": "application/json"}
    assert send("GET", url, headers={}).status_code == 401
    assert send("PUT", url, headers={}, content=body).status_code == 401
    assert send("GET", url).status_code == 200
    assert send("GET", "/v1/channels/NOT_A_SLUG/requirements").status_code == 404
    assert send("GET", url + "?sku=1").status_code == 400
    assert send("PUT", url + "?sku=1", headers=platform, content=body).status_code == 400
    assert send("PUT", "/v1/channels/NOT_A_SLUG/requirements", headers=platform).status_code == 404
    merchant = {**recorded.token(), "Content-Type": "application/json"}
    assert send("PUT", url, headers=merchant, content=body).status_code == 403
    other = {**recorded.token("acme", "channel:other"), "Content-Type": "application/json"}
    assert send("PUT", url, headers=other, content=body).status_code == 403
    adapter = {**recorded.token("acme", "channel:shop"), "Content-Type": "application/json"}
    assert send("PUT", url, headers=adapter, content=body).status_code == 200
    assert send("PUT", url, headers={**platform, "If-Match": "x"}, content=body).status_code == 400
    stale = {**platform, "If-Match": '"7"'}
    assert send("PUT", url, headers=stale, content=body).status_code == 412
    assert send("PUT", url, headers=platform, content="{not json").status_code == 400
    assert send("PUT", url, headers=platform, content='{"required": 1}').status_code == 422
    text = {**platform, "Content-Type": "text/plain"}
    assert send("PUT", url, headers=text, content=body).status_code == 415
    assert send("PUT", url, headers=platform, content=b"x" * 300_000).status_code == 413
    longest = [f"/attributes/{n:03d}" + "x" * 285 for n in range(100)]
    for n in range(5):
        answer = send(
            "PUT",
            f"/v1/channels/c-{n}/requirements",
            headers=platform,
            content=json.dumps({"required": longest}),
        )
    assert answer.status_code == 413
    assert answer.json()["type"] == "/problems/requirements-too-large"


def test_the_channel_requirements_routes_when_the_store_is_busy_or_keeps_moving(
    recorded: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "/v1/channels/shop/requirements"
    platform = recorded.token("acme", "platform")

    def moved(change: Any) -> None:
        raise VersionConflict(change.channel, change.expected_version)

    monkeypatch.setattr(recorded.store, "commit_requirements", moved)
    raced = recorded.send("PUT", url, headers=platform, json={"required": ["/price"]})
    assert raced.status_code == 409, raced.text

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("throttled")

    monkeypatch.setattr(recorded.store, "channel_requirements", busy)
    for method in ("GET", "PUT"):
        answer = recorded.send(method, url, headers=platform, json={"required": ["/price"]})
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"]
