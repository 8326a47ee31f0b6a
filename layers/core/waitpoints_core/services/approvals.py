"""The approval page's slice (issue 15): find a token by its approval URL, then approve or reject it.

The URL's hash is the credential, checked before the table is read (a bad hash costs no read); an unknown token,
one without an approval page, one gone past its retention and a bad hash are the same `NotFound`. A decision is
the API's complete or reject in the token's own environment, so the first writer wins across every door and a
completion is checked against the token's schema exactly as the API checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import ids
from ..durations import now_ms
from ..errors import NotFound
from ..models import Principal

if TYPE_CHECKING:
    from ..keyring import KeyRing
    from ..models import Waitpoint
    from ..ports import TokenStore
    from .tokens import TokenService


class ApprovalService:
    def __init__(self, store: TokenStore, signing_keys: KeyRing, tokens: TokenService) -> None:
        self._store = store
        self._signing_keys = signing_keys
        self._tokens = tokens

    def token(self, raw_id: str, url_hash: str) -> Waitpoint:
        """The token behind an approval URL, as seen now (a passed timeout reads TIMED_OUT); NotFound otherwise."""
        token_id = ids.normalize_token_id(raw_id)
        if token_id is None or not self._hash_matches(token_id, url_hash):
            raise NotFound()
        now = now_ms()
        token = self._store.get_token(token_id)
        if token is None or token.approval is None or not token.exists_at(now):
            raise NotFound()
        return token.seen_at(now)

    def approve(self, token: Waitpoint, data: Any) -> bool:
        """Complete with the form's data (SchemaMismatch when it does not match); whether this call won."""
        return self._tokens.complete(Principal(token.env), token.id, data)

    def reject(self, token: Waitpoint, reason: str) -> bool:
        """Reject with the reason typed ("" for none); whether this call won."""
        return self._tokens.reject(Principal(token.env), token.id, reason or None)

    def _hash_matches(self, token_id: str, url_hash: str) -> bool:
        if self._signing_keys.get().verify_approval_hash(token_id, url_hash):
            return True
        fresh = self._signing_keys.refresh_for_miss()
        return fresh is not None and fresh.verify_approval_hash(token_id, url_hash)
