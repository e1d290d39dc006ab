"""Webhook targets: https to public addresses only, loopback with the development setting,
every resolved address checked at start and again at delivery, the connection made to the
address checked (TLS and Host still naming the host), redirects not followed."""

from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme

from catalog.adapters.embedded.relay import (
    DeliveryIncomplete,
    OutboxRelay,
    WebhookSink,
    webhook_secret_text,
)
from catalog.adapters.webhook_targets import (
    CheckedAddressTransport,
    WebhookTargetPolicy,
    WebhookTargetRefused,
    webhook_client,
)
from catalog.bootstrap import ConfigurationError, checked_webhook_urls
from catalog.settings import Settings
from tests.relay.conftest import CatalogStore, commit_products

SECRET = webhook_secret_text(b"0123456789abcdef0123456789abcdef")
PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"


class Resolver:
    """Answers each lookup with the next of `answers` (the last one once they run out)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append((host, port))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def policy(*answers: Sequence[str], loopback: bool = False) -> WebhookTargetPolicy:
    return WebhookTargetPolicy(allow_http_loopback=loopback, resolver=Resolver(*answers))


def refusal(url: str, target_policy: WebhookTargetPolicy) -> str:
    with pytest.raises(WebhookTargetRefused) as refused:
        target_policy.checked_addresses(url)
    assert str(refused.value).startswith(f"webhook target {url} refused: ")
    return refused.value.reason


# ------------------------------------------------------------------ at start


def test_https_to_a_public_name_is_accepted_with_every_address_it_resolves_to() -> None:
    resolver = Resolver([PUBLIC_V4, PUBLIC_V6])
    target_policy = WebhookTargetPolicy(resolver=resolver)

    addresses = target_policy.checked_addresses("https://hooks.example:8443/catalog")

    assert [str(a) for a in addresses] == [PUBLIC_V4, PUBLIC_V6]
    assert resolver.lookups == [("hooks.example", 8443)]


@pytest.mark.parametrize("address", [PUBLIC_V4, f"[{PUBLIC_V6}]"])
def test_https_to_a_public_address_is_accepted_without_a_lookup(address: str) -> None:
    resolver = Resolver()

    addresses = WebhookTargetPolicy(resolver=resolver).checked_addresses(f"https://{address}/h")

    assert [str(a) for a in addresses] == [address.strip("[]")]
    assert resolver.lookups == []


@pytest.mark.parametrize("loopback", [False, True], ids=["default", "loopback-allowed"])
def test_plain_http_to_a_public_address_is_refused(loopback: bool) -> None:
    reason = refusal("http://hooks.example/h", policy([PUBLIC_V4], loopback=loopback))

    assert "https" in reason


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/h", "http://[::1]:9000/h", "http://localhost:9000/h"]
)
def test_plain_http_to_loopback_needs_the_development_setting(url: str) -> None:
    resolved = ["127.0.0.1", "::1"]

    reason = refusal(url, policy(resolved))
    accepted = policy(resolved, loopback=True).checked_addresses(url)

    assert "CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK=true" in reason
    assert all(address.is_loopback for address in accepted)


@pytest.mark.parametrize("url", ["https://127.0.0.1/h", "https://[::1]/h", "https://127.5.6.7/h"])
def test_https_to_loopback_needs_the_development_setting_too(url: str) -> None:
    reason = refusal(url, policy([]))

    assert reason.endswith(
        "is a loopback address (for development only: set CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK=true)"
    )
    assert policy([], loopback=True).checked_addresses(url)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("169.254.10.20", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("10.0.0.7", "a private address"),
        ("10.255.255.255", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.254", "a private address"),
        ("192.168.1.10", "a private address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("100.64.0.1", "a special-purpose address, not publicly routable"),  # carrier NAT
        ("192.0.2.1", "a special-purpose address, not publicly routable"),  # documentation
        ("2001:db8::1", "a special-purpose address, not publicly routable"),
        ("::ffff:169.254.169.254", "an address carrying 169.254.169.254, which is a cloud "),
        ("::ffff:10.0.0.1", "an address carrying 10.0.0.1, which is a private address"),
        ("64:ff9b::a9fe:a9fe", "an address carrying 169.254.169.254, which is a cloud "),
        ("2002:a00:1::1", "an address carrying 10.0.0.1, which is a private address"),  # 6to4
    ],
)
@pytest.mark.parametrize("loopback", [False, True], ids=["default", "loopback-allowed"])
def test_non_public_addresses_are_refused_whatever_the_setting(
    address: str, kind: str, loopback: bool
) -> None:
    literal = f"[{address}]" if ":" in address else address
    shown = ipaddress.ip_address(address)  # ::ffff:169.254.169.254 is shown ::ffff:a9fe:a9fe

    as_literal = refusal(f"https://{literal}/h", policy([], loopback=loopback))
    by_name = refusal("https://hooks.example/h", policy([address], loopback=loopback))

    assert as_literal.startswith(f"{shown} is {kind}")
    assert by_name.startswith(f"hooks.example resolves to {shown}, which is {kind}")


def test_a_name_is_refused_when_any_of_its_addresses_is() -> None:
    reason = refusal("https://hooks.example/h", policy([PUBLIC_V4, "10.1.2.3", PUBLIC_V6]))

    assert reason == "hooks.example resolves to 10.1.2.3, which is a private address"


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def no_such_name(host: str, port: int) -> Sequence[str]:
        raise OSError(-2, "Name or service not known")

    reason = refusal("https://nowhere.example/h", WebhookTargetPolicy(resolver=no_such_name))

    assert reason.startswith("nowhere.example did not resolve")


@pytest.mark.parametrize("url", ["ftp://hooks.example/h", "hooks.example/h", "https:///h"])
def test_what_is_not_an_https_url_is_refused(url: str) -> None:
    assert refusal(url, policy([PUBLIC_V4]))


def test_the_start_check_names_the_setting_the_url_and_the_reason() -> None:
    settings = Settings(webhook_urls=["https://hooks.example/ok", "https://intranet.example/h"])
    resolver = Resolver([PUBLIC_V4], ["192.168.0.20"])

    with pytest.raises(ConfigurationError) as refused:
        checked_webhook_urls(settings, WebhookTargetPolicy(resolver=resolver))

    assert str(refused.value) == (
        "CATALOG_WEBHOOK_URLS: webhook target https://intranet.example/h refused: "
        "intranet.example resolves to 192.168.0.20, which is a private address"
    )


# ------------------------------------------------------------------ at delivery


class Recorder:
    """What reached the network: the requests the pinned transport handed on."""

    def __init__(self, refuse_connecting_to: frozenset[str] = frozenset()) -> None:
        self.requests: list[httpx.Request] = []
        self.refuse_connecting_to = refuse_connecting_to

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in self.refuse_connecting_to:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        return httpx.Response(204)

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.handle)


def test_the_request_goes_to_the_checked_address_with_the_name_in_host_and_tls() -> None:
    recorder = Recorder()
    client = webhook_client(policy([PUBLIC_V4]), connect=recorder.transport)

    response = client.post("https://hooks.example:8443/catalog?x=1", content=b"{}")

    assert response.status_code == 204
    [sent] = recorder.requests
    assert (sent.url.host, sent.url.port, sent.url.raw_path) == (PUBLIC_V4, 8443, b"/catalog?x=1")
    assert sent.headers["host"] == "hooks.example:8443"
    assert sent.extensions["sni_hostname"] == "hooks.example"
    assert sent.content == b"{}"


def test_the_next_checked_address_is_tried_when_connecting_fails() -> None:
    recorder = Recorder(refuse_connecting_to=frozenset({PUBLIC_V6}))
    client = webhook_client(policy([PUBLIC_V6, PUBLIC_V4]), connect=recorder.transport)

    assert client.post("https://hooks.example/h", content=b"{}").status_code == 204

    assert [request.url.host for request in recorder.requests] == [PUBLIC_V4]


def test_each_host_has_its_own_connections() -> None:
    pools: list[Recorder] = []

    def connect() -> httpx.BaseTransport:
        pools.append(Recorder())
        return pools[-1].transport()

    transport = CheckedAddressTransport(policy([PUBLIC_V4]), connect=connect)
    with httpx.Client(transport=transport) as client:
        for url in ("https://a.example/1", "https://b.example/1", "https://a.example/2"):
            client.post(url, content=b"{}")

    # Both names resolve to one address: one pool each, so a TLS connection made for a.example
    # never carries b.example's request.
    assert [[r.headers["host"] for r in pool.requests] for pool in pools] == [
        ["a.example", "a.example"],
        ["b.example"],
    ]


def test_a_name_rebound_to_the_metadata_address_after_start_is_refused_at_delivery(
    store: CatalogStore, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://hooks.example/catalog"
    resolver = Resolver([PUBLIC_V4], ["169.254.169.254"], [PUBLIC_V4])
    target_policy = WebhookTargetPolicy(resolver=resolver)
    assert checked_webhook_urls(Settings(webhook_urls=[url]), target_policy) == [url]  # start
    events = commit_products(store, 1)
    recorder = Recorder()
    sink = WebhookSink(url, SECRET, webhook_client(target_policy, connect=recorder.transport))
    relay = OutboxRelay(store, [sink])

    with caplog.at_level(logging.WARNING), pytest.raises(DeliveryIncomplete):
        relay.drain()  # DNS now answers the metadata address

    assert recorder.requests == []  # nothing sent
    assert store.offset(sink.name) == 0  # a failed attempt: the event is still to deliver
    assert (
        f"event delivery to webhook:{url} failed (event {events[0].id}, attempt 1)" in caplog.text
    )
    assert (
        f"webhook target {url} refused: hooks.example resolves to 169.254.169.254, "
        "which is a cloud metadata address" in caplog.text
    )

    relay.drain()  # public again: the retry goes out, to the address checked then

    assert [request.url.host for request in recorder.requests] == [PUBLIC_V4]
    assert len(resolver.lookups) == 3  # start, refused delivery, delivery


# ------------------------------------------------------------------ real sockets


@contextmanager
def serving(
    handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Seen:
    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.server_names: list[str | None] = []


def recording_handler(seen: Seen, status: int = 204, location: str = "") -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            seen.hosts.append(self.headers["host"])
            self.send_response(status)
            if location:
                self.send_header("location", location)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def test_tls_is_verified_against_the_name_while_connecting_to_the_checked_address() -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.example").configure_cert(server_tls)  # valid for the name only
    seen = Seen()
    server_tls.sni_callback = lambda sock, name, context: seen.server_names.append(name)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    # hooks.example resolves to this machine, which the development setting admits.
    target_policy = policy(["127.0.0.1"], loopback=True)

    with (
        serving(recording_handler(seen), server_tls) as port,
        webhook_client(
            target_policy, connect=lambda: httpx.HTTPTransport(verify=client_tls)
        ) as client,
    ):
        answered = client.post(f"https://hooks.example:{port}/catalog", content=b"{}")
        # The same server by address: its certificate does not name 127.0.0.1.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client.post(f"https://127.0.0.1:{port}/catalog", content=b"{}")

    assert answered.status_code == 204
    assert seen.server_names[0] == "hooks.example"
    assert seen.hosts == [f"hooks.example:{port}"]


def test_redirects_are_not_followed(store: CatalogStore) -> None:
    commit_products(store, 1)
    elsewhere, redirecting = Seen(), Seen()
    with serving(recording_handler(elsewhere)) as other_port:
        handler = recording_handler(redirecting, 307, f"http://127.0.0.1:{other_port}/x")
        with serving(handler) as port:
            url = f"http://127.0.0.1:{port}/hooks"
            client = webhook_client(WebhookTargetPolicy(allow_http_loopback=True))
            sink = WebhookSink(url, SECRET, client)

            with pytest.raises(DeliveryIncomplete, match="answered 307"):
                OutboxRelay(store, [sink]).drain()

    assert len(redirecting.hosts) == 1
    assert elsewhere.hosts == []  # the signed event went nowhere else
    assert store.offset(sink.name) == 0
