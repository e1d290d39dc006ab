"""The embedded deployment's job worker: a thread of the server process that runs queued
jobs one after another, and on start resumes every job a previous run left unfinished."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

RunJob = Callable[[str, str, Callable[[], bool]], object]


class JobWorker:
    """A JobQueue and the BackgroundWorker that empties it. `run(merchant, job, stopping)`
    runs one job to its end, or returns early once `stopping()` is true."""

    def __init__(self, run: RunJob, unfinished: Callable[[], list[tuple[str, str]]]) -> None:
        self._run = run
        self._unfinished = unfinished
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(self, merchant_id: str, job_id: str) -> None:
        self._queue.put((merchant_id, job_id))

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the job worker is already running")
        self._stopping.clear()
        for merchant_id, job_id in self._unfinished():
            self._queue.put((merchant_id, job_id))
        self._thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current batch of rows: the job stays RUNNING and resumes on the next
        start."""
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def idle(self) -> bool:
        """No job waiting (a test's way to know the queue drained)."""
        return self._queue.unfinished_tasks == 0

    def _loop(self) -> None:
        while not self._stopping.is_set():
            item = self._queue.get()
            try:
                if item is None:
                    return
                merchant_id, job_id = item
                try:
                    self._run(merchant_id, job_id, self._stopping.is_set)
                except Exception:
                    # The job stays as it is (RUNNING, with its last committed rows): the next
                    # start resumes it. The worker goes on with the others.
                    logger.exception("job %s of %s stopped on an error", job_id, merchant_id)
            finally:
                self._queue.task_done()
