"""The embedded deployment's root secret, created in the data folder on first start.

Every other key (JWT signing, cursors, asset URLs, webhooks) is derived from it, so one file
is all there is to keep safe or to rotate. It is created readable by its owner only (0600),
and refused when group or others may read or write it: whoever can read it can mint tokens of
any role for any merchant.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "secret.key"

# Permission bits of group and others: any of them set and the file is exposed (as OpenSSH
# judges private keys).
EXPOSING_BITS = 0o077


class SecretFileExposed(Exception):
    """The secret file grants access beyond its owner."""

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__(
            f"{path} is readable or writable by group or others (mode {mode:04o}): anyone who "
            f"can read it can mint tokens. Fix it with `chmod 600 {path}`; if others may have "
            "read it, also replace it: delete it and restart (the tokens, cursors, image URLs "
            "and webhook secret derived from it then change)"
        )
        self.path = path
        self.mode = mode


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
    refuse_exposed(path)
    return bytes.fromhex(path.read_text().strip())


def refuse_exposed(path: Path) -> None:
    """Raises SecretFileExposed when group or others have any permission on the file."""
    if os.name != "posix":  # no such permission bits to judge (Windows ACLs)
        return
    mode = os.stat(path).st_mode & 0o7777
    if mode & EXPOSING_BITS:
        raise SecretFileExposed(path, mode)


def derive_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"catalog/{purpose}".encode(), hashlib.sha256).digest()
