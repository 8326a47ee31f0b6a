"""Time: the duration grammar, timeout values, and the wire's ISO 8601 format.

All instants are integer epoch milliseconds (UTC) inside the core.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

_DURATION = re.compile(r"(?:[0-9]+(?:w|d|hr|h|m|s))+")
_PART = re.compile(r"([0-9]+)(w|d|hr|h|m|s)")
_EPOCH_MS = re.compile(r"[0-9]{1,15}")
_UNIT_MS = {"w": 604_800_000, "d": 86_400_000, "hr": 3_600_000, "h": 3_600_000, "m": 60_000, "s": 1_000}
_MAX_DURATION_CHARS = 100

DAY_MS = 86_400_000


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def parse_duration(text: str) -> int | None:
    """`1h30m` → milliseconds; None when `text` is not in the grammar `^(\\d+(w|d|hr|h|m|s))+$`."""
    if len(text) > _MAX_DURATION_CHARS or not _DURATION.fullmatch(text):
        return None
    return sum(int(n) * _UNIT_MS[unit] for n, unit in _PART.findall(text))


def parse_instant(text: str) -> int | None:
    """An ISO 8601 date-time (naive means UTC) or a string of epoch milliseconds → epoch ms; None if neither."""
    if _EPOCH_MS.fullmatch(text):
        return int(text)
    if not text.isascii():
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def format_iso(ms: int) -> str:
    """Epoch ms → `2025-05-07T18:55:29.123Z`. (time.gmtime and %-formatting: half the time of datetime.strftime, and
    a list page formats two or three dates per token.)"""
    t = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t[0], t[1], t[2], t[3], t[4], t[5], ms % 1000)  # noqa: UP031
