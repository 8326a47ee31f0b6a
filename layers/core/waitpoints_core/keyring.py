"""The signing keys, cached in the container.

Keys are re-read after `max_age` seconds. A callback hash that matches no cached key triggers one early
re-read (at most every `min_refresh` seconds), so a key rotated in elsewhere is picked up at once while
forged hashes cannot make every request call Secrets Manager.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from .signing import SigningKeys


class KeyRing:
    def __init__(self, load: Callable[[], SigningKeys], max_age: float = 300.0, min_refresh: float = 10.0) -> None:
        self._load = load
        self._max_age = max_age
        self._min_refresh = min_refresh
        self._lock = threading.Lock()
        self._keys: SigningKeys | None = None
        self._loaded_at = 0.0

    def get(self) -> SigningKeys:
        if self._keys is None or time.monotonic() - self._loaded_at > self._max_age:
            return self._reload()
        return self._keys

    def refresh_for_miss(self) -> SigningKeys | None:
        """Re-read the keys after a failed verification, unless they were read very recently."""
        if time.monotonic() - self._loaded_at < self._min_refresh:
            return None
        return self._reload()

    def _reload(self) -> SigningKeys:
        with self._lock:
            keys = self._load()
            self._keys, self._loaded_at = keys, time.monotonic()
            return keys
