"""Who is calling: secret keys (cached) and public access tokens → Principal; the environments that exist."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .. import ids
from ..durations import now_ms
from ..errors import InvalidInput, Unauthenticated
from ..models import Principal

if TYPE_CHECKING:
    from ..config import Settings
    from ..keyring import KeyRing
    from ..ports import ApiKeyStore

_KEY_CACHE_ENTRIES = 1024


class Authenticator:
    def __init__(self, store: ApiKeyStore, signing_keys: KeyRing, settings: Settings) -> None:
        self._store = store
        self._signing_keys = signing_keys
        self._cache_seconds = settings.auth_cache_seconds
        self._key_cache: dict[str, tuple[str, float]] = {}
        self._environments: tuple[frozenset[str], float] = (frozenset(), 0.0)

    def authenticate(self, credential: str, *, allow_access_token: bool = False) -> Principal:
        """A secret key (or, where allowed, a public access token) → Principal.

        Known keys are cached for `auth_cache_seconds`, so a revoked key stops working within that time.
        """
        if ids.looks_like_api_key(credential):
            return Principal(env=self._key_env(credential), key_id=ids.hash_api_key(credential)[:16])
        if allow_access_token and credential.count(".") == 2:
            env, scopes = self._signing_keys.get().verify_access_token(credential)
            return Principal(env=env, scopes=scopes)
        raise Unauthenticated("Invalid API key")

    def _key_env(self, key: str) -> str:
        key_hash = ids.hash_api_key(key)
        cached = self._key_cache.get(key_hash)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        env = self._store.get_api_key_env(key_hash)
        if env is None:
            raise Unauthenticated("Invalid API key")
        if len(self._key_cache) >= _KEY_CACHE_ENTRIES:
            self._key_cache.clear()
        self._key_cache[key_hash] = (env, time.monotonic() + self._cache_seconds)
        return env

    def environment_exists(self, env: str) -> bool:
        """Environments come from minted keys. The set is cached like keys are, and re-read on a miss."""
        known, read_at = self._environments
        if env in known and time.monotonic() - read_at < self._cache_seconds:
            return True
        known = frozenset(self._store.environments())
        self._environments = (known, time.monotonic())
        return env in known


def mint_api_key(store: ApiKeyStore, env: str) -> str:
    """A new secret key for `env`; only its hash is stored, the key itself is returned once."""
    if not ids.ENV_NAME.fullmatch(env):
        raise InvalidInput("env: 1 to 32 characters of a-z, 0-9 and '-'")
    key = ids.new_api_key(env)
    store.put_api_key(ids.hash_api_key(key), env, key[: len(env) + 8] + "…", now_ms())
    return key
