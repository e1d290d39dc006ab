"""An in-memory AssetStore for tests and the reference behaviour of object storage."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from urllib.parse import quote

from msgspec import Struct


class StoredAsset(Struct, frozen=True):
    data: bytes
    content_type: str


class UploadPolicy(Struct, frozen=True):
    """What one direct-upload ticket allows: one key, one content type, 1..max_bytes bytes."""

    key: str
    content_type: str
    max_bytes: int


class MemoryAssetStore:
    def __init__(self, base_url: str = "http://assets.invalid") -> None:
        self._base_url = base_url.rstrip("/")
        self._lock = threading.Lock()
        self._objects: dict[str, StoredAsset] = {}
        self._policies: dict[str, UploadPolicy] = {}
        self._closed: set[str] = set()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self._objects[key] = StoredAsset(bytes(data), content_type)

    def delete(self, key: str) -> None:
        # Deleting a missing object succeeds, as on S3: callers may retry a removal.
        with self._lock:
            self._objects.pop(key, None)

    def url_for(self, key: str) -> str:
        return f"{self._base_url}/{quote(key)}"

    # DirectUploads port. Tickets never expire here: there is no clock to expire them by.

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._policies[token] = UploadPolicy(key, content_type, max_bytes)
        return f"{self._base_url}/uploads", {
            "key": key,
            "Content-Type": content_type,
            "policy": token,
        }

    def read(self, key: str, max_bytes: int) -> bytes | None:
        asset = self.get(key)
        return None if asset is None else asset.data[: max_bytes + 1]

    def close_upload(self, key: str) -> None:
        with self._lock:
            self._closed.add(key)
            self._objects.pop(key, None)

    def upload_closed(self, key: str) -> bool:
        with self._lock:
            return key in self._closed

    # For tests: what a client's form POST to a ticket's URL does.

    def receive_upload(self, url: str, fields: Mapping[str, str], data: bytes) -> bool:
        """Store `data` as object storage would for a form upload of `fields` to `url`;
        False (nothing stored) when the ticket does not allow it."""
        with self._lock:
            policy = self._policies.get(fields.get("policy", ""))
            allowed = (
                policy is not None
                and url == f"{self._base_url}/uploads"
                and fields.get("key") == policy.key
                and fields.get("Content-Type") == policy.content_type
                and 1 <= len(data) <= policy.max_bytes
                and policy.key not in self._closed
            )
            if allowed:
                assert policy is not None
                self._objects[policy.key] = StoredAsset(bytes(data), policy.content_type)
            return allowed

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
