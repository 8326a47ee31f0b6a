"""The duration grammar `^(\\d+(w|d|hr|h|m|s))+$`, timeout instants, and the wire's ISO format."""

from __future__ import annotations

import time

import pytest
from waitpoints_core.durations import DAY_MS, format_iso, now_ms, parse_duration, parse_instant

H = 3_600_000
M = 60_000
S = 1_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1s", S),
        ("45s", 45 * S),
        ("10m", 10 * M),
        ("1h", H),
        ("1hr", H),
        ("2d", 2 * DAY_MS),
        ("1w", 7 * DAY_MS),
        ("1h30m", H + 30 * M),
        ("1hr30m", H + 30 * M),
        ("2w3d", 17 * DAY_MS),
        ("1d2h3m4s", DAY_MS + 2 * H + 3 * M + 4 * S),
        ("30m1h", H + 30 * M),  # order is not part of the grammar
        ("1h1h", 2 * H),  # nor is uniqueness: parts add up
        ("0s", 0),
        ("007m", 7 * M),
    ],
)
def test_durations_in_the_grammar_parse_to_milliseconds(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10",
        "m",
        "h1",
        "1.5h",
        "-1h",
        "+1h",
        "1 h",
        "1h 30m",
        " 1h",
        "1H",
        "1M",
        "1y",
        "1ms",
        "1min",
        "1hrs",
        "1h30",
        "PT1H",
        "ten minutes",
        "1d_",
    ],
)
def test_text_outside_the_grammar_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


def test_very_long_duration_text_is_refused_without_parsing() -> None:
    assert parse_duration("1s" * 51) is None
    assert parse_duration("1s" * 50) == 50 * S


def test_duration_with_trailing_newline_is_not_in_the_grammar() -> None:
    assert parse_duration("10m\n") is None


def test_non_ascii_digits_are_neither_durations_nor_epoch_ms() -> None:
    assert parse_duration("1\u0661s") is None  # ARABIC-INDIC DIGIT ONE
    assert parse_instant("\u0661\u0662\u0663") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-01T00:00:00Z", 1_893_456_000_000),
        ("2030-01-01T00:00:00.000Z", 1_893_456_000_000),
        ("2030-01-01T00:00:00.250Z", 1_893_456_000_250),
        ("2030-01-01T00:00:00+00:00", 1_893_456_000_000),
        ("2030-01-01T02:00:00+02:00", 1_893_456_000_000),
        ("2029-12-31T19:00:00-05:00", 1_893_456_000_000),
        ("2030-01-01T00:00:00", 1_893_456_000_000),  # naive means UTC
        ("2030-01-01", 1_893_456_000_000),
    ],
)
def test_iso_instants_parse_to_epoch_ms(text: str, expected: int) -> None:
    assert parse_instant(text) == expected


def test_epoch_ms_string_parses_to_itself() -> None:
    assert parse_instant("1893456000123") == 1_893_456_000_123


def test_epoch_ms_string_longer_than_15_digits_is_refused() -> None:
    assert parse_instant("1" * 16) is None


@pytest.mark.parametrize("text", ["", "tomorrow", "2030-13-01T00:00:00Z", "2030-01-01T25:00:00Z", "-1", "1.5", "12abc"])
def test_text_that_is_no_instant_is_refused(text: str) -> None:
    assert parse_instant(text) is None


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1_746_644_129_123, "2025-05-07T18:55:29.123Z"),
        (1_746_644_129_000, "2025-05-07T18:55:29.000Z"),
        (1_746_644_129_007, "2025-05-07T18:55:29.007Z"),
        (1_746_644_129_999, "2025-05-07T18:55:29.999Z"),
        (1_893_456_000_000, "2030-01-01T00:00:00.000Z"),
    ],
)
def test_format_iso_always_has_milliseconds_and_z(ms: int, expected: str) -> None:
    assert format_iso(ms) == expected


def test_format_iso_round_trips_through_parse_instant() -> None:
    for ms in (1, 999, 1_000, 1_746_644_129_123, 4_102_444_799_999):
        assert parse_instant(format_iso(ms)) == ms


def test_now_ms_is_epoch_milliseconds() -> None:
    before = int(time.time() * 1000)
    value = now_ms()
    after = int(time.time() * 1000)
    assert isinstance(value, int)
    assert before - 1 <= value <= after + 1
