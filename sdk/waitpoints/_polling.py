"""``for_token`` as a generator of steps, so that one piece of logic serves both clients.

The generator yields ``FETCH`` (the driver reads the token and sends it in) or a number of seconds (the
driver sleeps that long, then calls ``next``). It returns the ``WaitResult``. It never spins: every wait is
at least ``MIN_SLEEP``, and the waits grow from ``FIRST_DELAY`` up to ``poll_interval``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any, Final

from ._types import Token, WaitResult

FIRST_DELAY = 0.25
MIN_SLEEP = 0.01
TIMEOUT_GRACE = 0.05
"""After the token's own ``timeoutAt`` a read shows ``TIMED_OUT``; wake this long after it."""


class Fetch:
    """The step "read the token now and send it in"."""

    def __repr__(self) -> str:
        return "FETCH"


FETCH: Final = Fetch()

Step = Fetch | float
PollGenerator = Generator[Step, Token | None, WaitResult[Any]]


def poll(
    *,
    poll_interval: float,
    timeout: float | None,
    monotonic: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    started: float | None = None,
) -> PollGenerator:
    """Read the token until it is final, or until ``timeout`` seconds have passed since the first read (or since
    ``started``, a ``monotonic()`` reading: a wait that began over a subscription and fell back to polling)."""
    if poll_interval <= 0:
        raise ValueError(f"poll_interval must be positive, got {poll_interval!r}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be 0 or more, got {timeout!r}")
    started = monotonic() if started is None else started
    delay = min(FIRST_DELAY, poll_interval)
    while True:
        token = yield FETCH
        assert token is not None, "the driver sends the token it read"
        if token.is_final:
            return WaitResult.of(token)
        elapsed = monotonic() - started
        if timeout is not None and elapsed >= timeout:
            return WaitResult.gave_up(token, elapsed)
        sleep = delay
        if timeout is not None:
            sleep = min(sleep, timeout - elapsed)  # the last read happens at the deadline
        if token.timeout_at is not None:
            until = (token.timeout_at - now()).total_seconds()
            if until > 0:
                sleep = min(sleep, until + TIMEOUT_GRACE)
        yield max(MIN_SLEEP, sleep)
        delay = min(poll_interval, delay * 2)
