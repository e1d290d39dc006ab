"""Webhook delivery under faults: N events to a clean receiver and to one answering 500 to
every 5th request, in the same run, with the relay's default retry policy.

    .venv/bin/python bench/webhook_faults.py [--events 60] [--refuse-every 5] [--timeout 120]

Each case commits N products on a fresh SQLite store, starts the embedded relay (event log +
one webhook on 127.0.0.1) and measures the seconds until the receiver accepted all N events
(or the timeout). Prints events delivered and seconds per case and the ratio faulty/clean.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from ulid import ULID

from catalog.adapters.embedded.dead_letters import SqliteDeadLetters
from catalog.adapters.embedded.event_log import EventLogSink
from catalog.adapters.embedded.relay import OutboxRelay, WebhookSink, webhook_secret_text
from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.domain.product import Product, Stamp
from catalog.domain.values import Money
from catalog.service.ports import Change

SECRET = webhook_secret_text(b"bench-webhook-key-0123456789abcdef")


class Receiver:
    def __init__(self, refuse_every: int) -> None:
        self.refuse_every = refuse_every
        self.requests = 0
        self.accepted: set[str] = set()
        self.changed = threading.Condition()

    def answer(self, event_id: str) -> int:
        with self.changed:
            self.requests += 1
            if self.refuse_every and self.requests % self.refuse_every == 0:
                return 500
            self.accepted.add(event_id)
            self.changed.notify_all()
            return 204


def serve(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(receiver.answer(self.headers["webhook-id"]))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def commit_products(store: SqliteStore, count: int) -> None:
    at = datetime.now(UTC)
    for index in range(count):
        product = Product.register(
            id=str(ULID()),
            merchant_id="bench",
            sku=f"SKU-{index}",
            name=f"Product {index}",
            description=None,
            price=Money(1000 + index, "USD"),
            attributes={},
            channel_overrides={},
            stamp=Stamp("bench", at + timedelta(milliseconds=index)),
        )
        pending = product.pull_change(lambda: str(ULID()))
        assert pending is not None
        store.commit(Change(product, pending.expected_version, pending.history, pending.events))


def run_case(events: int, refuse_every: int, timeout: float) -> tuple[int, float, int]:
    """(events delivered, seconds, requests) for one receiver."""
    receiver = Receiver(refuse_every)
    server = serve(receiver)
    with tempfile.TemporaryDirectory() as folder, httpx.Client(timeout=10.0) as http:
        data = Path(folder)
        store = SqliteStore(data / "catalog.db")
        commit_products(store, events)
        url = f"http://127.0.0.1:{server.server_port}/hooks"
        relay = OutboxRelay(
            store,
            [EventLogSink(data / "events.jsonl"), WebhookSink(url, SECRET, http)],
            dead_letters=SqliteDeadLetters(data / "catalog.db"),
        )
        started = time.perf_counter()
        relay.start()
        with receiver.changed:
            receiver.changed.wait_for(lambda: len(receiver.accepted) >= events, timeout)
            delivered = len(receiver.accepted)
        seconds = time.perf_counter() - started
        relay.stop(timeout=5)
        store.close()
    server.shutdown()
    server.server_close()
    return delivered, seconds, receiver.requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--refuse-every", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0)
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # one warning per refused request otherwise
    print(
        f"webhook delivery: {options.events} events, default retry policy "
        f"(1 s first retry, doubling per event, jitter, 8 attempts before parking)"
    )
    results = {}
    for label, refuse_every in (
        ("clean", 0),
        (f"1 in {options.refuse_every} 500", options.refuse_every),
    ):
        delivered, seconds, requests = run_case(options.events, refuse_every, options.timeout)
        results[label] = seconds
        print(
            f"{label:<12} {delivered:>4}/{options.events} delivered"
            f" in {seconds:7.2f} s ({requests} requests)"
        )
    clean, faulty = results.values()
    print(f"ratio faulty/clean: {faulty / clean:.1f}x ({faulty - clean:.2f} s more)")


if __name__ == "__main__":
    main()
