"""The container's cache of signing keys: periodic reload, and rate-limited early reload after a miss."""

from __future__ import annotations

import itertools
import time

import pytest
from waitpoints_core import keyring as keyring_module
from waitpoints_core.keyring import KeyRing
from waitpoints_core.signing import SigningKeys


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class CountingLoader:
    """Each load returns a new deployment key, so a reload is visible in the result."""

    def __init__(self) -> None:
        self.calls = 0
        self._serial = itertools.count(1)

    def __call__(self) -> SigningKeys:
        self.calls += 1
        kid = f"k{next(self._serial)}"
        return SigningKeys(current=kid, masters={kid: kid.encode() * 16})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(keyring_module.time, "monotonic", fake)
    return fake


def test_first_get_loads_and_later_gets_use_the_cache(clock: Clock) -> None:
    load = CountingLoader()
    ring = KeyRing(load, max_age=300, min_refresh=10)
    first = ring.get()
    clock.now += 299
    assert ring.get() is first
    assert load.calls == 1


def test_get_reloads_after_max_age(clock: Clock) -> None:
    load = CountingLoader()
    ring = KeyRing(load, max_age=300, min_refresh=10)
    first = ring.get()
    clock.now += 300.5
    second = ring.get()
    assert second is not first
    assert second.current == "k2"
    assert load.calls == 2
    assert ring.get() is second


def test_refresh_for_miss_is_refused_right_after_a_load(clock: Clock) -> None:
    load = CountingLoader()
    ring = KeyRing(load, max_age=300, min_refresh=10)
    first = ring.get()
    clock.now += 9.9
    assert ring.refresh_for_miss() is None
    assert ring.get() is first
    assert load.calls == 1


def test_refresh_for_miss_reloads_once_min_refresh_has_passed(clock: Clock) -> None:
    load = CountingLoader()
    ring = KeyRing(load, max_age=300, min_refresh=10)
    ring.get()
    clock.now += 10.1
    fresh = ring.refresh_for_miss()
    assert fresh is not None and fresh.current == "k2"
    assert ring.get() is fresh
    assert load.calls == 2


def test_refresh_for_miss_is_rate_limited_across_a_burst_of_misses(clock: Clock) -> None:
    load = CountingLoader()
    ring = KeyRing(load, max_age=300, min_refresh=10)
    ring.get()
    clock.now += 11
    results = [ring.refresh_for_miss() for _ in range(100)]
    assert sum(r is not None for r in results) == 1
    assert load.calls == 2


def test_refresh_for_miss_before_any_load_loads(clock: Clock) -> None:
    load = CountingLoader()
    ring = KeyRing(load, max_age=300, min_refresh=10)
    assert ring.refresh_for_miss() is not None
    assert load.calls == 1


def test_real_clock_small_intervals() -> None:
    """The same behaviour on the real monotonic clock, with sub-second settings."""
    load = CountingLoader()
    ring = KeyRing(load, max_age=0.15, min_refresh=0.05)
    first = ring.get()
    assert ring.refresh_for_miss() is None
    time.sleep(0.06)
    assert ring.refresh_for_miss() is not None
    assert load.calls == 2
    time.sleep(0.16)
    assert ring.get() is not first
    assert load.calls == 3


def test_a_failed_load_is_not_cached(clock: Clock) -> None:
    calls = 0

    def flaky() -> SigningKeys:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("secrets manager unavailable")
        return SigningKeys(current="k1", masters={"k1": b"x" * 32})

    ring = KeyRing(flaky, max_age=300, min_refresh=10)
    with pytest.raises(RuntimeError):
        ring.get()
    assert ring.get().current == "k1"
    assert calls == 2
