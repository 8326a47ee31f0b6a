"""Callback-URL hashes and public access tokens (HS256 JWTs), with key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

import jwt
import pytest
from waitpoints_core.errors import Unauthenticated
from waitpoints_core.ids import new_token_id
from waitpoints_core.signing import ACCESS_TOKEN_LIFETIME_MS, SigningKeys, _subkey, scope_allows_completion

K1 = b"k1-secret-0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"
K2 = b"k2-secret-zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUTSRQPONMLKJI"
NOW_MS = int(time.time() * 1000)


def keys(current: str = "k1", **masters: bytes) -> SigningKeys:
    return SigningKeys(current=current, masters=masters or {"k1": K1})


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


# --- callback hashes -----------------------------------------------------------------------------------


def test_callback_hash_is_64_lowercase_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", keys().callback_hash(new_token_id()))


def test_callback_hash_is_deterministic_per_token_and_key() -> None:
    token_id = new_token_id()
    assert keys().callback_hash(token_id) == keys().callback_hash(token_id)
    assert keys().callback_hash(token_id) != keys().callback_hash(new_token_id())
    assert keys().callback_hash(token_id) != keys("k1", k1=K2).callback_hash(token_id)


def test_verify_accepts_the_hash_it_made() -> None:
    token_id = new_token_id()
    ring = keys()
    assert ring.verify_callback_hash(token_id, ring.callback_hash(token_id))


def test_verify_rejects_uppercase_hash() -> None:
    token_id = new_token_id()
    ring = keys()
    good = ring.callback_hash(token_id)
    assert good.upper() != good
    assert not ring.verify_callback_hash(token_id, good.upper())


@pytest.mark.parametrize("cut", [0, 1, 32, 63])
def test_verify_rejects_truncated_hash(cut: int) -> None:
    token_id = new_token_id()
    ring = keys()
    assert not ring.verify_callback_hash(token_id, ring.callback_hash(token_id)[:cut])


def test_verify_rejects_extended_hash() -> None:
    token_id = new_token_id()
    ring = keys()
    assert not ring.verify_callback_hash(token_id, ring.callback_hash(token_id) + "0")


def test_verify_rejects_another_tokens_hash() -> None:
    ring = keys()
    assert not ring.verify_callback_hash(new_token_id(), ring.callback_hash(new_token_id()))


def test_verify_rejects_another_deployments_hash() -> None:
    token_id = new_token_id()
    other = keys("k1", k1=K2)
    assert not keys().verify_callback_hash(token_id, other.callback_hash(token_id))


def test_verify_rejects_non_ascii_garbage_without_raising() -> None:
    assert not keys().verify_callback_hash(new_token_id(), "\udcff" * 64)
    assert not keys().verify_callback_hash(new_token_id(), "é" * 64)


def test_callback_hash_is_not_a_plain_hmac_of_the_master_key() -> None:
    """Each purpose has its own subkey: the callback hash is not HMAC(master, id)."""
    token_id = new_token_id()
    plain = hmac.new(K1, token_id.encode(), hashlib.sha256).hexdigest()
    assert keys().callback_hash(token_id) != plain
    assert not keys().verify_callback_hash(token_id, plain)


# --- rotation ------------------------------------------------------------------------------------------


def test_rotation_new_current_key_signs_but_old_hashes_still_verify() -> None:
    token_id = new_token_id()
    old = keys("k1", k1=K1)
    rotated = keys("k2", k1=K1, k2=K2)
    old_hash = old.callback_hash(token_id)
    assert rotated.callback_hash(token_id) != old_hash
    assert rotated.verify_callback_hash(token_id, old_hash)
    assert rotated.verify_callback_hash(token_id, rotated.callback_hash(token_id))


def test_rotation_ring_without_k1_rejects_k1_hashes() -> None:
    token_id = new_token_id()
    old_hash = keys("k1", k1=K1).callback_hash(token_id)
    assert not keys("k2", k2=K2).verify_callback_hash(token_id, old_hash)


def test_rotation_old_jwts_still_verify_after_rotation() -> None:
    token_id = new_token_id()
    old_jwt = keys("k1", k1=K1).mint_access_token("dev", token_id, NOW_MS)
    env, scopes = keys("k2", k1=K1, k2=K2).verify_access_token(old_jwt)
    assert env == "dev"
    assert scopes == (f"write:waitpoints:{token_id}",)


def test_rotation_new_jwts_carry_the_current_kid() -> None:
    header, _, _ = _parts(keys("k2", k1=K1, k2=K2).mint_access_token("dev", new_token_id(), NOW_MS))
    assert header["kid"] == "k2"
    assert header["alg"] == "HS256"


def test_rotation_ring_without_k1_rejects_k1_jwts() -> None:
    old_jwt = keys("k1", k1=K1).mint_access_token("dev", new_token_id(), NOW_MS)
    with pytest.raises(Unauthenticated):
        keys("k2", k2=K2).verify_access_token(old_jwt)


def test_current_key_must_be_among_the_keys() -> None:
    with pytest.raises(ValueError, match="current"):
        SigningKeys(current="k3", masters={"k1": K1})


def test_from_secret_string_reads_current_and_all_keys() -> None:
    token_id = new_token_id()
    ring = SigningKeys.from_secret_string(json.dumps({"current": "k2", "k1": K1.decode(), "k2": K2.decode()}))
    assert ring.current == "k2"
    assert ring.callback_hash(token_id) == keys("k2", k1=K1, k2=K2).callback_hash(token_id)
    assert ring.verify_callback_hash(token_id, keys("k1", k1=K1).callback_hash(token_id))


# --- public access tokens ------------------------------------------------------------------------------


def test_access_token_claims_scope_one_token_for_24_hours() -> None:
    token_id = new_token_id()
    token = keys().mint_access_token("prod", token_id, NOW_MS)
    header, claims, _ = _parts(token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    assert claims["sub"] == "prod"
    assert claims["pub"] is True
    assert claims["scopes"] == [f"write:waitpoints:{token_id}"]
    assert claims["iat"] == NOW_MS // 1000
    assert claims["exp"] == NOW_MS // 1000 + 24 * 3600
    assert ACCESS_TOKEN_LIFETIME_MS == 24 * 3_600_000


def test_access_token_verifies_to_env_and_scopes() -> None:
    token_id = new_token_id()
    ring = keys()
    assert ring.verify_access_token(ring.mint_access_token("prod", token_id, NOW_MS)) == (
        "prod",
        (f"write:waitpoints:{token_id}",),
    )


def test_access_token_is_valid_until_just_before_24h() -> None:
    ring = keys()
    now = int(time.time() * 1000)  # not NOW_MS: the module may have been collected more than a minute ago
    ring.verify_access_token(ring.mint_access_token("dev", new_token_id(), now - ACCESS_TOKEN_LIFETIME_MS + 60_000))


def test_expired_access_token_is_unauthenticated() -> None:
    ring = keys()
    token = ring.mint_access_token("dev", new_token_id(), NOW_MS - ACCESS_TOKEN_LIFETIME_MS - 60_000)
    with pytest.raises(Unauthenticated, match="expired"):
        ring.verify_access_token(token)


def test_alg_none_token_is_unauthenticated() -> None:
    claims = {
        "sub": "dev",
        "scopes": ["write:waitpoints"],
        "iss": "waitpoints",
        "aud": "waitpoints",
        "iat": NOW_MS // 1000,
        "exp": NOW_MS // 1000 + 3600,
    }
    unsigned = _b64({"alg": "none", "typ": "JWT", "kid": "k1"}) + "." + _b64(claims) + "."
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(unsigned)


def test_token_signed_with_another_key_is_unauthenticated() -> None:
    token = keys("k1", k1=K2).mint_access_token("dev", new_token_id(), NOW_MS)
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(token)


def test_token_signed_with_the_raw_master_key_is_unauthenticated() -> None:
    """A JWT signed with the master (not the JWT subkey) is refused: the purposes are separated."""
    claims = {
        "sub": "dev",
        "scopes": ["write:waitpoints"],
        "iss": "waitpoints",
        "aud": "waitpoints",
        "iat": NOW_MS // 1000,
        "exp": NOW_MS // 1000 + 3600,
    }
    token = jwt.encode(claims, K1, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(token)


def test_tampered_claims_are_unauthenticated() -> None:
    token_id = new_token_id()
    header, _payload, signature = keys().mint_access_token("dev", token_id, NOW_MS).split(".")
    _, claims, _ = _parts(keys().mint_access_token("dev", token_id, NOW_MS))
    claims["scopes"] = ["write:waitpoints"]
    claims["sub"] = "prod"
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(f"{header}.{_b64(claims)}.{signature}")


def test_unknown_kid_is_unauthenticated() -> None:
    token = keys("k9", k9=K1).mint_access_token("dev", new_token_id(), NOW_MS)
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(token)


def test_missing_kid_is_unauthenticated() -> None:
    claims = {
        "sub": "dev",
        "scopes": [],
        "iss": "waitpoints",
        "aud": "waitpoints",
        "iat": NOW_MS // 1000,
        "exp": NOW_MS // 1000 + 3600,
    }
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(jwt.encode(claims, K1, algorithm="HS256"))


@pytest.mark.parametrize("garbage", ["", "a.b.c", "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.", "...."])
def test_garbage_is_unauthenticated(garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(garbage)


@pytest.mark.parametrize("missing", ["exp", "iat", "sub"])
def test_token_missing_a_required_claim_is_unauthenticated(missing: str) -> None:
    claims = {
        "sub": "dev",
        "scopes": [],
        "iss": "waitpoints",
        "aud": "waitpoints",
        "iat": NOW_MS // 1000,
        "exp": NOW_MS // 1000 + 3600,
    }
    del claims[missing]
    token = jwt.encode(claims, _subkey(K1, b"waitpoints/jwt/v1"), algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(token)


@pytest.mark.parametrize(
    ("claim", "value"),
    [("iss", "trigger.dev"), ("aud", "someone-else"), ("scopes", "write:waitpoints"), ("scopes", [1])],
)
def test_token_with_wrong_issuer_audience_or_scopes_is_unauthenticated(claim: str, value: object) -> None:
    claims: dict[str, object] = {
        "sub": "dev",
        "scopes": [],
        "iss": "waitpoints",
        "aud": "waitpoints",
        "iat": NOW_MS // 1000,
        "exp": NOW_MS // 1000 + 3600,
    }
    claims[claim] = value
    token = jwt.encode(claims, _subkey(K1, b"waitpoints/jwt/v1"), algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated):
        keys().verify_access_token(token)


def test_callback_hash_cannot_stand_in_for_a_jwt_signature() -> None:
    """The two purposes use different subkeys, so neither credential can be forged from the other."""
    ring = keys()
    token_id = new_token_id()
    header, payload, _ = ring.mint_access_token("dev", token_id, NOW_MS).split(".")
    with pytest.raises(Unauthenticated):
        ring.verify_access_token(f"{header}.{payload}.{ring.callback_hash(token_id)}")


# --- scopes --------------------------------------------------------------------------------------------


def test_scope_for_the_token_allows_completing_it() -> None:
    token_id = new_token_id()
    assert scope_allows_completion((f"write:waitpoints:{token_id}",), token_id)


def test_scope_for_another_token_does_not() -> None:
    assert not scope_allows_completion((f"write:waitpoints:{new_token_id()}",), new_token_id())


def test_blanket_write_scope_allows_any_token() -> None:
    assert scope_allows_completion(("write:waitpoints",), new_token_id())


@pytest.mark.parametrize("scope", ["read:waitpoints", "write:waitpoints:*", "write:waitpoint", "write:runs", ""])
def test_other_scopes_do_not(scope: str) -> None:
    token_id = new_token_id()
    assert not scope_allows_completion((scope,), token_id)
    assert not scope_allows_completion((), token_id)


def test_scope_matching_is_exact_not_prefix() -> None:
    token_id = new_token_id()
    assert not scope_allows_completion((f"write:waitpoints:{token_id}x",), token_id)
    assert not scope_allows_completion((f"write:waitpoints:{token_id[:-1]}",), token_id)
