"""The embedded deployment's root secret, created in the data folder on first start.

Every other key (JWT signing, cursors, asset URLs, webhooks) is derived from it, so one file
is all there is to keep safe or to rotate.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "secret.key"


def load_or_create_secret(data_dir: Path) -> bytes:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    if not path.exists():
        # O_EXCL: two processes starting together agree on the one that won.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def derive_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"catalog/{purpose}".encode(), hashlib.sha256).digest()
