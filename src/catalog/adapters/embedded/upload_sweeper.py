"""Removes direct uploads that were never confirmed, once their ticket has expired.

On S3 a bucket lifecycle rule does this (template.yaml, aws/provisioning.py); the embedded
server has no such rule, so a background worker of its container sweeps the staging folder
of the local asset store every `interval_seconds`.
"""

from __future__ import annotations

import logging
import threading

from catalog.adapters.embedded.local_assets import LocalAssetStore

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60.0


class UploadSweeper:
    """Every `interval_seconds`, removes what the store holds under `prefix` that was written
    `max_age_seconds` or more ago (a ticket's lifetime: its ticket has expired)."""

    def __init__(
        self,
        assets: LocalAssetStore,
        prefix: str,
        max_age_seconds: float,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    ) -> None:
        self._assets = assets
        self._prefix = prefix
        self._max_age = max_age_seconds
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> int:
        """One pass; how many objects it removed."""
        return self._assets.remove_expired(self._prefix, self._max_age)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the upload sweeper is already running")
        self._stopping.clear()
        # A daemon: a sweep of a huge folder must not keep the process alive past stop().
        self._thread = threading.Thread(target=self._run, name="upload-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        # A pass first, then one per interval: uploads left by a previous run of the server
        # go as soon as it starts again.
        while True:
            try:
                self.sweep()
            except OSError:
                # A full or unreadable disk now says nothing about the next pass.
                logger.exception("sweeping expired uploads failed; retrying next interval")
            if self._stopping.wait(self._interval):
                return
