"""Identifiers: waitpoint token ids and secret API keys, all from the OS CSPRNG.

Every pattern is applied with fullmatch: `$` would also accept a trailing newline.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_PREFIX = "waitpoint_"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN_ID = re.compile(r"waitpoint_[a-z0-9]{25}")
_BARE_ID = re.compile(r"[a-z0-9]{25}")

ENV_NAME = re.compile(r"[a-z0-9-]{1,32}")
_API_KEY = re.compile(r"wp_([a-z0-9-]{1,32})_[A-Za-z0-9_-]{32,}")


_ID_LENGTH = 25
# Bytes below 252 (7 * 36) map uniformly onto the alphabet; the 4 above are dropped.
_TO_ALPHABET = bytes(_ALPHABET.encode()[b % 36] for b in range(256))
_UNEVEN = bytes(range(252, 256))


def new_token_id() -> str:
    """`waitpoint_` + 25 lowercase alphanumerics (about 129 bits), each uniform: 32 CSPRNG bytes, those below 252
    mapped onto the alphabet in C (`bytes.translate`), drawn again in the rare case fewer than 25 are left."""
    while True:
        chars = secrets.token_bytes(32).translate(_TO_ALPHABET, _UNEVEN)
        if len(chars) >= _ID_LENGTH:
            return TOKEN_PREFIX + chars[:_ID_LENGTH].decode()


def normalize_token_id(raw: str) -> str | None:
    """The canonical id for `waitpoint_<25>` or a bare `<25>`; None if `raw` is neither."""
    if _TOKEN_ID.fullmatch(raw):
        return raw
    if _BARE_ID.fullmatch(raw):
        return TOKEN_PREFIX + raw
    return None


def new_api_key(env: str) -> str:
    """`wp_<env>_<43 URL-safe chars>` (256 random bits)."""
    if not ENV_NAME.fullmatch(env):
        raise ValueError("environment names are 1 to 32 characters of a-z, 0-9 and '-'")
    return f"wp_{env}_{secrets.token_urlsafe(32)}"


def looks_like_api_key(value: str) -> bool:
    return _API_KEY.fullmatch(value) is not None


def hash_api_key(key: str) -> str:
    """The stored form of a key. Keys carry 256 random bits, so a plain SHA-256 is enough (no stretching)."""
    return hashlib.sha256(key.encode()).hexdigest()
