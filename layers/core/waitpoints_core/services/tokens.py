"""Tokens: create, retrieve, complete (by API or callback URL), and where large outputs go."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import TYPE_CHECKING, Any

from .. import ids, webhooks
from ..bodies import JSON_TYPE, OFFLOAD_BYTES, Output, check_body_size, output_from_callback, output_from_value
from ..config import COMPLETION_BODY_LIMIT, MAX_TIMEOUT_DAYS
from ..durations import DAY_MS, now_ms, parse_duration, parse_instant
from ..errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge, TooManyTags, Unauthenticated
from ..models import MAX_TAGS, CreatedToken, Principal, TokenStatus, Waitpoint, rejection_error
from ..ports import Completion

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ..config import Settings
    from ..keyring import KeyRing
    from ..ports import Blobs, TokenStore
    from ..request_models import CreateTokenRequest

MISSING: Any = object()  # `complete` without data: no output at all (not a null output)


class TokenService:
    def __init__(
        self, store: TokenStore, signing_keys: KeyRing, settings: Settings, blobs: Callable[[], Blobs] | None = None
    ) -> None:
        self._store = store
        self._signing_keys = signing_keys
        self._settings = settings
        self._blobs_factory = blobs
        self._blobs: Blobs | None = None
        self._retention_ms = settings.retention_days * DAY_MS
        # Called with a token's id right after this container's write ended its wait (WaitpointService wires the
        # workflows slice's inline resume here when settings.inline_resume_ms is set).
        self.after_win: Callable[[str], object] | None = None

    def create(self, env: str, request: CreateTokenRequest) -> CreatedToken:
        now = now_ms()
        tags = request.tag_list()
        if len(tags) > MAX_TAGS:
            raise TooManyTags(f"Waitpoints can only have {MAX_TAGS} tags, you're trying to set {len(tags)}.")
        timeout_at = self._timeout_at(request.timeout, now)
        key_expires_at = None
        ttl_ms = self._idempotency_ttl(request.idempotency_key_ttl)
        if request.idempotency_key is not None:
            key_expires_at = now + ttl_ms
        token_id = ids.new_token_id()
        signature = request.webhook_signature
        token = Waitpoint(
            id=token_id,
            env=env,
            status=TokenStatus.WAITING,
            created_at=now,
            timeout_at=timeout_at,
            expires_at=(timeout_at + self._retention_ms) // 1000,
            tags=tags,
            idempotency_key=request.idempotency_key,
            idempotency_key_expires_at=key_expires_at,
            complete_when=request.complete_when,
            webhook_scheme=signature.scheme if signature else None,
            webhook_secret=self._signing_keys.get().seal(signature.secret, token_id) if signature else None,
        )
        token_id = self._store.insert_token(token)
        signing = self._signing_keys.get()
        return CreatedToken(
            id=token_id,
            env=env,
            callback_hash=signing.callback_hash(token_id),
            is_cached=token_id != token.id,
            public_access_token=signing.mint_access_token(env, token_id, now),
        )

    def _idempotency_ttl(self, given: str | None) -> int:
        text = given or self._settings.default_idempotency_ttl
        ttl_ms = parse_duration(text)
        if not ttl_ms:
            raise InvalidInput(f"idempotencyKeyTTL: '{_clip(text)}' is not a duration such as '1h' or '30m'")
        if ttl_ms > self._retention_ms:
            raise InvalidInput(
                f"idempotencyKeyTTL: at most {self._settings.retention_days}d (the token retention period)"
            )
        return ttl_ms

    def _timeout_at(self, timeout: str | int | None, now: int) -> int:
        if timeout is None:
            timeout = self._settings.default_timeout
        if isinstance(timeout, int):
            at = timeout
        else:
            duration = parse_duration(timeout)
            parsed = now + duration if duration is not None else parse_instant(timeout)
            if parsed is None:
                raise InvalidInput(
                    f"timeout: '{_clip(timeout)}' is neither a duration (like '10m' or '1h30m'), "
                    "an ISO 8601 date-time, nor epoch milliseconds"
                )
            at = parsed
        if at <= now:
            raise InvalidInput("timeout: must be in the future")
        if at > now + MAX_TIMEOUT_DAYS * DAY_MS:
            raise InvalidInput(f"timeout: at most {MAX_TIMEOUT_DAYS} days away")
        return at

    def callback_hash(self, token_id: str) -> str:
        """The credential in a token's callback URL (the HTTP edge builds the URL around it)."""
        return self._signing_keys.get().callback_hash(token_id)

    def retrieve(self, env: str, raw_id: str) -> Waitpoint:
        now = now_ms()
        token_id = ids.normalize_token_id(raw_id)
        token = self._store.get_token(token_id) if token_id else None
        if token is None or token.env != env or not token.exists_at(now):
            raise NotFound()
        if token.output_ref is not None:
            token = dataclasses.replace(token, output=self.blobs.get(token.output_ref))
        return token.seen_at(now)

    def complete(self, principal: Principal, raw_id: str, data: Any = MISSING) -> bool:
        """Complete with `data` (leave it out for no output). A token that is already final is left as it is;
        returns whether this call completed it.

        Raises NotFound for an unknown token or one of another environment, Forbidden for an access token
        scoped to another token.
        """
        token_id = self._completable_id(principal, raw_id)
        output = None if data is MISSING else output_from_value(data)
        return self._finish(token_id, principal.env, output)

    def reject(self, principal: Principal, raw_id: str, reason: str | None = None, data: Any = MISSING) -> bool:
        """Reject: the token ends REJECTED with an error output carrying `reason` and `data`. Who may reject,
        and what a token already final does, are as for complete (the first writer wins); returns whether this
        call ended the token."""
        token_id = self._completable_id(principal, raw_id)
        output = output_from_value(rejection_error(reason, data, has_data=data is not MISSING))
        return self._finish(token_id, principal.env, output, status=TokenStatus.REJECTED)

    @staticmethod
    def _completable_id(principal: Principal, raw_id: str) -> str:
        token_id = ids.normalize_token_id(raw_id)
        if token_id is None:
            raise NotFound()
        if not principal.can_complete(token_id):
            raise Forbidden("This public access token is not allowed to complete this waitpoint")
        return token_id

    def complete_by_callback(self, raw_id: str, url_hash: str, body: bytes, headers: Mapping[str, str]) -> bool:
        """The callback URL: the hash is checked first (no table access on a mismatch), then the body.

        One conditional write completes a plain token. A token with a rule or a signature check is returned
        by that write's failure instead; its check then decides between completing (a second write) and
        counting the delivery. Returns whether this call completed the token.
        """
        token_id = ids.normalize_token_id(raw_id)
        if token_id is None or not self._hash_matches(token_id, url_hash):
            raise Unauthenticated("Invalid callback URL: the hash does not match")
        check_body_size(len(body), COMPLETION_BODY_LIMIT, "Callback body")
        output = output_from_callback(body, headers.get("content-type"))
        stored = self._store_output(token_id, output)
        now = now_ms()
        expires_at = (now + self._retention_ms) // 1000
        outcome, token = self._store.complete_if_unguarded(token_id, stored, now, expires_at)
        won = outcome is Completion.WON
        try:
            if outcome is Completion.GUARDED and token is not None:
                won = self._guarded_delivery(token, output, stored, body, headers, now, expires_at)
        finally:
            if not won:
                self._discard(stored)
        if outcome is Completion.NOT_FOUND:
            raise NotFound()
        if won and self.after_win is not None:
            self.after_win(token_id)
        return won

    def _guarded_delivery(
        self,
        token: Waitpoint,
        output: Output,
        stored: Output,
        body: bytes,
        headers: Mapping[str, str],
        now: int,
        expires_at: int,
    ) -> bool:
        if token.webhook_scheme is not None and token.webhook_secret is not None:
            try:
                secret = self._signing_keys.get().unseal(token.webhook_secret, token.id)
            except ValueError as exc:
                raise Unauthenticated(
                    "Webhook signature cannot be verified: the token's secret was sealed "
                    "with a signing key that has been retired"
                ) from exc
            webhooks.verify(token.webhook_scheme, secret, headers, body, now // 1000)
        value = json.loads(output.text) if output.type == JSON_TYPE else output.text
        if token.complete_when is not None and not webhooks.completes(token.complete_when, value):
            self._store.record_delivery(token.id, webhooks.delivery_id(headers, value), now)
            return False
        return self._store.complete_token(token.id, None, stored, now, expires_at) is Completion.WON

    def _store_output(self, token_id: str, output: Output) -> Output:
        """Outputs over OFFLOAD_BYTES go to S3 first, each under a key of its own (so a losing writer never
        overwrites the winner's); the table then holds the reference."""
        output.check_returnable()
        if output.byte_size <= OFFLOAD_BYTES:
            return output
        key = f"outputs/{token_id}/{uuid.uuid4().hex}"
        self.blobs.put(key, output.text)
        return Output("", output.type, ref=key, size=output.byte_size)

    def _discard(self, stored: Output | None) -> None:
        """Delete an uploaded output that did not become the token's (the bucket's expiry is the fallback)."""
        if stored is not None and stored.ref is not None:
            self.blobs.delete(stored.ref)

    @property
    def blobs(self) -> Blobs:
        if self._blobs is None:
            if self._blobs_factory is None:
                raise PayloadTooLarge(f"Outputs over {OFFLOAD_BYTES} bytes need WAITPOINTS_OUTPUT_BUCKET")
            self._blobs = self._blobs_factory()
        return self._blobs

    def _hash_matches(self, token_id: str, url_hash: str) -> bool:
        if self._signing_keys.get().verify_callback_hash(token_id, url_hash):
            return True
        fresh = self._signing_keys.refresh_for_miss()
        return fresh is not None and fresh.verify_callback_hash(token_id, url_hash)

    def _finish(
        self, token_id: str, env: str | None, output: Output | None, status: TokenStatus = TokenStatus.COMPLETED
    ) -> bool:
        stored = self._store_output(token_id, output) if output is not None else None
        now = now_ms()
        expires_at = (now + self._retention_ms) // 1000
        if status is TokenStatus.REJECTED and stored is not None:
            outcome = self._store.reject_token(token_id, env, stored, now, expires_at)
        else:
            outcome = self._store.complete_token(token_id, env, stored, now, expires_at)
        if outcome is not Completion.WON:
            self._discard(stored)
        if outcome is Completion.NOT_FOUND:
            raise NotFound()
        if outcome is Completion.WON and self.after_win is not None:
            self.after_win(token_id)  # resume the waiting workflows now (within a budget; the stream is the net)
        return outcome is Completion.WON


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
