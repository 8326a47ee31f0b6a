"""Client settings: where the API is, the key, timeouts and the retry policy, with their named defaults."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx

from ._exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

ENV_API_URL = "WAITPOINTS_API_URL"
ENV_SECRET_KEY = "WAITPOINTS_SECRET_KEY"

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""Per request: 5 s to connect, 30 s for each of read, write and pool."""
DEFAULT_MAX_RETRIES = 3
DEFAULT_POLL_INTERVAL = 5.0
"""``for_token`` polls with backoff from a quarter second up to this many seconds between reads."""

TimeoutTypes = float | httpx.Timeout | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Only 429, 5xx and network errors (no response, or a timeout) are retried; every other status is
    final. The wait before retry ``n`` (0-based) is ``initial_delay * 2**n``, capped at ``max_delay``,
    less up to a quarter of random jitter. A ``Retry-After`` header (seconds or an HTTP date), or
    Trigger.dev's ``x-ratelimit-reset`` (epoch milliseconds), replaces that wait when it is at most
    ``max_retry_after`` seconds.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry: int) -> float:
        delay: float = min(self.max_delay, self.initial_delay * 2.0**retry)
        return delay * (1 - 0.25 * random.random())

    def delay(self, retry: int, headers: Mapping[str, str] | None, now: float) -> float:
        """Seconds to wait before retry number ``retry`` (0-based), given the failed response's headers."""
        hinted = server_hint(headers, now) if headers is not None else None
        if hinted is not None and 0 <= hinted <= self.max_retry_after:
            return hinted
        return self.backoff(retry)


def server_hint(headers: Mapping[str, str], now: float) -> float | None:
    """The wait the server asks for: ``Retry-After`` (seconds or HTTP date) or ``x-ratelimit-reset`` (epoch ms)."""
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
        except (TypeError, ValueError, IndexError):
            pass
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) / 1000 - now)
        except ValueError:
            pass
    return None


def resolve_api_url(api_url: str | None) -> str:
    url = api_url or os.environ.get(ENV_API_URL)
    if not url:
        raise ConfigurationError(
            f"No API URL: pass api_url=... or set {ENV_API_URL} (the local stack's is in .waitpoints/local.env)"
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"The API URL must start with http:// or https://, got {url!r}")
    return url.rstrip("/")


def resolve_secret_key(secret_key: str | None) -> str:
    key = secret_key or os.environ.get(ENV_SECRET_KEY)
    if not key:
        raise ConfigurationError(f"No secret key: pass secret_key=... or set {ENV_SECRET_KEY}")
    return key
