"""Cursors: opaque, tamper-evident, bound to their environment, filters and direction; and the key ranges."""

from __future__ import annotations

import base64
import json

import pytest
from waitpoints_core import InvalidInput, TokenStatus
from waitpoints_core.listing import (
    AFTER,
    BEFORE,
    Cursor,
    KeyRange,
    ListFilters,
    decode_cursor,
    encode_cursor,
    list_sort_key,
)
from waitpoints_core.signing import SigningKeys

K1 = SigningKeys("k1", {"k1": b"one-" * 8})
ROTATED = SigningKeys("k2", {"k1": b"one-" * 8, "k2": b"two-" * 8})
ONLY_K2 = SigningKeys("k2", {"k2": b"two-" * 8})
FILTERS = ListFilters(statuses=frozenset({TokenStatus.WAITING}), tags=("a", "b"))


def fixed_id(n: int) -> str:
    """A token id that is the same in every process (pytest-xdist workers must collect the same test ids)."""
    return "waitpoint_" + str(n).rjust(25, "k")


BOUNDARY = list_sort_key(1_700_000_000_123, fixed_id(0))


def encode(
    cursor: Cursor = Cursor(BOUNDARY, True), env: str = "dev", filters: ListFilters = FILTERS, keys: SigningKeys = K1
) -> str:
    return encode_cursor(cursor, env, filters, keys.sign_cursor)


def decode(
    text: str, param: str = AFTER, env: str = "dev", filters: ListFilters = FILTERS, keys: SigningKeys = K1
) -> Cursor:
    return decode_cursor(text, param, env, filters, keys.verify_cursor)


def rejected(text: str, param: str = AFTER, **kwargs: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        decode(text, param, **kwargs)  # type: ignore[arg-type]
    assert caught.value.message.startswith(f"{param}: ")
    return caught.value.message


def test_round_trip_both_directions_and_the_window() -> None:
    forward = Cursor(BOUNDARY, True, (1000, None))
    assert decode(encode(forward)) == forward
    backward = Cursor(BOUNDARY, False, (None, 2000))
    assert decode(encode(backward), BEFORE) == backward


def test_cursor_is_url_safe_and_does_not_show_the_filters() -> None:
    text = encode()
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert "WAITING" not in base64.urlsafe_b64decode(text.split(".")[0] + "==").decode()


def test_every_single_character_edit_is_rejected() -> None:
    text = encode()
    for i in range(len(text)):
        for replacement in {"A", "_", "."} - {text[i]}:
            edited = text[:i] + replacement + text[i + 1 :]
            assert "invalid cursor" in rejected(edited)


def test_a_forged_payload_is_rejected() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"b": BOUNDARY, "d": "n", "f": FILTERS.digest("dev")}).encode())
    tag = encode().split(".")[1]
    assert "invalid cursor" in rejected(payload.decode().rstrip("=") + "." + tag)


@pytest.mark.parametrize(
    "text", ["x", "abc.", ".abc", "a.b.c", "!!!.???", "é.é", "a" * 600 + ".b", BOUNDARY, "waitpoint_" + "a" * 25]
)
def test_garbage_is_rejected(text: str) -> None:
    rejected(text)
    rejected(text, BEFORE)


def test_another_environment_or_other_filters_are_rejected() -> None:
    text = encode()
    assert "other filters or another environment" in rejected(text, env="prod")
    assert "other filters or another environment" in rejected(text, filters=ListFilters())
    assert "other filters or another environment" in rejected(text, filters=ListFilters(tags=("a",)))
    assert "other filters or another environment" in rejected(
        encode(filters=ListFilters(period_ms=3_600_000)), filters=ListFilters(period_ms=7_200_000)
    )
    assert decode(text, filters=ListFilters(statuses=FILTERS.statuses, tags=("b", "a"))).boundary == BOUNDARY


def test_a_cursor_must_be_sent_as_the_parameter_it_is_for() -> None:
    assert "send it as page[after]" in rejected(encode(Cursor(BOUNDARY, True)), BEFORE)
    assert "send it as page[before]" in rejected(encode(Cursor(BOUNDARY, False)), AFTER)


def test_rotation_signs_with_current_and_verifies_with_any_listed_key() -> None:
    old = encode(keys=K1)
    assert decode(old, keys=ROTATED).boundary == BOUNDARY
    new = encode(keys=ROTATED)
    assert new != old and decode(new, keys=ONLY_K2).boundary == BOUNDARY
    assert "invalid cursor" in rejected(old, keys=ONLY_K2)


def test_the_cursor_subkey_is_its_own() -> None:
    payload = b'{"b":"x"}'
    assert K1.sign_cursor(payload) != bytes.fromhex(K1.callback_hash(payload.decode()))[:16]
    assert K1.verify_cursor(payload, K1.sign_cursor(payload))
    assert not K1.verify_cursor(payload + b" ", K1.sign_cursor(payload))


# --- key ranges ----------------------------------------------------------------------------------------

KEYS = sorted(
    list_sort_key(ms, fixed_id(n))
    for n, ms in enumerate((0, 5, 5, 5, 1_700_000_000_000, 1_700_000_000_000, 9_999_999_999_999), start=1)
)


@pytest.mark.parametrize("boundary", KEYS)
def test_cursor_bounds_are_exclusive(boundary: str) -> None:
    older = KeyRange.of((None, None), Cursor(boundary, True))
    newer = KeyRange.of((None, None), Cursor(boundary, False))
    assert [k for k in KEYS if older.contains(k)] == [k for k in KEYS if k < boundary]
    assert [k for k in KEYS if newer.contains(k)] == [k for k in KEYS if k > boundary]


def test_time_bounds_are_inclusive_and_combine_with_the_cursor() -> None:
    keys = KeyRange.of((5, 1_700_000_000_000), None)
    assert [k for k in KEYS if keys.contains(k)] == KEYS[1:6]
    combined = KeyRange.of((5, 1_700_000_000_000), Cursor(KEYS[3], True))
    assert [k for k in KEYS if combined.contains(k)] == KEYS[1:3]
    assert keys.earliest_ms == 5 and KeyRange().earliest_ms == 0


def test_empty_ranges() -> None:
    assert KeyRange.of((10, 9), None).empty
    assert KeyRange.of((None, -1), None).empty
    assert KeyRange.of((1_700_000_000_001, None), Cursor(KEYS[4], True)).empty
    assert not KeyRange.of((-5, 10**15), None).empty
