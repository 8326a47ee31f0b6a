"""Listing tokens: the filters, the signed page cursors, and the key range a page reads (the query-string
grammar that fills them in is the HTTP edge's: waitpoints_http.list_query).

Every list source (each index, each tag partition) is ordered by one value, the list sort key
`<createdAt as 13 digits>#<id>`. A time range and a cursor are therefore both bounds on that one key, and a
cursor is simply the sort key of the item at the edge of a page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput
from .models import TokenStatus

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
_MAX_CURSOR_CHARS = 512
_MAX_MS = 10**13 - 1  # 13 digits: the year 2286
_SORT_KEY = re.compile(r"\A\d{13}#waitpoint_[a-z0-9]{25}\Z")

# The names of the two cursor fields, as error messages call them.
_TRIGGER_STATUSES = frozenset({TokenStatus.WAITING, TokenStatus.COMPLETED, TokenStatus.TIMED_OUT})
AFTER = "page[after]"
BEFORE = "page[before]"


def list_sort_key(created_at: int, token_id: str) -> str:
    """The order of every listing: creation time, then id. Zero-padded so that text order is time order."""
    return f"{created_at:013d}#{token_id}"


@dataclass(frozen=True)
class ListFilters:
    """The `filter[...]` parameters, validated. Empty means "no filter" for each field."""

    statuses: frozenset[TokenStatus] = frozenset()
    tags: tuple[str, ...] = ()  # any-of
    idempotency_key: str | None = None
    created_from: int | None = None  # epoch ms, inclusive
    created_to: int | None = None  # epoch ms, inclusive
    period_ms: int | None = None  # created within this long before now

    @property
    def status_subset(self) -> frozenset[TokenStatus]:
        """The statuses to keep, or empty when every status is wanted (no status filter at all). Trigger.dev's three
        statuses together mean every token, rejected ones included (as in Trigger.dev, where a failed waitpoint
        matches COMPLETED only beside another status)."""
        return frozenset() if self.statuses >= _TRIGGER_STATUSES else self.statuses

    def window(self, now_ms: int) -> tuple[int | None, int | None]:
        """The creation-time bounds (inclusive) as of `now_ms`; a period and a `from` combine to the later."""
        low = self.created_from
        if self.period_ms is not None:
            low = max(low or 0, now_ms - self.period_ms)
        return low, self.created_to

    def digest(self, env: str) -> str:
        """Binds a cursor to the environment and the filters it was made for."""
        canonical = json.dumps(
            [
                env,
                sorted(s.value for s in self.statuses),
                sorted(self.tags),
                self.idempotency_key,
                self.created_from,
                self.created_to,
                self.period_ms,
            ],
            separators=(",", ":"),
        )
        return _b64(hashlib.sha256(canonical.encode()).digest()[:12])


@dataclass(frozen=True)
class ListQuery:
    filters: ListFilters = field(default_factory=ListFilters)
    size: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    before: str | None = None


# --- key ranges ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRange:
    """Inclusive bounds on the list sort key (None: open). Exclusive bounds are turned into inclusive ones,
    so that a time range and a cursor fit in one `BETWEEN` key condition and no read is spent on the boundary."""

    low: str | None = None
    high: str | None = None

    @classmethod
    def of(cls, window: tuple[int | None, int | None], cursor: Cursor | None) -> KeyRange:
        low_ms, high_ms = window
        low = f"{_clamp(low_ms):013d}#" if low_ms is not None else None
        high = f"{_clamp(high_ms):013d}#~" if high_ms is not None else None
        if high_ms is not None and high_ms < 0:
            return cls(low="~", high="#")  # before 1970: nothing
        if cursor is not None and cursor.forward:
            below = key_below(cursor.boundary)
            high = below if high is None else min(high, below)
        elif cursor is not None:
            above = key_above(cursor.boundary)
            low = above if low is None else max(low, above)
        return cls(low, high)

    @property
    def empty(self) -> bool:
        return self.low is not None and self.high is not None and self.low > self.high

    def contains(self, key: str) -> bool:
        return (self.low is None or key >= self.low) and (self.high is None or key <= self.high)

    @property
    def earliest_ms(self) -> int:
        """The earliest creation time the range allows (a token cannot time out before it was created)."""
        return int(self.low[:13]) if self.low and self.low[:13].isdigit() else 0


def _clamp(ms: int) -> int:
    return min(max(ms, 0), _MAX_MS)


def key_below(key: str) -> str:
    """The greatest text below `key` that any list sort key can equal or exceed (all have one length)."""
    return key[:-1] + chr(ord(key[-1]) - 1) + "~"


def key_above(key: str) -> str:
    """The least text above `key` (an inclusive bound that excludes `key` itself)."""
    return key + " "


# --- cursors -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A page edge. `forward` cursors (pagination.next) read older tokens, the others newer ones. The
    creation-time window is frozen at the first page, so a `period` does not slide during a walk."""

    boundary: str
    forward: bool
    window: tuple[int | None, int | None] = (None, None)


def encode_cursor(cursor: Cursor, env: str, filters: ListFilters, sign: Callable[[bytes], bytes]) -> str:
    body: dict[str, Any] = {"b": cursor.boundary, "d": "n" if cursor.forward else "p", "f": filters.digest(env)}
    if cursor.window != (None, None):
        body["w"] = list(cursor.window)
    payload = json.dumps(body, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(sign(payload))}"


def decode_cursor(
    text: str, param: str, env: str, filters: ListFilters, verify: Callable[[bytes, bytes], bool]
) -> Cursor:
    """Check a cursor's signature, then that it was made for this direction, environment and these filters."""
    invalid = InvalidInput(f"{param}: invalid cursor; use the value of pagination.next or pagination.previous")
    payload_text, _, tag_text = text.partition(".")
    if len(text) > _MAX_CURSOR_CHARS or not payload_text or not tag_text:
        raise invalid
    try:
        payload, tag = _unb64(payload_text), _unb64(tag_text)
    except (ValueError, binascii.Error) as exc:
        raise invalid from exc
    if not verify(payload, tag):
        raise invalid
    body = json.loads(payload)
    cursor = Cursor(str(body["b"]), body["d"] == "n", tuple(body.get("w", (None, None))))
    if not _SORT_KEY.match(cursor.boundary):
        raise invalid
    if cursor.forward != (param == AFTER):
        source, other = ("pagination.next", AFTER) if cursor.forward else ("pagination.previous", BEFORE)
        raise InvalidInput(f"{param}: this cursor came from {source}; send it as {other}")
    if body["f"] != filters.digest(env):
        raise InvalidInput(f"{param}: this cursor was made for other filters or another environment")
    return cursor


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict base64url: only the canonical spelling decodes (the unused low bits of the last character could
    otherwise be edited without changing the bytes)."""
    raw = text.encode("ascii")  # UnicodeEncodeError is a ValueError
    data = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data
