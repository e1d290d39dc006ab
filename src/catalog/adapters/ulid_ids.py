"""ULID identifiers: sortable by creation time, so listing by id lists in creation order."""

from __future__ import annotations

import threading

from ulid import ULID

_MAX_ULID = (1 << 128) - 1


class UlidIds:
    """IdGenerator producing strictly increasing ULIDs within this process.

    Plain ULIDs made in the same millisecond sort randomly; incrementing the last one instead
    keeps "newer id sorts later", which cursors and the product list rely on for a stable order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new_id(self) -> str:
        candidate = int(ULID())
        with self._lock:
            if candidate <= self._last:
                candidate = min(self._last + 1, _MAX_ULID)
            self._last = candidate
        return str(ULID.from_int(candidate))
