"""The embedded deployment's outbox relay: a background thread in the server process that hands
committed events, in commit order, to every sink (the event log, each webhook).

Each sink consumes the outbox at its own offset, saved only after the sink confirmed a
delivery, so delivery is at least once and a restart resumes where each sink stopped. A failing
sink is retried with exponential backoff while the others keep going: a dead webhook never
holds back the event log or another webhook.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import httpx
from standardwebhooks import Webhook

from catalog.adapters.cloudevents import to_cloudevent
from catalog.service.ports import Outbox, OutboxRecord

logger = logging.getLogger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json; charset=utf-8"


class Sink(Protocol):
    """Somewhere events go. `name` keys the sink's offset in the outbox: keep it stable."""

    @property
    def name(self) -> str: ...

    def deliver(self, records: Sequence[OutboxRecord]) -> None:
        """Deliver all records in order, or raise. Raise DeliveryFailed to report that the
        first few were delivered before the failure, so they are not sent again."""
        ...


class DeliveryFailed(Exception):
    """A sink delivered only the first `delivered` records it was given."""

    def __init__(self, sink: str, delivered: int, reason: str) -> None:
        super().__init__(f"{sink}: {reason}")
        self.sink = sink
        self.delivered = delivered


class DeliveryIncomplete(Exception):
    """`drain` could not bring every sink up to date; the others were."""

    def __init__(self, failures: dict[str, Exception]) -> None:
        super().__init__(
            "event delivery incomplete: "
            + "; ".join(f"{name}: {error}" for name, error in failures.items())
        )
        self.failures = failures


@dataclass
class _SinkState:
    sink: Sink
    # Serializes deliveries to this sink between the thread and drain(), so neither sends
    # a batch the other is sending.
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Event = field(default_factory=threading.Event)
    failures: int = 0
    retry_at: float = 0.0


class OutboxRelay:
    """Runs one daemon thread per sink (`start`/`stop`), so a slow or failing webhook never
    holds back the event log or another webhook; or synchronously with `drain`. Retries of a
    failing sink wait `first_retry_seconds`, doubling up to `max_retry_seconds`."""

    def __init__(
        self,
        outbox: Outbox,
        sinks: Sequence[Sink],
        poll_seconds: float = 0.5,
        batch_size: int = 100,
        *,
        first_retry_seconds: float = 1.0,
        max_retry_seconds: float = 60.0,
        retain_events: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [sink.name for sink in sinks]
        if len(set(names)) != len(names):
            raise ValueError(f"sink names must be unique (they key the offsets): {names}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._outbox = outbox
        self._states = [_SinkState(sink) for sink in sinks]
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._first_retry = first_retry_seconds
        self._max_retry = max_retry_seconds
        self._monotonic = monotonic
        # Events every sink has are pruned from the outbox but for the newest `retain_events`
        # (what a webhook added later receives first; events.jsonl keeps them all).
        self._retain = retain_events
        self._pruned_up_to = 0
        self._prune_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        if self.is_running:
            raise RuntimeError("the relay is already running")
        self._stopping.clear()
        # Daemons: a webhook hanging past stop()'s timeout must not keep the process alive.
        self._threads = [
            threading.Thread(
                target=self._run, args=(state,), name=f"outbox-relay:{state.sink.name}", daemon=True
            )
            for state in self._states
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the deliveries in progress, waiting up to `timeout` in all for the threads
        to end (`is_running` tells whether they did). Whatever is still pending is delivered
        by the next start (or drain)."""
        self._stopping.set()
        for state in self._states:
            state.wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def is_running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def wake(self) -> None:
        """Deliver now rather than at the next poll (the store calls this after a commit).
        Sinks waiting out a backoff keep waiting."""
        for state in self._states:
            state.wake.set()

    def drain(self) -> None:
        """Deliver everything pending to every sink now, ignoring backoff. Raises
        DeliveryIncomplete naming the sinks that failed, after the others caught up."""
        failures: dict[str, Exception] = {}
        for state in self._states:
            error = self._attempt(state, until_stopped=False)
            if error is not None:
                failures[state.sink.name] = error
        if failures:
            raise DeliveryIncomplete(failures)

    # ---------------------------------------------------------------- the thread

    def _run(self, state: _SinkState) -> None:
        while not self._stopping.is_set():
            # Cleared before the pass: a commit during the pass wakes the next one at once.
            state.wake.clear()
            if not (state.failures and self._monotonic() < state.retry_at):
                self._attempt(state, until_stopped=True)
            state.wake.wait(self._next_wait(state))

    def _next_wait(self, state: _SinkState) -> float:
        if not state.failures:
            return self._poll_seconds
        return max(0.0, min(self._poll_seconds, state.retry_at - self._monotonic()))

    def _attempt(self, state: _SinkState, *, until_stopped: bool) -> Exception | None:
        with state.lock:
            try:
                if self._pump(state.sink, until_stopped=until_stopped):
                    self._prune()
            except Exception as error:  # any failure of a sink or the outbox: retry later
                state.failures += 1
                delay = backoff_delay(state.failures, first=self._first_retry, cap=self._max_retry)
                state.retry_at = self._monotonic() + delay
                logger.warning(
                    "event delivery to %s failed (attempt %d), retrying in %.1fs: %s",
                    state.sink.name,
                    state.failures,
                    delay,
                    error,
                )
                return error
            if state.failures:
                logger.info("event delivery to %s recovered", state.sink.name)
            state.failures = 0
            return None

    def _pump(self, sink: Sink, *, until_stopped: bool) -> int:
        """Deliver what the sink has not had yet; returns how many events it took."""
        delivered = 0
        while not (until_stopped and self._stopping.is_set()):
            records = self._outbox.read_after(self._outbox.offset(sink.name), self._batch_size)
            if not records:
                return delivered
            try:
                sink.deliver(records)
            except DeliveryFailed as failure:
                if failure.delivered > 0:
                    self._outbox.save_offset(sink.name, records[failure.delivered - 1].seq)
                raise
            self._outbox.save_offset(sink.name, records[-1].seq)
            delivered += len(records)
            if len(records) < self._batch_size:
                return delivered
        return delivered

    def _prune(self) -> None:
        floor = min(self._outbox.offset(state.sink.name) for state in self._states)
        up_to = floor - self._retain
        with self._prune_lock:
            if up_to > self._pruned_up_to:
                self._outbox.prune(up_to)
                self._pruned_up_to = up_to


def backoff_delay(failures: int, *, first: float, cap: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row: doubling, up to `cap`."""
    return float(min(cap, first * 2 ** min(failures - 1, 64)))


class WebhookSink:
    """POSTs each event, one CloudEvent per request (structured mode, `application/
    cloudevents+json`), signed per the Standard Webhooks spec: `webhook-id` is the event id,
    the same on every retry, so receivers deduplicate on it.

    Any 2xx response means delivered; anything else, or no response, is retried later by
    the relay. `secret` is either a Standard Webhooks secret string (`whsec_<base64>`) or
    the raw key bytes. The httpx client is injected: its owner sets timeouts and closes it.
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        client: httpx.Client,
        *,
        name: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url
        self.name = name or f"webhook:{url}"
        self._signer = Webhook(secret)
        self._client = client
        self._now = now

    def deliver(self, records: Sequence[OutboxRecord]) -> None:
        for index, record in enumerate(records):
            try:
                self._post(record)
            except (httpx.HTTPError, WebhookRejected) as error:
                raise DeliveryFailed(self.name, index, str(error)) from error

    def _post(self, record: OutboxRecord) -> None:
        body = json.dumps(to_cloudevent(record.event), ensure_ascii=False, separators=(",", ":"))
        # Signed at each attempt: receivers reject timestamps older than a few minutes.
        sent_at = self._now().astimezone(UTC)
        headers = {
            "content-type": CLOUDEVENTS_JSON,
            "webhook-id": record.event.id,
            "webhook-timestamp": str(math.floor(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(record.event.id, sent_at, body),
        }
        response = self._client.post(self.url, content=body.encode(), headers=headers)
        if not response.is_success:
            raise WebhookRejected(f"{self.url} answered {response.status_code}")


class WebhookRejected(Exception):
    """The receiver answered, but not with a 2xx."""


def webhook_secret_text(key: bytes) -> str:
    """The Standard Webhooks form of a raw key (`whsec_<base64>`), to hand to receivers."""
    return "whsec_" + base64.b64encode(key).decode()
