"""Token ids and secret API keys."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest
from waitpoints_core import ids
from waitpoints_core.errors import InvalidInput
from waitpoints_core.services.auth import mint_api_key

TOKEN_ID = re.compile(r"waitpoint_[a-z0-9]{25}")


def test_new_token_id_is_prefix_and_25_lowercase_alphanumerics() -> None:
    for _ in range(200):
        assert TOKEN_ID.fullmatch(ids.new_token_id())


def test_new_token_ids_are_unique_over_many_draws() -> None:
    drawn = {ids.new_token_id() for _ in range(5_000)}
    assert len(drawn) == 5_000


def test_new_token_ids_use_the_whole_alphabet() -> None:
    chars = set("".join(ids.new_token_id().removeprefix("waitpoint_") for _ in range(500)))
    assert chars == set("abcdefghijklmnopqrstuvwxyz0123456789")


def test_every_character_is_equally_likely() -> None:
    # Exactly: each character comes from 7 of the 252 byte values kept, the 4 others are dropped...
    kept = [b for b in range(256) if b not in ids._UNEVEN]
    sources = Counter(ids._TO_ALPHABET[b] for b in kept)
    assert len(kept) == 252 and set(sources.values()) == {7} and len(sources) == 36
    # ...and in practice: 50,000 characters, each within 25 % of its share (about 9 standard deviations).
    counts = Counter("".join(ids.new_token_id().removeprefix("waitpoint_") for _ in range(2_000)))
    assert all(abs(n - 50_000 / 36) < 0.25 * 50_000 / 36 for n in counts.values())


def test_normalize_keeps_a_full_id() -> None:
    token_id = ids.new_token_id()
    assert ids.normalize_token_id(token_id) == token_id


def test_normalize_prefixes_a_bare_25_char_id() -> None:
    bare = "abcdefghijklmnopqrstuvwxy"
    assert ids.normalize_token_id(bare) == "waitpoint_" + bare


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "waitpoint_",
        "waitpoint_" + "a" * 24,
        "waitpoint_" + "a" * 26,
        "a" * 24,
        "a" * 26,
        "waitpoint_" + "A" * 25,
        "WAITPOINT_" + "a" * 25,
        "A" * 25,
        "waitpoint_" + "a" * 24 + "-",
        "../../" + "a" * 19,
        "waitpoint_../" + "a" * 22,
        "waitpoint_" + "a" * 25 + "/../x",
        "waitpoint_" + "a" * 10_000,
        "x" * 100_000,
        "wp_" + "a" * 25,
        " waitpoint_" + "a" * 25,
        "waitpoint_" + "a" * 25 + " ",
        "waitpoint_" + "\u00e0" * 25,
    ],
)
def test_normalize_rejects_everything_else(raw: str) -> None:
    assert ids.normalize_token_id(raw) is None


def test_normalize_rejects_a_trailing_newline() -> None:
    assert ids.normalize_token_id("waitpoint_" + "a" * 25 + "\n") is None


@pytest.mark.parametrize("env", ["dev", "prod", "a", "staging-2", "x" * 32])
def test_api_key_format_is_wp_env_and_at_least_32_random_chars(env: str) -> None:
    key = ids.new_api_key(env)
    match = re.fullmatch(r"wp_(.+?)_([A-Za-z0-9_-]+)", key)
    assert match and match.group(1) == env
    assert key.startswith(f"wp_{env}_")
    assert len(key) - len(f"wp_{env}_") >= 32
    assert ids.looks_like_api_key(key)


def test_api_keys_are_unique() -> None:
    assert len({ids.new_api_key("dev") for _ in range(2_000)}) == 2_000


@pytest.mark.parametrize("env", ["", "Dev", "prod_1", "a b", "x" * 33, "dév", "../x"])
def test_api_key_env_must_be_1_to_32_of_lowercase_digits_dash(env: str) -> None:
    with pytest.raises(ValueError, match="environment names"):
        ids.new_api_key(env)


def test_api_key_env_with_trailing_newline_is_refused() -> None:
    with pytest.raises(ValueError):
        ids.new_api_key("dev\n")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "wp_dev_short",
        "sk_dev_" + "a" * 43,
        "wp_Dev_" + "a" * 43,
        "wp__" + "a" * 43,
        "Bearer wp_dev_" + "a" * 43,
        "wp_dev_" + "a" * 31,
        "wp_dev_" + "a" * 42 + "!",
    ],
)
def test_looks_like_api_key_rejects_malformed_keys(value: str) -> None:
    assert not ids.looks_like_api_key(value)


def test_hash_api_key_is_sha256_hex_of_the_key_and_not_the_key() -> None:
    key = ids.new_api_key("dev")
    digest = ids.hash_api_key(key)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in digest
    assert ids.hash_api_key(key) == digest
    assert ids.hash_api_key(ids.new_api_key("dev")) != digest


class _RecordingKeyStore:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int]] = []
        self.hints: list[str] = []

    def put_api_key(self, key_hash: str, env: str, hint: str, now_ms: int) -> None:
        self.rows.append((key_hash, env, now_ms))
        self.hints.append(hint)


def test_mint_api_key_stores_only_the_hash() -> None:
    store = _RecordingKeyStore()
    key = mint_api_key(store, "prod")
    assert key.startswith("wp_prod_")
    [(stored_hash, env, _)] = store.rows
    assert stored_hash == ids.hash_api_key(key)
    assert env == "prod"
    assert store.hints == [key[: len("wp_prod_") + 4] + "…"]  # 4 of 43 random characters: names it, no more


def test_mint_api_key_refuses_a_bad_env_and_stores_nothing() -> None:
    store = _RecordingKeyStore()
    with pytest.raises(InvalidInput):
        mint_api_key(store, "Prod!")
    assert store.rows == []
