"""AssetStore (and DirectUploads) on a private S3 bucket.

Image URLs are computed, never fetched (DESIGN.md section 7: zero object-storage calls to
read a product): the CDN base URL plus the key when a CDN fronts the bucket, otherwise a
presigned GET, which botocore computes locally from the credentials.

Presigned URLs are remembered per time window. botocore signs with the current time and has
no public way to sign for another instant, so two containers produce different URLs for the
same object; within one container, though, every URL of a window is the same (cacheable by
browsers, and signing 2,000 image URLs of a full page costs one dictionary lookup each). A
URL handed out during window [W, W + ttl) expires at W + 2 * ttl, so whoever receives it has
at least `url_ttl_seconds` to use it. With temporary credentials (a Lambda role) a URL also
stops working when the session that signed it expires, which S3 enforces whatever the expiry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# SigV4 presigned URLs live at most 7 days; a window's URLs must live two windows.
MAX_URL_TTL_SECONDS = 7 * 24 * 3600 // 2
_URL_CACHE_SIZE = 10_000
_MISSING = ("NoSuchKey", "404", "NotFound")
# Next to a staged object, the mark that its ticket was used up. Under the same prefix, so the
# bucket's lifecycle rule for abandoned uploads expires it too, long after the ticket.
_CLOSED_SUFFIX = ".closed"


class S3AssetStore:
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        base_url: str | None = None,
        url_ttl_seconds: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 60 <= url_ttl_seconds <= MAX_URL_TTL_SECONDS:
            raise ValueError(f"url_ttl_seconds must be between 60 and {MAX_URL_TTL_SECONDS}")
        self._client = client
        self._bucket = bucket
        self._base_url = base_url.rstrip("/") if base_url else None
        self._ttl = url_ttl_seconds
        self._clock = clock
        self._url_cache: dict[tuple[str, int], str] = {}

    # -- AssetStore port ------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            # Bytes never change under a key (every image gets a new id): let caches keep them.
            CacheControl="max-age=31536000, immutable",
        )

    def delete(self, key: str) -> None:
        # Idempotent on S3: deleting a missing key succeeds.
        self._client.delete_object(Bucket=self._bucket, Key=key)

    def url_for(self, key: str) -> str:
        if self._base_url is not None:
            return f"{self._base_url}/{quote(key)}"
        now = int(self._clock())
        window = now // self._ttl
        url = self._url_cache.get((key, window))
        if url is None:
            # botocore signs locally: no request is sent.
            url = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": key},
                ExpiresIn=(window + 2) * self._ttl - now,
            )
            # Unless the client is configured for SigV4, botocore presigns with the deprecated
            # SigV2, which regions opened since 2014 refuse. Checked on the URL itself rather
            # than at construction, which would build the client on every cold start.
            if "X-Amz-Signature=" not in url:
                raise ValueError("build the S3 client with Config(signature_version='s3v4')")
            if len(self._url_cache) >= _URL_CACHE_SIZE:
                self._url_cache.clear()
            self._url_cache[(key, window)] = url
        return url

    # -- DirectUploads port ---------------------------------------------------------------

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """A presigned POST (computed locally) that S3 accepts only for this key, exactly
        this Content-Type and 1..max_bytes bytes."""
        post = self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_in,
        )
        return post["url"], {name: str(value) for name, value in post["fields"].items()}

    def read(self, key: str, max_bytes: int) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        body = response["Body"]
        try:
            # Never more than one byte past the limit, however large the object is.
            return body.read(max_bytes + 1)
        finally:
            body.close()

    def close_upload(self, key: str) -> None:
        # A presigned POST cannot be revoked: until it expires, a client can upload again,
        # and only this mark tells the catalog never to confirm that object.
        self._client.put_object(Bucket=self._bucket, Key=key + _CLOSED_SUFFIX, Body=b"")
        self._client.delete_object(Bucket=self._bucket, Key=key)

    def upload_closed(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=key + _CLOSED_SUFFIX)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True
