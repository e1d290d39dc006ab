"""JobFiles on a local folder (the embedded deployment) and in memory (tests).

A file is written under a temporary name and renamed into place, so a crash mid-write never
leaves a job a file it would read half of.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO

_CHUNK = 1024 * 1024


class LocalJobFiles:
    """Job files under `root`, served by `signed_url(relative key)` (the asset store's signed
    GET /assets URLs, when root is a folder of that store under `url_prefix`)."""

    def __init__(
        self,
        root: Path,
        signed_url: Callable[[str], str],
        url_prefix: str = "jobs",
        presign_upload: Callable[[str, str, int, int], tuple[str, dict[str, str]]] | None = None,
    ) -> None:
        self._root = Path(root)
        self._signed_url = signed_url
        self._url_prefix = url_prefix
        self._presign_upload = presign_upload

    def save(self, key: str, stream: IO[bytes]) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            shutil.copyfileobj(stream, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
            size = out.tell()
        partial.replace(path)
        return size

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def write(self, key: str, offset: int, data: bytes) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("r+b" if path.exists() else "wb") as out:
            out.truncate(offset)
            out.seek(offset)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
            return out.tell()

    def download_url(self, key: str) -> str:
        return self._signed_url(f"{self._url_prefix}/{key}")

    def upload_ticket(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        # The asset store's POST /assets receives it, into this folder of its own.
        if self._presign_upload is None:
            raise RuntimeError("these job files take no direct uploads")
        return self._presign_upload(
            f"{self._url_prefix}/{key}", content_type, max_bytes, expires_in
        )

    def _path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"not a job file key: {key!r}")
        return self._root.joinpath(*relative.parts)


class MemoryJobFiles:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}
        self._tickets: dict[str, tuple[str, int]] = {}

    def save(self, key: str, stream: IO[bytes]) -> int:
        data = stream.read()
        with self._lock:
            self._files[key] = data
        return len(data)

    def open(self, key: str) -> IO[bytes]:
        with self._lock:
            data = self._files.get(key)
        if data is None:
            raise FileNotFoundError(key)
        return io.BytesIO(data)

    def write(self, key: str, offset: int, data: bytes) -> int:
        with self._lock:
            content = self._files.get(key, b"")[:offset] + data
            self._files[key] = content
        return len(content)

    def download_url(self, key: str) -> str:
        return f"https://files.example.test/{key}"

    def upload_ticket(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._tickets[token] = (key, max_bytes)
        return "https://files.example.test/uploads", {"token": token, "Content-Type": content_type}

    def receive(self, fields: dict[str, str], data: bytes) -> bool:
        """What the storage does with a form POST of a ticket's `fields` (tests): stores the
        file when the ticket allows it."""
        with self._lock:
            ticket = self._tickets.get(fields.get("token", ""))
            if ticket is None or len(data) > ticket[1]:
                return False
            self._files[ticket[0]] = data
        return True
