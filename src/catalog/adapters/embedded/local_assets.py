"""AssetStore on a local folder, for the embedded deployment.

Objects are plain files under `root`, at their key. Their content type is derived from the
key's extension (the catalog names every image `<id>.<ext>` after its sniffed type), so
there is no side file to keep in sync. The folder is private: the API serves an object
only through a signed, expiring URL, the local twin of an S3 presigned GET.

Direct uploads and the marks of used tickets are dated by the store's clock (their mtime),
so remove_expired, run by the upload sweeper, needs no index of what was staged when.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

# The errors and policy of the SignedAssetFiles port, raised and returned here.
from catalog.service.ports import AssetUnavailable, UploadPolicy, UploadRefused

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    # Job files (exports, bulk action outcomes) are served by the same signed GET /assets.
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"

MAX_KEY_LENGTH = 512
# Segments of letters, digits, '.', '_' and '-', never starting with '.': no '..', no
# hidden files (temporary files of unfinished writes start with '.'), no absolute path.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")

_DAY = 24 * 3600
# Next to a staged object, the mark that its ticket was used up (service/uploads.py staging
# keys never contain a dot, so a mark can never be a ticket's key).
_CLOSED_SUFFIX = ".closed"
_URL_CACHE_SIZE = 10_000
_CHUNK_BYTES = 1024 * 1024


_TICKET_USED = "the upload ticket was already used: its upload was confirmed or rejected"


def content_type_for(key: str) -> str:
    _, dot, extension = key.rpartition(".")
    return (
        CONTENT_TYPES.get(extension.lower(), DEFAULT_CONTENT_TYPE) if dot else DEFAULT_CONTENT_TYPE
    )


def is_valid_key(key: str) -> bool:
    return len(key) <= MAX_KEY_LENGTH and ".." not in key and _KEY.fullmatch(key) is not None


class LocalAssetStore:
    """Implements AssetStore, DirectUploads and SignedAssetFiles (GET and POST /assets)."""

    def __init__(
        self,
        root: Path,
        base_url: str,
        key: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._root = root
        self._base_url = base_url.rstrip("/")
        self._key = key
        self._clock = clock
        self._url_cache: dict[tuple[str, int], str] = {}
        # Its own key: an upload policy can never pass for a GET signature or the reverse.
        self._policy_key = hmac.new(key, b"direct-upload-policy", hashlib.sha256).digest()

    # -- AssetStore port ------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        if content_type != content_type_for(key):
            # The type served later comes from the extension; refuse to store an object
            # that would be served as something other than what the caller declared.
            raise ValueError(f"key {key!r} does not name a {content_type} object")
        _write_atomically(path, data)

    def delete(self, key: str) -> None:
        # Idempotent. Empty folders are left behind on purpose: removing them would race
        # with a concurrent put into the same product folder.
        self._path(key).unlink(missing_ok=True)

    def url_for(self, key: str) -> str:
        """A signed URL, computed without touching the disk. The expiry is the end of the
        next UTC day, so the URL of an image stays the same all day long (cacheable
        responses, stable ETags) and is always valid for at least 24 hours."""
        if not is_valid_key(key):
            raise ValueError(f"invalid asset key {key!r}")
        expires = (int(self._clock()) // _DAY + 2) * _DAY
        return self._signed_url(key, expires)

    # -- DirectUploads port ---------------------------------------------------------------

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """The local twin of an S3 presigned POST: the form fields carry the policy and its
        signature, and POST /assets (routers/assets.py) stores the file if they hold."""
        if not is_valid_key(key):
            raise ValueError(f"invalid asset key {key!r}")
        policy = {
            "key": key,
            "content_type": content_type,
            "max_bytes": max_bytes,
            "expires": int(self._clock()) + expires_in,
        }
        encoded = base64.urlsafe_b64encode(json.dumps(policy, sort_keys=True).encode()).decode()
        fields = {
            "key": key,
            "Content-Type": content_type,
            "policy": encoded,
            "signature": self._sign_policy(encoded),
        }
        return f"{self._base_url}/assets", fields

    def read(self, key: str, max_bytes: int) -> bytes | None:
        try:
            with self._path(key).open("rb") as handle:
                return handle.read(max_bytes + 1)
        except FileNotFoundError:
            return None

    def close_upload(self, key: str) -> None:
        # The mark first: an upload racing with the removal is refused or swept, never kept.
        mark = self._path(key + _CLOSED_SUFFIX)
        _write_atomically(mark, b"")
        self._stamp(mark)
        self._path(key).unlink(missing_ok=True)

    def upload_closed(self, key: str) -> bool:
        return self._path(key + _CLOSED_SUFFIX).is_file()

    def remove_expired(self, prefix: str, max_age_seconds: float) -> int:
        """Remove the staged uploads and marks under `prefix` written `max_age_seconds` or
        more ago (by this store's clock), and return how many. With a ticket's lifetime as
        the age, whatever goes was written before its ticket expired, so no upload can come
        to it any more. Folders stay, as in delete."""
        cutoff = self._clock() - max_age_seconds
        removed = 0
        for path in self._path(prefix).rglob("*"):
            # Dot files are writes in progress (_write_atomically).
            if path.name.startswith("."):
                continue
            try:
                if path.is_file() and path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # removed meanwhile (a confirmation, or another sweep)
        return removed

    # -- receiving direct uploads ---------------------------------------------------------

    def verify_upload(self, fields: Mapping[str, str]) -> UploadPolicy:
        """The policy of a form upload's fields, checked before its file is read; raises
        UploadRefused. Like S3, every field the policy fixes must be sent unchanged."""
        encoded = fields.get("policy", "")
        signature = fields.get("signature", "")
        expected = self._sign_policy(encoded)
        if not (encoded and hmac.compare_digest(signature.encode(), expected.encode())):
            raise UploadRefused(403, "the upload policy or its signature is invalid")
        try:
            raw = json.loads(base64.urlsafe_b64decode(encoded.encode()))
            policy = UploadPolicy(
                key=str(raw["key"]),
                content_type=str(raw["content_type"]),
                max_bytes=int(raw["max_bytes"]),
                expires=int(raw["expires"]),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            # Signed by us, so unreachable unless the signing key leaked; refuse all the same.
            raise UploadRefused(403, "the upload policy is invalid") from None
        if self.seconds_left(policy.expires) <= 0:
            raise UploadRefused(403, "the upload ticket has expired")
        if fields.get("key") != policy.key or fields.get("Content-Type") != policy.content_type:
            raise UploadRefused(403, "the key and Content-Type fields must be the ticket's")
        if not is_valid_key(policy.key):
            raise UploadRefused(403, "the upload policy is invalid")
        if self.upload_closed(policy.key):
            raise UploadRefused(403, _TICKET_USED)
        return policy

    def store_upload(self, policy: UploadPolicy, data: bytes | IO[bytes]) -> None:
        """Store the file of an upload whose policy passed verify_upload, read in chunks (an
        import file may be a gigabyte); raises UploadRefused when its size is outside the
        policy's range, and then keeps nothing."""
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        path = self._path(policy.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                size = 0
                while chunk := stream.read(_CHUNK_BYTES):
                    size += len(chunk)
                    if size > policy.max_bytes:
                        raise UploadRefused(
                            413, f"the ticket allows at most {policy.max_bytes} bytes"
                        )
                    handle.write(chunk)
                if size == 0:
                    raise UploadRefused(400, "the file is empty")
                handle.flush()
                os.fsync(handle.fileno())
            # Checked again after reading the file: the upload may have been closed meanwhile.
            if self.upload_closed(policy.key):
                raise UploadRefused(403, _TICKET_USED)
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self._stamp(path)

    # -- serving --------------------------------------------------------------------------

    def open(self, key: str, expires: int, signature: str) -> tuple[Path, str]:
        """The file and content type behind a URL from url_for; raises AssetUnavailable."""
        if not is_valid_key(key):
            raise AssetUnavailable(key)
        # The signature is checked before the disk is touched: without it, nobody learns
        # whether a key exists.
        if not hmac.compare_digest(signature.encode(), self._sign(key, expires).encode()):
            raise AssetUnavailable(key)
        if self.seconds_left(expires) <= 0:
            raise AssetUnavailable(key)
        path = self._root / key
        if not path.is_file():
            raise AssetUnavailable(key)
        return path, content_type_for(key)

    def seconds_left(self, expires: int) -> int:
        """How long a URL expiring at `expires` stays valid: the bound of any cache max-age."""
        return max(0, expires - int(self._clock()))

    # -- internals ------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        if not is_valid_key(key):
            raise ValueError(f"invalid asset key {key!r}")
        return self._root / key

    def _stamp(self, path: Path) -> None:
        """Date a staged file by this store's clock, the one remove_expired reads."""
        now = self._clock()
        os.utime(path, (now, now))

    def _signed_url(self, key: str, expires: int) -> str:
        # A URL is the same all day (see url_for), so the HMAC is worth remembering: GET and
        # list sign every image of every product they return.
        url = self._url_cache.get((key, expires))
        if url is None:
            signature = self._sign(key, expires)
            url = f"{self._base_url}/assets/{key}?expires={expires}&signature={signature}"
            if len(self._url_cache) >= _URL_CACHE_SIZE:
                self._url_cache.clear()
            self._url_cache[(key, expires)] = url
        return url

    def _sign(self, key: str, expires: int) -> str:
        digest = hmac.new(self._key, f"{key}:{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _sign_policy(self, encoded_policy: str) -> str:
        digest = hmac.new(self._policy_key, encoded_policy.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Temp file in the same folder + os.replace: readers see the old object or the whole new
    # one, never a partial write, even if the process dies midway.
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
