"""Opaque page cursors: HMAC-signed and bound to the merchant and the query's filters.

A cursor replayed against another merchant or another filter set, or altered in any byte,
fails verification and is rejected as InvalidCursor (400), never silently ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

from catalog.domain.errors import InvalidCursor

_SIG_BYTES = 16


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"catalog/cursor/v1", hashlib.sha256).digest()

    def encode(self, merchant_id: str, scope: Mapping[str, object], position: str) -> str:
        payload = position.encode()
        signature = self._sign(merchant_id, scope, payload)
        return _b64(payload) + "." + _b64(signature)

    def decode(self, merchant_id: str, scope: Mapping[str, object], cursor: str) -> str:
        try:
            raw_payload, raw_signature = cursor.split(".")
            payload, signature = _unb64(raw_payload), _unb64(raw_signature)
            position = payload.decode()
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidCursor() from error
        if not hmac.compare_digest(signature, self._sign(merchant_id, scope, payload)):
            raise InvalidCursor()
        return position

    def _sign(self, merchant_id: str, scope: Mapping[str, object], payload: bytes) -> bytes:
        bound = json.dumps([merchant_id, dict(scope)], sort_keys=True, separators=(",", ":"))
        message = bound.encode() + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_SIG_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or len(text) > 2048:
        raise ValueError("bad cursor length")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
