"""Webhooks: one signed POST per event, verifiable with Standard Webhooks; retried until 2xx."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from catalog.adapters.cloudevents import to_cloudevent
from catalog.adapters.embedded.event_log import EventLogSink
from catalog.adapters.embedded.relay import (
    DeliveryIncomplete,
    OutboxRelay,
    RetryPolicy,
    WebhookSink,
    webhook_secret_text,
)
from tests.relay.conftest import WAIT, CatalogStore, commit_products

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = webhook_secret_text(KEY)
URL = "http://receiver.test/hooks"


class Receiver:
    """A webhook endpoint behind httpx.MockTransport, answering with `answer(call_number)`."""

    def __init__(self, answer: Callable[[int], int] = lambda call: 200) -> None:
        self.answer = answer
        self.calls = 0
        self.requests: list[httpx.Request] = []  # the ones answered 2xx
        self.lock = threading.Lock()
        self.client = httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.calls += 1
            status = self.answer(self.calls)
            if 200 <= status < 300:
                self.requests.append(request)
        return httpx.Response(status)

    def delivered_ids(self) -> list[str]:
        with self.lock:
            return [json.loads(request.content)["id"] for request in self.requests]


@pytest.mark.parametrize("secret", [SECRET, KEY], ids=["whsec-text", "raw-key"])
def test_each_event_is_posted_as_a_cloudevent_signed_for_standard_webhooks(
    store: CatalogStore, secret: str | bytes
) -> None:
    events = commit_products(store, 2)
    receiver = Receiver()

    OutboxRelay(store, [WebhookSink(URL, secret, receiver.client)]).drain()

    assert len(receiver.requests) == len(events)
    for request, event in zip(receiver.requests, events, strict=True):
        assert request.method == "POST" and str(request.url) == URL
        assert request.headers["content-type"].startswith("application/cloudevents+json")
        assert request.headers["webhook-id"] == event.id
        verified = Webhook(SECRET).verify(request.content, dict(request.headers))
        assert verified == to_cloudevent(event)


def test_a_signature_made_with_another_secret_does_not_verify(store: CatalogStore) -> None:
    commit_products(store, 1)
    receiver = Receiver()
    OutboxRelay(store, [WebhookSink(URL, webhook_secret_text(b"x" * 32), receiver.client)]).drain()

    (request,) = receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(request.content, dict(request.headers))


def test_events_accepted_before_a_failure_are_not_sent_again(store: CatalogStore) -> None:
    events = commit_products(store, 4)
    receiver = Receiver(lambda call: 500 if call == 3 else 202)
    sink = WebhookSink(URL, SECRET, receiver.client)
    relay = OutboxRelay(store, [sink])

    with pytest.raises(DeliveryIncomplete, match="500"):
        relay.drain()
    assert store.offset(sink.name) == store.read_after(0, 2)[-1].seq
    relay.drain()

    assert receiver.delivered_ids() == [event.id for event in events]


def test_a_network_error_is_retried_later(store: CatalogStore) -> None:
    commit_products(store, 1)
    answers = iter([None, 200])

    def flaky(request: httpx.Request) -> httpx.Response:
        if next(answers) is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200)

    client = httpx.Client(transport=httpx.MockTransport(flaky))
    sink = WebhookSink(URL, SECRET, client)
    relay = OutboxRelay(store, [sink])
    with pytest.raises(DeliveryIncomplete, match="refused"):
        relay.drain()
    assert store.offset(sink.name) == 0

    relay.drain()

    assert store.offset(sink.name) == store.read_after(0, 10)[-1].seq


def test_a_webhook_failing_a_few_times_gets_each_event_once_and_never_holds_the_log_back(
    store: CatalogStore, tmp_path: Path
) -> None:
    events = commit_products(store, 3)
    log = tmp_path / "events.jsonl"
    failures: list[int] = []
    successes: list[int] = []
    log_lines_at_first_success: list[int] = []
    all_delivered = threading.Event()

    def logged() -> int:
        return len(log.read_text().splitlines()) if log.exists() else 0

    def answer(call: int) -> int:
        # Down for at least two attempts, and until the log has everything: the log must get
        # there while the webhook is still failing.
        if len(failures) < 2 or (logged() < len(events) and len(failures) < 1000):
            failures.append(call)
            return 503
        if not successes:
            log_lines_at_first_success.append(logged())
        successes.append(call)
        if len(successes) == len(events):
            all_delivered.set()
        return 200

    receiver = Receiver(answer)
    relay = OutboxRelay(
        store,
        [WebhookSink(URL, SECRET, receiver.client), EventLogSink(log)],
        poll_seconds=3600,
        # Never parked: the webhook is down for longer than the default attempts.
        retry=RetryPolicy(first_seconds=0.001, max_seconds=0.01, max_attempts=10_000),
    )
    relay.start()
    try:
        assert all_delivered.wait(WAIT)
    finally:
        relay.stop(timeout=5)

    assert log_lines_at_first_success == [len(events)]
    assert receiver.delivered_ids() == [event.id for event in events]
    assert receiver.calls == len(failures) + len(events)
