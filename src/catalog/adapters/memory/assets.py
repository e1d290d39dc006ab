"""An in-memory AssetStore for tests and the reference behaviour of object storage."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class StoredAsset:
    data: bytes
    content_type: str


class MemoryAssetStore:
    def __init__(self, base_url: str = "http://assets.invalid") -> None:
        self._base_url = base_url.rstrip("/")
        self._lock = threading.Lock()
        self._objects: dict[str, StoredAsset] = {}

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self._objects[key] = StoredAsset(bytes(data), content_type)

    def delete(self, key: str) -> None:
        # Deleting a missing object succeeds, as on S3: callers may retry a removal.
        with self._lock:
            self._objects.pop(key, None)

    def url_for(self, key: str) -> str:
        return f"{self._base_url}/{quote(key)}"

    # For tests: what object storage holds.

    def get(self, key: str) -> StoredAsset | None:
        with self._lock:
            return self._objects.get(key)

    def get_by_url(self, url: str) -> StoredAsset | None:
        prefix = self._base_url + "/"
        if not url.startswith(prefix):
            return None
        with self._lock:
            for key, asset in self._objects.items():
                if self.url_for(key) == url:
                    return asset
        return None

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._objects)
