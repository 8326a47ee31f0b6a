"""Approval-URL hashes (issue 15): as strong as the callback hash, under their own subkey, with key rotation."""

from __future__ import annotations

import ast
import inspect
import re

import pytest
from waitpoints_core import signing
from waitpoints_core.ids import new_token_id
from waitpoints_core.signing import SigningKeys

K1 = b"k1-secret-0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"
K2 = b"k2-secret-zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUTSRQPONMLKJI"
MASTERS = {"k1": b"a" * 64, "k2": b"b" * 64, "k3": b"c" * 64}


def test_approval_hash_is_64_lowercase_hex_and_deterministic() -> None:
    ring = SigningKeys(current="k1", masters={"k1": K1})
    token_id = new_token_id()
    assert re.fullmatch(r"[0-9a-f]{64}", ring.approval_hash(token_id))
    assert ring.approval_hash(token_id) == ring.approval_hash(token_id)
    assert ring.approval_hash(token_id) != ring.approval_hash(new_token_id())
    assert ring.approval_hash(token_id) != SigningKeys(current="k1", masters={"k1": K2}).approval_hash(token_id)


def test_approval_and_callback_hashes_are_different_and_never_verify_as_each_other() -> None:
    ring = SigningKeys(current="k2", masters={"k1": K1, "k2": K2})
    token_id = new_token_id()
    approval, callback = ring.approval_hash(token_id), ring.callback_hash(token_id)
    assert approval != callback
    assert ring.verify_approval_hash(token_id, approval)
    assert ring.verify_callback_hash(token_id, callback)
    assert not ring.verify_approval_hash(token_id, callback)
    assert not ring.verify_callback_hash(token_id, approval)


def test_approval_hash_is_bound_to_its_token() -> None:
    ring = SigningKeys(current="k1", masters={"k1": K1})
    a, b = new_token_id(), new_token_id()
    assert not ring.verify_approval_hash(b, ring.approval_hash(a))


@pytest.mark.parametrize("candidate", ["", "0" * 64, "x" * 64, "ä" * 64, "\udcff" * 3])
def test_verify_rejects_garbage_without_raising(candidate: str) -> None:
    assert SigningKeys(current="k1", masters={"k1": K1}).verify_approval_hash(new_token_id(), candidate) is False


def test_rotation_keeps_outstanding_approval_urls_and_retiring_ends_them() -> None:
    token_id = new_token_id()
    old = SigningKeys(current="k1", masters={"k1": K1})
    issued = old.approval_hash(token_id)
    rotated = SigningKeys(current="k2", masters={"k1": K1, "k2": K2})
    assert rotated.approval_hash(token_id) != issued  # new URLs are signed with the new key ...
    assert rotated.verify_approval_hash(token_id, issued)  # ... and the old ones still work
    assert rotated.verify_approval_hash(token_id, rotated.approval_hash(token_id))
    retired = SigningKeys(current="k2", masters={"k2": K2})
    assert not retired.verify_approval_hash(token_id, issued)


@pytest.mark.parametrize("current", ["k1", "k2", "k3"])
def test_every_approval_check_compares_against_every_key(monkeypatch: pytest.MonkeyPatch, current: str) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = signing.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", counting)
    ring = SigningKeys(current=current, masters=MASTERS)
    token_id = new_token_id()
    right = ring.approval_hash(token_id)
    flipped = right[:-1] + ("0" if right[-1] != "0" else "1")
    for candidate in (right, right.upper(), flipped, right[:32], "", right + "0"):
        calls.clear()
        assert ring.verify_approval_hash(token_id, candidate) is (candidate == right)
        assert len(calls) == len(MASTERS), candidate  # one per key, even after a match
        assert all(given == candidate.encode() for _, given in calls)


def test_approval_verification_holds_no_operator_comparison() -> None:
    tree = ast.parse(inspect.cleandoc("\n" + inspect.getsource(SigningKeys.verify_approval_hash)))
    compares = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Compare) and not all(isinstance(o, ast.Is | ast.IsNot) for o in n.ops)
    ]
    assert not compares, [ast.unparse(c) for c in compares]
