"""A webhook receiver on 127.0.0.1 (a real HTTP server in a thread) that can refuse requests."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FlakyReceiver:
    """Answers `status(request_number, cloudevent)` to each POST (numbers start at 1) and
    records which events it accepted (2xx) and how often each was offered."""

    def __init__(self, status: Callable[[int, dict[str, object]], int]) -> None:
        self._status = status
        self._lock = threading.Condition()
        self.requests = 0
        self.accepted: list[str] = []
        self.offered: Counter[str] = Counter()
        self.url = ""

    def answer(self, body: bytes) -> int:
        cloudevent = json.loads(body)
        with self._lock:
            self.requests += 1
            self.offered[cloudevent["id"]] += 1
            status = self._status(self.requests, cloudevent)
            if 200 <= status < 300:
                self.accepted.append(cloudevent["id"])
                self._lock.notify_all()
            return status

    def wait_for(self, accepted: int, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self.accepted) >= accepted, timeout)


def refuse_one_in(n: int) -> Callable[[int, dict[str, object]], int]:
    """Every n-th request is answered 500, whatever event it carries."""
    return lambda number, cloudevent: 500 if number % n == 0 else 204


@contextmanager
def serving(receiver: FlakyReceiver) -> Iterator[FlakyReceiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            self.send_response(receiver.answer(body))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet test output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
