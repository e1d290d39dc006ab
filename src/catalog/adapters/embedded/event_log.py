"""The embedded deployment's event log: `<data-dir>/events.jsonl`, one CloudEvent JSON per line.

`EventLogSink` appends what the relay delivers and keeps every event in the log exactly once,
even across crashes; `follow_event_log` reads it back for `catalog events [--follow]`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from catalog.adapters.cloudevents import to_cloudevent
from catalog.service.ports import OutboxRecord

EVENT_LOG_FILE = "events.jsonl"
_READ_BLOCK = 64 * 1024

logger = logging.getLogger(__name__)


class EventLogSink:
    """Appends each delivered event to a JSON-lines file, durably, exactly once.

    The relay saves the sink's outbox offset only after `deliver` returns, so a crash in
    between leaves events in the log that the next run is handed again. To keep them out,
    the sink remembers the ids of the last `recall` lines of the log (read when it opens,
    then kept up to date) and skips records already there. `recall` must be at least the
    relay's batch size, the most a crash can leave appended but unacknowledged. A line torn
    by a crash mid-write is dropped when the sink opens: its event was never acknowledged,
    so it is delivered again in full.
    """

    name = "event-log"
    # The log is the full record of events: an event is retried for as long as it takes.
    parks_undeliverable = False

    def __init__(self, path: Path, *, recall: int = 1000) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._recent: deque[str] = deque(maxlen=recall)
        self._recent_ids: set[str] = set()
        self._open()

    def deliver(self, records: Sequence[OutboxRecord]) -> None:
        with self._lock:
            fresh = [record for record in records if record.event.id not in self._recent_ids]
            if not fresh:
                return
            payload = b"".join(_line(record) for record in fresh)
            created = not self.path.exists()
            _append_durably(self.path, payload)
            if created:
                _fsync_directory(self.path.parent)
            for record in fresh:
                self._remember(record.event.id)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            return
        with open(self.path, "r+b") as handle:
            _drop_torn_line(handle, self.path)
            for raw in _tail_lines(handle, self._recent.maxlen or 0):
                try:
                    event_id = json.loads(raw)["id"]
                except (ValueError, KeyError, TypeError):
                    continue  # not one of our lines: nothing to deduplicate against
                self._remember(event_id)

    def _remember(self, event_id: str) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_ids.discard(self._recent[0])
        self._recent.append(event_id)
        self._recent_ids.add(event_id)


def follow_event_log(
    path: Path,
    follow: bool = False,
    *,
    poll_seconds: float = 0.25,
    stop: threading.Event | None = None,
) -> Iterator[str]:
    """The log's complete lines (without the newline), oldest first.

    With `follow`, keeps polling for new lines like `tail -f` until `stop` is set (or the
    consumer stops iterating); a missing file is waited for. A line still being written is
    only yielded once its newline is there.
    """
    position = 0  # just past the last complete line yielded
    stop = stop or threading.Event()
    while True:
        try:
            with open(path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size < position:
                    position = 0  # the file was replaced: start over with the new one
                handle.seek(position)
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break
                    position += len(raw)
                    line = raw.rstrip(b"\n").decode("utf-8")
                    if line:
                        yield line
        except FileNotFoundError:
            pass
        if not follow or stop.wait(poll_seconds):
            return


def _line(record: OutboxRecord) -> bytes:
    envelope = to_cloudevent(record.event)
    # json.dumps escapes control characters, so a line never holds a raw newline.
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _append_durably(path: Path, payload: bytes) -> None:
    """Append all of `payload` and fsync, or leave the file as it was and raise."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            # A half-written batch would be a torn line in the middle of the log once the
            # retry appends after it.
            os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    # Makes the new file's directory entry durable too (POSIX); not supported everywhere.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _drop_torn_line(handle: BinaryIO, path: Path) -> None:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return
    handle.seek(size - 1)
    if handle.read(1) == b"\n":
        return
    keep = 0
    position = size
    while position > 0:
        step = min(_READ_BLOCK, position)
        position -= step
        handle.seek(position)
        block = handle.read(step)
        newline = block.rfind(b"\n")
        if newline >= 0:
            keep = position + newline + 1
            break
    logger.warning("dropping a torn last line (%d bytes) from %s", size - keep, path)
    handle.truncate(keep)
    handle.flush()
    os.fsync(handle.fileno())


def _tail_lines(handle: BinaryIO, count: int) -> list[bytes]:
    """The last `count` non-empty lines, read backwards so a long log costs no more."""
    if count <= 0:
        return []
    position = handle.seek(0, os.SEEK_END)
    buffer = b""
    while position > 0 and buffer.count(b"\n") <= count:
        step = min(_READ_BLOCK, position)
        position -= step
        handle.seek(position)
        buffer = handle.read(step) + buffer
    lines = buffer.split(b"\n")
    if position > 0:
        lines = lines[1:]  # starts mid-line
    return [line for line in lines if line][-count:]
