"""Tokens: create, retrieve, complete (by API or callback URL), and where large outputs go."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import TYPE_CHECKING, Any

from .. import ids, webhooks
from ..bodies import JSON_TYPE, OFFLOAD_BYTES, Output, check_body_size, output_from_callback, output_from_value
from ..config import COMPLETION_BODY_LIMIT, MAX_LISTED_WAITERS, MAX_TIMEOUT_DAYS
from ..durations import DAY_MS, format_iso, now_ms, parse_duration, parse_instant
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge, TooManyTags, Unauthenticated
from ..models import (
    MAX_TAGS,
    Action,
    Actor,
    CreatedToken,
    Door,
    Principal,
    TokenStatus,
    Waitpoint,
    rejection_error,
)
from ..ports import Completion

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ..config import Settings
    from ..keyring import KeyRing
    from ..models import Audit
    from ..ports import Blobs, TokenReads, WaiterListing
    from ..request_models import CreateTokenRequest

MISSING: Any = object()  # `complete` without data: no output at all (not a null output)


class TokenService:
    def __init__(
        self, store: TokenReads, signing_keys: KeyRing, settings: Settings, blobs: Callable[[], Blobs] | None = None
    ) -> None:
        self._store = store
        self._signing_keys = signing_keys
        self._settings = settings
        self._blobs_factory = blobs
        self._blobs: Blobs | None = None
        self._retention_ms = settings.retention_days * DAY_MS
        # Called with a token's id right after this container's write ended its wait, when workflows wait on it
        # (WaitpointService wires the workflows slice's inline resume here when settings.inline_resume_ms is set).
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
        schema = None
        if request.completion_schema is not None:
            from ..schemas import check_schema

            schema = check_schema(request.completion_schema)
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
            description=request.description,
            webhook_scheme=signature.scheme if signature else None,
            webhook_secret=self._signing_keys.get().seal(signature.secret, token_id) if signature else None,
            schema=schema,
            approval=request.approval.stored() if request.approval is not None else None,
        )
        token_id = self._store.insert_token(token)
        signing = self._signing_keys.get()
        return CreatedToken(
            id=token_id,
            env=env,
            callback_hash=signing.callback_hash(token_id),
            is_cached=token_id != token.id,
            public_access_token=signing.mint_access_token(env, token_id, now),
            approval_hash=signing.approval_hash(token_id) if request.approval is not None else None,
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

    def approval_hash(self, token_id: str) -> str:
        """The credential in a token's approval URL: as strong as the callback hash, and not interchangeable."""
        return self._signing_keys.get().approval_hash(token_id)

    def retrieve(self, env: str, raw_id: str) -> Waitpoint:
        now = now_ms()
        token_id = ids.normalize_token_id(raw_id)
        token = self._store.get_token(token_id) if token_id else None
        if token is None or token.env != env or not token.exists_at(now):
            raise NotFound()
        if token.output_ref is not None:
            token = dataclasses.replace(token, output=self.blobs.get(token.output_ref))
        return token.seen_at(now)

    def retrieve_with_waiters(self, principal: Principal, raw_id: str) -> tuple[Waitpoint, WaiterListing | None]:
        """Retrieve, and for a secret key the token's waiters: one more read (a Query of the token's partition),
        made only once the token was found in the principal's environment, and bounded at MAX_LISTED_WAITERS.
        Any other principal gets None for the waiters and costs the one read of `retrieve`. A waiter is listed
        by its kind, times and a digest of its handle, never the handle (a task token or callback id)."""
        token = self.retrieve(principal.env, raw_id)
        if not principal.is_secret_key:
            return token, None
        return token, self._store.list_waiters(token.id, MAX_LISTED_WAITERS)

    def complete(self, principal: Principal, raw_id: str, data: Any = MISSING, actor: Actor | None = None) -> bool:
        """Complete with `data` (leave it out for no output). A token that is already final is left as it is;
        returns whether this call completed it. `actor` is who did it, for the audit record (by default the
        principal's own door: secret key or public access token).

        Raises NotFound for an unknown token or one of another environment, Forbidden for an access token
        scoped to another token.
        """
        token_id = self._completable_id(principal, raw_id)
        output = None if data is MISSING else output_from_value(data)
        return self._finish(
            token_id, principal.env, output, actor=actor or principal.actor(), checked=None if data is MISSING else data
        )

    def reject(
        self,
        principal: Principal,
        raw_id: str,
        reason: str | None = None,
        data: Any = MISSING,
        actor: Actor | None = None,
    ) -> bool:
        """Reject: the token ends REJECTED with an error output carrying `reason` and `data`. Who may reject,
        and what a token already final does, are as for complete (the first writer wins); returns whether this
        call ended the token."""
        token_id = self._completable_id(principal, raw_id)
        output = output_from_value(rejection_error(reason, data, has_data=data is not MISSING))
        return self._finish(
            token_id, principal.env, output, status=TokenStatus.REJECTED, actor=actor or principal.actor()
        )

    def force_timeout(self, principal: Principal, raw_id: str, actor: Actor | None = None) -> bool:
        """An operator times a waiting token out now (secret key only): first writer wins with the completions.
        Returns whether this call timed it out (False: it was already final, and stays as it was)."""
        token_id = self._operator_id(principal, raw_id)
        now = now_ms()
        expires_at = (now + self._retention_ms) // 1000
        audit = (actor or principal.actor()).did(Action.FORCE_TIMEOUT, now)
        outcome, _ = self._store.force_time_out_token(token_id, principal.env, now, expires_at, audit)
        if outcome is Completion.NOT_FOUND:
            raise NotFound()
        return self._ended(token_id, outcome)

    def extend(self, principal: Principal, raw_id: str, timeout: str | int) -> Waitpoint:
        """Give a waiting token a later deadline (secret key only): a duration from now, an ISO 8601 date-time or
        epoch milliseconds, as on create; in the future, at most MAX_TIMEOUT_DAYS from now, and later than its
        current deadline. Returns the token as it now is. Raises Conflict when it no longer waits."""
        token_id = self._operator_id(principal, raw_id)
        now = now_ms()
        timeout_at = self._timeout_at(timeout, now)
        token = self._store.get_token(token_id)
        if token is None or token.env != principal.env or not token.exists_at(now):
            raise NotFound()
        for _ in range(2):  # the second round only when the token changed between the read and the write
            current = token.seen_at(now)
            if current.status is not TokenStatus.WAITING:
                raise Conflict(f"The waitpoint is no longer waiting ({_wire_status(current)}): it cannot be extended")
            if timeout_at <= current.timeout_at:
                raise InvalidInput(
                    f"timeout: must be later than the token's current timeoutAt ({format_iso(current.timeout_at)})"
                )
            expires_at = (timeout_at + self._retention_ms) // 1000
            outcome, found = self._store.extend_token(current, timeout_at, now, expires_at)
            if outcome is Completion.WON:
                return dataclasses.replace(current, timeout_at=timeout_at, expires_at=expires_at)
            if outcome is Completion.NOT_FOUND or found is None:
                raise NotFound()
            token = found
        raise Conflict("The waitpoint changed while it was being extended; retry")

    @staticmethod
    def _operator_id(principal: Principal, raw_id: str) -> str:
        token_id = ids.normalize_token_id(raw_id)
        if not principal.is_secret_key:
            raise Forbidden("Operator actions need a secret key; a public access token may only complete its token")
        if token_id is None:
            raise NotFound()
        return token_id

    @staticmethod
    def _completable_id(principal: Principal, raw_id: str) -> str:
        token_id = ids.normalize_token_id(raw_id)
        if token_id is None:
            raise NotFound()
        if not principal.can_complete(token_id):
            raise Forbidden("This public access token is not allowed to complete this waitpoint")
        return token_id

    def complete_by_callback(
        self,
        raw_id: str,
        url_hash: str,
        body: bytes,
        headers: Mapping[str, str],
        actor: Actor | None = None,
    ) -> bool:
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
        audit = (actor or Actor(Door.CALLBACK_URL)).did(Action.COMPLETE, now)
        outcome, token = self._store.complete_if_unguarded(token_id, stored, now, expires_at, audit)
        try:
            if outcome is Completion.GUARDED and token is not None:
                outcome = self._guarded_delivery(token, output, stored, body, headers, now, expires_at, audit)
        finally:
            if not outcome.won:
                self._discard(stored)
        if outcome is Completion.NOT_FOUND:
            raise NotFound()
        return self._ended(token_id, outcome)

    def _guarded_delivery(
        self,
        token: Waitpoint,
        output: Output,
        stored: Output,
        body: bytes,
        headers: Mapping[str, str],
        now: int,
        expires_at: int,
        audit: Audit,
    ) -> Completion:
        """A delivery to a guarded token: verified, then judged by its rule (GUARDED: counted, still waiting)
        and its schema, then written."""
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
            return Completion.GUARDED
        if token.schema is not None:
            from ..schemas import validate

            validate(token.schema, value)  # SchemaMismatch (422): the token keeps waiting
        return self._store.complete_token(token.id, None, stored, now, expires_at, audit)

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
        self,
        token_id: str,
        env: str | None,
        output: Output | None,
        status: TokenStatus = TokenStatus.COMPLETED,
        actor: Actor | None = None,
        checked: Any = None,
    ) -> bool:
        """The one write that ends a token. A completion (never a rejection) is first written on the condition
        that the token has no schema: a token without one pays no read and no validator; one with a schema comes
        back from that failed write, `checked` (the data; None without) is validated, then written again."""
        stored = self._store_output(token_id, output) if output is not None else None
        now = now_ms()
        expires_at = (now + self._retention_ms) // 1000
        try:
            if status is TokenStatus.REJECTED and stored is not None:
                audit = actor.did(Action.REJECT, now) if actor else None
                outcome = self._store.reject_token(token_id, env, stored, now, expires_at, audit)
            else:
                audit = actor.did(Action.COMPLETE, now) if actor else None
                outcome, waiting = self._store.complete_if_schemaless(token_id, env, stored, now, expires_at, audit)
                if outcome is Completion.GUARDED and waiting is not None and waiting.schema is not None:
                    from ..schemas import validate

                    validate(waiting.schema, checked)  # SchemaMismatch (422): the token keeps waiting
                    outcome = self._store.complete_token(token_id, env, stored, now, expires_at, audit)
        except BaseException:
            self._discard(stored)
            raise
        if not outcome.won:
            self._discard(stored)
        if outcome is Completion.NOT_FOUND:
            raise NotFound()
        return self._ended(token_id, outcome)

    def _ended(self, token_id: str, outcome: Completion) -> bool:
        """Whether this call's write ended the token; if it did and workflows wait on it, they are resumed now
        (within the inline budget; the stream is the net). A token nothing waits on costs no further request."""
        if outcome is Completion.WON_WAITED_ON and self.after_win is not None:
            self.after_win(token_id)
        return outcome.won


def _wire_status(token: Waitpoint) -> str:
    return "REJECTED" if token.status is TokenStatus.REJECTED else token.status.value


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
