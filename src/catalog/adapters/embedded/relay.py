"""The embedded deployment's outbox relay: a background thread in the server process that hands
committed events, in commit order, to every sink (the event log, each webhook).

Each sink consumes the outbox at its own offset, saved only after the sink confirmed a
delivery, so delivery is at least once and a restart resumes where each sink stopped. A failing
sink is retried with exponential backoff while the others keep going: a dead webhook never
holds back the event log or another webhook.

The backoff follows the event being retried, not the sink's history: it grows while one event
keeps failing and starts over once that event is delivered, so a receiver refusing one request
in five costs each refused event one short wait. A webhook's event still refused after
`RetryPolicy.max_attempts` is parked in the dead-letter table (dead_letters.py) and the sink
moves on; `redrive_dead_letters` delivers parked events again. The event log never parks.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import httpx
from msgspec import Struct, field
from standardwebhooks import Webhook

from catalog.adapters.cloudevents import to_cloudevent
from catalog.adapters.retries import Backoff, backoff_ceiling
from catalog.adapters.webhook_targets import WebhookTargetRefused
from catalog.service.ports import Outbox, OutboxRecord

if TYPE_CHECKING:
    from catalog.adapters.embedded.dead_letters import DeadLetter

logger = logging.getLogger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json; charset=utf-8"


class Sink(Protocol):
    """Somewhere events go. `name` keys the sink's offset in the outbox: keep it stable.

    `parks_undeliverable`: whether an event this sink keeps refusing may be parked as a dead
    letter after the bounded attempts (webhooks), or must be retried for as long as it takes
    (the event log: it is the full record of events).
    """

    @property
    def name(self) -> str: ...

    @property
    def parks_undeliverable(self) -> bool: ...

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


class DeadLetterStore(Protocol):
    """Where parked events wait for a redrive (dead_letters.SqliteDeadLetters)."""

    def park(
        self, sink: str, record: OutboxRecord, attempts: int, error: str, at: datetime
    ) -> None: ...

    def parked(
        self, *, sink: str | None = None, event_id: str | None = None
    ) -> list[DeadLetter]: ...

    def remove(self, sink: str, event_id: str) -> None: ...


DEFAULT_MAX_ATTEMPTS = 8


class RetryPolicy(Struct, frozen=True):
    """How long a sink waits before trying a refused event again, and how many attempts a
    parking sink (a webhook) gives one event before parking it: the adapters' Backoff
    (adapters/retries.py), scheduled by the relay rather than slept in a loop, so a sink
    waiting out a retry never blocks another sink, stop() or drain().

    The n-th failure in a row of one event waits `first_seconds * 2**(n-1)`, capped at
    `max_seconds`, of which the upper half is random (`jitter` in [0, 1)): retries never come
    at once, and webhooks failing together do not retry in lockstep. Equal rather than full
    jitter: a webhook receiver that is down gets no burst of near-immediate retries.
    """

    first_seconds: float = 1.0
    max_seconds: float = 60.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the event's `attempts`-th failed attempt."""
        ceiling = backoff_delay(attempts, first=self.first_seconds, cap=self.max_seconds)
        return ceiling * (0.5 + 0.5 * self.jitter())

    def exhausted(self, attempts: int) -> bool:
        """Whether a parking sink parks the event after its `attempts`-th failed attempt."""
        return Backoff(self.max_attempts, self.first_seconds, self.max_seconds).exhausted(attempts)


class _SinkState(Struct):
    sink: Sink
    # Serializes deliveries to this sink between the thread and drain(), so neither sends
    # a batch the other is sending.
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Event = field(default_factory=threading.Event)
    # The event the sink failed on last (None: the outbox itself failed), and how many
    # attempts in a row failed on it. Reset once it is delivered or parked.
    failing_event: str | None = None
    attempts: int = 0
    retry_at: float = 0.0

    def recovered(self) -> None:
        self.failing_event = None
        self.attempts = 0
        self.retry_at = 0.0


class _PassFailed(Exception):
    """A pass over the outbox stopped: `record` is the event the sink refused (None when the
    outbox could not be read); `delivered` events went out before it."""

    def __init__(self, record: OutboxRecord | None, delivered: int, error: Exception) -> None:
        super().__init__(str(error))
        self.record = record
        self.delivered = delivered
        self.error = error


class OutboxRelay:
    """Runs one daemon thread per sink (`start`/`stop`), so a slow or failing webhook never
    holds back the event log or another webhook; or synchronously with `drain`. Refused
    events are retried per `retry`; with `dead_letters`, a parking sink's event is parked
    there after `retry.max_attempts` and the sink goes on with the next one."""

    def __init__(
        self,
        outbox: Outbox,
        sinks: Sequence[Sink],
        poll_seconds: float = 0.5,
        batch_size: int = 100,
        *,
        retry: RetryPolicy | None = None,
        dead_letters: DeadLetterStore | None = None,
        retain_events: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
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
        self._retry = retry or RetryPolicy()
        self._dead_letters = dead_letters
        self._monotonic = monotonic
        self._now = now
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
            if not (state.attempts and self._monotonic() < state.retry_at):
                self._attempt(state, until_stopped=True)
            state.wake.wait(self._next_wait(state))

    def _next_wait(self, state: _SinkState) -> float:
        if not state.attempts:
            return self._poll_seconds
        return max(0.0, min(self._poll_seconds, state.retry_at - self._monotonic()))

    def _attempt(self, state: _SinkState, *, until_stopped: bool) -> Exception | None:
        with state.lock:
            while True:
                try:
                    delivered = self._pump(state.sink, until_stopped=until_stopped)
                except _PassFailed as failure:
                    parked = self._after_failure(state, failure)
                    if failure.delivered or parked:
                        self._prune()
                    if parked and not (until_stopped and self._stopping.is_set()):
                        continue  # the sink moves on to the events after the parked one
                    return None if parked else failure.error
                if delivered:
                    self._prune()
                if state.attempts:
                    logger.info("event delivery to %s recovered", state.sink.name)
                state.recovered()
                return None

    def _after_failure(self, state: _SinkState, failure: _PassFailed) -> bool:
        """Counts the attempt against the refused event; parks it (True) or schedules the
        retry (False)."""
        event_id = failure.record.event.id if failure.record else None
        if state.attempts and event_id == state.failing_event:
            state.attempts += 1
        else:
            state.failing_event, state.attempts = event_id, 1
        if (
            failure.record is not None
            and self._dead_letters is not None
            and state.sink.parks_undeliverable
            and self._retry.exhausted(state.attempts)
        ):
            try:
                self._park(state, failure.record, str(failure.error))
            except Exception:  # the database is busy or broken: keep the event, retry later
                logger.exception("could not park event %s of %s", event_id, state.sink.name)
            else:
                return True
        delay = self._retry.delay(state.attempts)
        state.retry_at = self._monotonic() + delay
        logger.warning(
            "event delivery to %s failed (event %s, attempt %d), retrying in %.1fs: %s",
            state.sink.name,
            event_id,
            state.attempts,
            delay,
            failure.error,
        )
        return False

    def _park(self, state: _SinkState, record: OutboxRecord, error: str) -> None:
        assert self._dead_letters is not None
        # Parked before the offset moves: a crash in between retries the event (and parks or
        # delivers it again), never loses it.
        self._dead_letters.park(state.sink.name, record, state.attempts, error, self._now())
        self._outbox.save_offset(state.sink.name, record.seq)
        logger.error(
            "event %s parked for %s after %d attempts (catalog events redrive): %s",
            record.event.id,
            state.sink.name,
            state.attempts,
            error,
        )
        state.recovered()

    def _pump(self, sink: Sink, *, until_stopped: bool) -> int:
        """Deliver what the sink has not had yet; returns how many events it took. Raises
        _PassFailed naming the event the sink refused (none when the outbox failed)."""
        delivered = 0
        while not (until_stopped and self._stopping.is_set()):
            try:
                records = self._outbox.read_after(self._outbox.offset(sink.name), self._batch_size)
                if not records:
                    return delivered
                refused = self._deliver(sink, records)
            except Exception as error:  # reading the outbox or saving the offset
                raise _PassFailed(None, delivered, error) from error
            if refused is not None:
                accepted, reason = refused
                raise _PassFailed(records[accepted], delivered + accepted, reason) from reason
            delivered += len(records)
            if len(records) < self._batch_size:
                return delivered
        return delivered

    def _deliver(self, sink: Sink, records: Sequence[OutboxRecord]) -> tuple[int, Exception] | None:
        """Hand the batch to the sink and save its offset past what it took; returns how
        many it took before refusing one, and why, or None when it took them all."""
        try:
            sink.deliver(records)
        except Exception as error:  # any failure of a sink: that event is retried later
            accepted = error.delivered if isinstance(error, DeliveryFailed) else 0
            if accepted > 0:
                self._outbox.save_offset(sink.name, records[accepted - 1].seq)
            return accepted, error
        self._outbox.save_offset(sink.name, records[-1].seq)
        return None

    def _prune(self) -> None:
        floor = min(self._outbox.offset(state.sink.name) for state in self._states)
        up_to = floor - self._retain
        with self._prune_lock:
            if up_to > self._pruned_up_to:
                self._outbox.prune(up_to)
                self._pruned_up_to = up_to


def backoff_delay(failures: int, *, first: float, cap: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row: doubling, up to `cap`."""
    return backoff_ceiling(failures, first, cap)


class RedriveOutcome(Struct, frozen=True):
    delivered: list[DeadLetter]
    failed: list[tuple[DeadLetter, str]]  # and why each still fails


def redrive_dead_letters(
    dead_letters: DeadLetterStore,
    sink_for: Callable[[str], Sink | None],
    *,
    sink: str | None = None,
    event_id: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RedriveOutcome:
    """Deliver parked events again (those of `sink` and/or `event_id` when given), one attempt
    each, through the sink `sink_for(name)` builds. A delivered event leaves the table; one
    still refused stays, its attempts and error updated. Running it again resends only what is
    still parked, and receivers deduplicate on the event id anyway."""
    delivered: list[DeadLetter] = []
    failed: list[tuple[DeadLetter, str]] = []
    for letter in dead_letters.parked(sink=sink, event_id=event_id):
        target = sink_for(letter.sink)
        if target is None:
            failed.append((letter, f"no sink {letter.sink} to deliver to"))
            continue
        try:
            target.deliver([letter.record])
        except Exception as error:
            reason = str(error)
            dead_letters.park(letter.sink, letter.record, letter.attempts + 1, reason, now())
            failed.append((letter, reason))
        else:
            dead_letters.remove(letter.sink, letter.event_id)
            delivered.append(letter)
    return RedriveOutcome(delivered, failed)


class WebhookSink:
    """POSTs each event, one CloudEvent per request (structured mode, `application/
    cloudevents+json`), signed per the Standard Webhooks spec: `webhook-id` is the event id,
    the same on every retry, so receivers deduplicate on it.

    Any 2xx response means delivered; anything else (a redirect too: it is not followed), no
    response, or a target the client's transport refuses (webhook_targets), is retried later
    by the relay. `secret` is either a Standard Webhooks secret string (`whsec_<base64>`) or
    the raw key bytes. The httpx client is injected: its owner sets timeouts and closes it,
    and makes it check targets (webhook_targets.webhook_client, as bootstrap does).
    An event refused `max_attempts` times is parked (OutboxRelay, dead letters).
    """

    parks_undeliverable = True
    name_prefix = "webhook:"

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
        self.name = name or self.name_prefix + url
        self._signer = Webhook(secret)
        self._client = client
        self._now = now

    def deliver(self, records: Sequence[OutboxRecord]) -> None:
        for index, record in enumerate(records):
            try:
                self._post(record)
            # A refused target (webhook_targets) is an attempt that failed before sending.
            except (httpx.HTTPError, WebhookRejected, WebhookTargetRefused) as error:
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
