"""Callback-URL and approval-URL hashes and public access tokens, all keyed by the deployment's signing secret.

The secret (in Secrets Manager) is a JSON object: `{"current": "k1", "k1": "<random>", "k2": "<random>", ...}`.
New URLs and tokens are signed with the current key; every key listed still verifies, so rotating in a new
key never breaks outstanding URLs. Each purpose (callback hashes, approval hashes, JWTs, list cursors) gets its
own subkey (HMAC of the key with a label), so a signature made for one purpose can never be replayed as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
from dataclasses import dataclass, field

from .errors import Unauthenticated

ACCESS_TOKEN_LIFETIME_MS = 24 * 3_600_000
CURSOR_TAG_BYTES = 16
_ISSUER = "waitpoints"
_AUDIENCE = "waitpoints"
_SCOPE_ALL = "write:waitpoints"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact_json(value: object, *, sort_keys: bool = False) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys).encode()


def _subkey(master: bytes, purpose: bytes) -> bytes:
    return hmac.new(master, purpose, hashlib.sha256).digest()


@dataclass(frozen=True)
class SigningKeys:
    """The deployment's signing keys: `current` signs, all of `masters` verify."""

    current: str
    masters: dict[str, bytes]
    _callback: dict[str, bytes] = field(init=False, repr=False)
    _approval: dict[str, bytes] = field(init=False, repr=False)
    _jwt: dict[str, bytes] = field(init=False, repr=False)
    _seal: dict[str, bytes] = field(init=False, repr=False)
    _cursor: dict[str, bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.masters:
            raise ValueError("the current signing key id is not among the keys")
        object.__setattr__(
            self, "_callback", {k: _subkey(m, b"waitpoints/callback/v1") for k, m in self.masters.items()}
        )
        object.__setattr__(
            self, "_approval", {k: _subkey(m, b"waitpoints/approval/v1") for k, m in self.masters.items()}
        )
        object.__setattr__(self, "_jwt", {k: _subkey(m, b"waitpoints/jwt/v1") for k, m in self.masters.items()})
        object.__setattr__(self, "_seal", {k: _subkey(m, b"waitpoints/seal/v1") for k, m in self.masters.items()})
        object.__setattr__(self, "_cursor", {k: _subkey(m, b"waitpoints/cursor/v1") for k, m in self.masters.items()})

    @classmethod
    def from_secret_string(cls, text: str) -> SigningKeys:
        data = json.loads(text)
        current = data.pop("current")
        return cls(current=current, masters={kid: secret.encode() for kid, secret in data.items()})

    def callback_hash(self, token_id: str) -> str:
        """Lowercase hex HMAC-SHA256 of the token id under the current key."""
        return _url_hash(self._callback[self.current], token_id)

    def verify_callback_hash(self, token_id: str, candidate: str) -> bool:
        """True when `candidate` is the hash of `token_id` under any known key; constant time per key."""
        return _verify_url_hash(self._callback, token_id, candidate)

    def approval_hash(self, token_id: str) -> str:
        """The approval page's URL hash: lowercase hex HMAC-SHA256 of the token id under the current key's
        approval subkey. As strong as the callback hash and independent of it: the subkeys are derived with
        different labels, so neither hash tells anything about the other or verifies in its place."""
        return _url_hash(self._approval[self.current], token_id)

    def verify_approval_hash(self, token_id: str, candidate: str) -> bool:
        """True when `candidate` is the approval hash of `token_id` under any known key; constant time per key."""
        return _verify_url_hash(self._approval, token_id, candidate)

    def sign_cursor(self, payload: bytes) -> bytes:
        """A 128-bit HMAC-SHA256 tag of a list cursor's payload under the current key."""
        return hmac.new(self._cursor[self.current], payload, hashlib.sha256).digest()[:CURSOR_TAG_BYTES]

    def verify_cursor(self, payload: bytes, tag: bytes) -> bool:
        """True when `tag` signs `payload` under any known key; constant time per key."""
        matched = False
        for key in self._cursor.values():
            matched |= hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest()[:CURSOR_TAG_BYTES], tag)
        return matched

    def seal(self, plaintext: str, context: str) -> bytes:
        """AES-256-GCM under the current key, bound to `context` (e.g. the token id): `kid \0 nonce ct`."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._seal[self.current]).encrypt(nonce, plaintext.encode(), context.encode())
        return self.current.encode() + b"\0" + nonce + sealed

    def unseal(self, blob: bytes, context: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid, _, rest = blob.partition(b"\0")
        key = self._seal.get(kid.decode(errors="replace"))
        if key is None:
            raise ValueError("sealed with a key that has been retired")
        return AESGCM(key).decrypt(rest[:12], rest[12:], context.encode()).decode()

    def mint_access_token(self, env: str, token_id: str, now_ms: int) -> str:
        """An HS256 JWT for 24 h, scoped to completing one token."""
        iat = now_ms // 1000
        claims = {
            "sub": env,
            "pub": True,
            "scopes": [f"{_SCOPE_ALL}:{token_id}"],
            "iss": _ISSUER,
            "aud": _AUDIENCE,
            "iat": iat,
            "exp": iat + ACCESS_TOKEN_LIFETIME_MS // 1000,
        }
        # Byte for byte what PyJWT's jwt.encode(claims, key, "HS256", headers={"kid": ...}) writes (sorted header,
        # compact JSON), without importing PyJWT on every container's cold path: minting is a plain HMAC.
        header = _compact_json({"alg": "HS256", "kid": self.current, "typ": "JWT"}, sort_keys=True)
        signing_input = f"{_b64url(header)}.{_b64url(_compact_json(claims))}"
        signature = hmac.new(self._jwt[self.current], signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(signature)}"

    def verify_access_token(self, token: str) -> tuple[str, tuple[str, ...]]:
        """(environment, scopes) of a valid token; raises Unauthenticated otherwise."""
        import jwt

        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._jwt.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise Unauthenticated("Public access token is invalid")
            claims = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                issuer=_ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("Public access token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("Public access token is invalid") from exc
        scopes = claims.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise Unauthenticated("Public access token is invalid")
        return str(claims["sub"]), tuple(scopes)


def _url_hash(key: bytes, token_id: str) -> str:
    return hmac.new(key, token_id.encode(), hashlib.sha256).hexdigest()


def _verify_url_hash(keys: dict[str, bytes], token_id: str, candidate: str) -> bool:
    """Compares against every key version, each in constant time, and never stops early."""
    given = candidate.encode("utf-8", "replace")
    matched = False
    for key in keys.values():
        matched |= hmac.compare_digest(_url_hash(key, token_id).encode(), given)
    return matched


def rotated(secret_string: str) -> tuple[str, str]:
    """The secret with a new key added and made current; returns (new secret string, new key id).
    Every older key stays, so outstanding URLs and tokens keep verifying."""
    data = json.loads(secret_string)
    numbers = [int(kid[1:]) for kid in data if kid.startswith("k") and kid[1:].isdigit()]
    kid = f"k{max(numbers, default=0) + 1}"
    alphabet = string.ascii_letters + string.digits
    data[kid] = "".join(secrets.choice(alphabet) for _ in range(64))
    data["current"] = kid
    return json.dumps(data), kid


def retired(secret_string: str, kid: str) -> str:
    """The secret without key `kid`: URLs and access tokens it signed stop working."""
    data = json.loads(secret_string)
    if kid == data["current"]:
        raise ValueError(f"{kid} is the current key; rotate first, then retire it")
    if kid not in data:
        raise ValueError(f"no key {kid}; the keys are {', '.join(k for k in data if k != 'current')}")
    del data[kid]
    return json.dumps(data)


def scope_allows_completion(scopes: tuple[str, ...], token_id: str) -> bool:
    return _SCOPE_ALL in scopes or f"{_SCOPE_ALL}:{token_id}" in scopes
