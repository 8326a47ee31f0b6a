"""Secrets are compared in constant time: every callback hash and cursor tag is checked with
`hmac.compare_digest`, against every key, whatever the candidate (no early exit on the first key that matches,
the first byte that differs, or a length that differs). No timing is measured: the comparisons are counted."""

from __future__ import annotations

import ast
import inspect
from typing import TYPE_CHECKING

import pytest
from waitpoints_core import signing
from waitpoints_core.ids import new_token_id
from waitpoints_core.services.auth import Authenticator
from waitpoints_core.services.tokens import TokenService
from waitpoints_core.signing import SigningKeys

if TYPE_CHECKING:
    from collections.abc import Iterator

MASTERS = {"k1": b"a" * 64, "k2": b"b" * 64, "k3": b"c" * 64}


class Comparisons:
    def __init__(self) -> None:
        self.calls: list[tuple[bytes, bytes]] = []

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls.append((a, b))
        return _REAL(a, b)


_REAL = signing.hmac.compare_digest


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> Iterator[Comparisons]:
    counter = Comparisons()
    monkeypatch.setattr(signing.hmac, "compare_digest", counter)
    yield counter


def _candidates(right: str) -> list[str]:
    return [
        right,
        right.upper(),
        right[:-1] + ("0" if right[-1] != "0" else "1"),
        "0" + right[1:],
        right[:32],
        "",
        "x" * 64,
        "ä" * 64,
        right + "0",
    ]


@pytest.mark.parametrize("current", ["k1", "k2", "k3"])
def test_every_callback_hash_check_compares_against_every_key(comparisons: Comparisons, current: str) -> None:
    keys = SigningKeys(current=current, masters=MASTERS)
    token_id = new_token_id()
    right = keys.callback_hash(token_id)
    for candidate in _candidates(right):
        comparisons.calls.clear()
        assert keys.verify_callback_hash(token_id, candidate) is (candidate == right)
        assert len(comparisons.calls) == len(MASTERS), candidate  # one per key, even after a match
        assert all(given == candidate.encode() for _, given in comparisons.calls)


def test_every_cursor_check_compares_against_every_key(comparisons: Comparisons) -> None:
    keys = SigningKeys(current="k2", masters=MASTERS)
    payload = b'{"b":"x"}'
    tag = keys.sign_cursor(payload)
    for candidate in (tag, bytes(len(tag)), tag[:-1], b""):
        comparisons.calls.clear()
        assert keys.verify_cursor(payload, candidate) is (candidate == tag)
        assert len(comparisons.calls) == len(MASTERS)


def test_no_secret_is_compared_with_an_operator() -> None:
    """The verifying functions hold no `==`, `!=`, `in` or `startswith` on what the caller sent."""
    for function in (
        SigningKeys.verify_callback_hash,
        SigningKeys.verify_cursor,
        TokenService._hash_matches,
    ):
        tree = ast.parse(inspect.cleandoc("\n" + inspect.getsource(function)))
        compares = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Compare) and not all(isinstance(op, (ast.Is, ast.IsNot)) for op in n.ops)
        ]  # `x is not None` is fine
        calls = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
        assert not compares, (function.__qualname__, [ast.unparse(c) for c in compares])
        assert "startswith" not in calls and "endswith" not in calls, function.__qualname__


def test_api_keys_are_looked_up_by_hash_never_compared() -> None:
    """A secret key is never compared: its SHA-256 is the DynamoDB key looked up (a miss costs the same)."""
    source = inspect.getsource(Authenticator._key_env)
    assert "hash_api_key(key)" in source and "get_api_key_env(key_hash)" in source and "==" not in source
