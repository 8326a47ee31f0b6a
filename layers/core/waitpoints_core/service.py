"""WaitpointService: what the API, the callback URL and the workflow bridge do, independent of transport."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import ids, webhooks
from .bodies import (
    JSON_TYPE,
    OFFLOAD_BYTES,
    TEXT_TYPE,
    Output,
    check_body_size,
    output_from_callback,
    output_from_value,
)
from .bridge import OUTPUT_LIMIT, Delivery
from .config import COMPLETION_BODY_LIMIT, MAX_TIMEOUT_DAYS, Settings
from .durations import DAY_MS, format_iso, now_ms, parse_duration, parse_instant
from .errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge, TooManyTags, Unauthenticated
from .listing import (
    AFTER,
    BEFORE,
    Cursor,
    KeyRange,
    ListFilters,
    ListQuery,
    decode_cursor,
    encode_cursor,
    list_sort_key,
)
from .models import MAX_TAGS, CreatedToken, Principal, TokenStatus, Waitpoint
from .storage import Attachment, Completion, Waiter, token_from_image

if TYPE_CHECKING:
    from collections.abc import Callable

    from .keyring import KeyRing
    from .request_models import CreateTokenRequest, WaitForTokenRequest, WorkflowCreateTokenRequest

_MISSING = object()


class Store(Protocol):
    """What the service needs from storage (storage.DynamoDBStore in production)."""

    def insert_token(self, token: Waitpoint) -> str: ...
    def get_token(self, token_id: str) -> Waitpoint | None: ...
    def complete_token(
        self, token_id: str, env: str | None, output: Output | None, now_ms: int, expires_at: int
    ) -> Completion: ...
    def complete_if_unguarded(
        self, token_id: str, output: Output | None, now_ms: int, expires_at: int
    ) -> tuple[Completion, Waitpoint | None]: ...
    def record_delivery(self, token_id: str, delivery_id: str | None, now_ms: int) -> bool: ...
    def get_api_key_env(self, key_hash: str) -> str | None: ...
    def attach_waiter(
        self, token_id: str, env: str | None, task_token: str, now_ms: int
    ) -> tuple[Attachment, Waitpoint | None]: ...
    def waiters(self, token_id: str) -> list[Waiter]: ...
    def delete_waiter(self, waiter: Waiter) -> None: ...
    def environments(self) -> list[str]: ...
    def due_tokens(self, env: str, now_ms: int, limit: int) -> list[tuple[str, int]]: ...
    def time_out_token(self, token_id: str, timeout_at: int, now_ms: int, expires_at: int) -> bool: ...
    def list_tokens(
        self, env: str, filters: ListFilters, keys: KeyRange, forward: bool, limit: int, now_ms: int
    ) -> list[Waitpoint]: ...
    def sync_tag_items(self, token: Waitpoint) -> int: ...


class Blobs(Protocol):
    """Where outputs too large for a DynamoDB item go (blobs.S3Blobs in production)."""

    def put(self, key: str, text: str) -> None: ...
    def get(self, key: str) -> str: ...
    def delete(self, key: str) -> None: ...


class Bridge(Protocol):
    """Resumes Step Functions executions (bridge.StepFunctionsBridge in production)."""

    def succeed(self, task_token: str, output: str) -> Delivery: ...
    def fail(self, task_token: str, error: str, cause: str) -> Delivery: ...


@dataclass(frozen=True)
class TokenPage:
    """One page of a listing, newest first, with the cursors to the neighbouring pages (None: no such page)."""

    tokens: list[Waitpoint]
    next: str | None
    previous: str | None


class ApiKeyStore(Protocol):
    def put_api_key(self, key_hash: str, env: str, hint: str, now_ms: int) -> None: ...


def mint_api_key(store: ApiKeyStore, env: str) -> str:
    """A new secret key for `env`; only its hash is stored, the key itself is returned once."""
    if not ids.ENV_NAME.fullmatch(env):
        raise InvalidInput("env: 1 to 32 characters of a-z, 0-9 and '-'")
    key = ids.new_api_key(env)
    store.put_api_key(ids.hash_api_key(key), env, key[: len(env) + 8] + "…", now_ms())
    return key


class WaitpointService:
    def __init__(
        self,
        store: Store,
        keys: KeyRing,
        settings: Settings,
        bridge: Callable[[], Bridge],
        blobs: Callable[[], Blobs] | None = None,
    ) -> None:
        self._store = store
        self._keys = keys
        self._settings = settings
        self._bridge_factory = bridge
        self._bridge: Bridge | None = None
        self._blobs_factory = blobs
        self._blobs: Blobs | None = None
        self._retention_ms = settings.retention_days * DAY_MS
        self._key_cache: dict[str, tuple[str, float]] = {}
        self._environments: tuple[frozenset[str], float] = (frozenset(), 0.0)

    @property
    def settings(self) -> Settings:
        return self._settings

    # --- authentication -------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None, *, allow_access_token: bool = False) -> Principal:
        """`Authorization: Bearer <secret key>` (or a public access token where allowed) → Principal.

        Known keys are cached for `auth_cache_seconds`, so a revoked key stops working within that time.
        """
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated("Missing API key: send 'Authorization: Bearer <secret key>'")
        if ids.looks_like_api_key(credential):
            return Principal(env=self._key_env(credential))
        if allow_access_token and credential.count(".") == 2:
            env, scopes = self._keys.get().verify_access_token(credential)
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
        if len(self._key_cache) >= 1024:
            self._key_cache.clear()
        self._key_cache[key_hash] = (env, time.monotonic() + self._settings.auth_cache_seconds)
        return env

    # --- tokens ---------------------------------------------------------------------------------------

    def create(self, env: str, request: CreateTokenRequest, base_url: str) -> CreatedToken:
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
            webhook_secret=self._keys.get().seal(signature.secret, token_id) if signature else None,
        )
        token_id = self._store.insert_token(token)
        keys = self._keys.get()
        return CreatedToken(
            id=token_id,
            env=env,
            url=self.callback_url(base_url, token_id),
            is_cached=token_id != token.id,
            public_access_token=keys.mint_access_token(env, token_id, now),
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
            at: int | None = timeout
        else:
            duration = parse_duration(timeout)
            at = now + duration if duration is not None else parse_instant(timeout)
            if at is None:
                raise InvalidInput(
                    f"timeout: '{_clip(timeout)}' is neither a duration (like '10m' or '1h30m'), "
                    "an ISO 8601 date-time, nor epoch milliseconds"
                )
        if at <= now:
            raise InvalidInput("timeout: must be in the future")
        if at > now + MAX_TIMEOUT_DAYS * DAY_MS:
            raise InvalidInput(f"timeout: at most {MAX_TIMEOUT_DAYS} days away")
        return at

    def callback_url(self, base_url: str, token_id: str) -> str:
        base = (self._settings.public_url or base_url).rstrip("/")
        return f"{base}/api/v1/waitpoints/tokens/{token_id}/callback/{self._keys.get().callback_hash(token_id)}"

    def retrieve(self, env: str, raw_id: str) -> Waitpoint:
        now = now_ms()
        token_id = ids.normalize_token_id(raw_id)
        token = self._store.get_token(token_id) if token_id else None
        if token is None or token.env != env or not token.exists_at(now):
            raise NotFound()
        if token.output_ref is not None:
            token = dataclasses.replace(token, output=self.blobs.get(token.output_ref))
        return token.seen_at(now)

    def complete(self, principal: Principal, raw_id: str, data: Any = _MISSING) -> bool:
        """Complete with `data` (leave it out for no output). A token that is already final is left as it is;
        returns whether this call completed it.

        Raises NotFound for an unknown token or one of another environment, Forbidden for an access token
        scoped to another token.
        """
        token_id = ids.normalize_token_id(raw_id)
        if token_id is None:
            raise NotFound()
        if not principal.can_complete(token_id):
            raise Forbidden("This public access token is not allowed to complete this waitpoint")
        output = None if data is _MISSING else output_from_value(data)
        return self._finish(token_id, principal.env, output)

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
                secret = self._keys.get().unseal(token.webhook_secret, token.id)
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
        if self._keys.get().verify_callback_hash(token_id, url_hash):
            return True
        fresh = self._keys.refresh_for_miss()
        return fresh is not None and fresh.verify_callback_hash(token_id, url_hash)

    # --- listing ----------------------------------------------------------------------------------------

    def list_tokens(self, env: str, query: ListQuery) -> TokenPage:
        """One page of `env`'s tokens, newest first, each with its status as seen now.

        `page[before]` wins over `page[after]` (as in Trigger.dev). A cursor only works with the environment
        and filters it was made for; any other cursor is InvalidInput naming the parameter.
        """
        now = now_ms()
        param, text = (BEFORE, query.before) if query.before is not None else (AFTER, query.after)
        cursor = self._read_cursor(text, param, env, query.filters) if text is not None else None
        window = cursor.window if cursor else query.filters.window(now)
        forward = cursor.forward if cursor else True
        found = self._store.list_tokens(env, query.filters, KeyRange.of(window, cursor), forward, query.size + 1, now)
        more = len(found) > query.size
        page = found[: query.size] if forward else found[: query.size][::-1]
        if page:
            first, last = list_sort_key(page[0].created_at, page[0].id), list_sort_key(page[-1].created_at, page[-1].id)
        else:  # an empty page after a cursor still links back across that cursor's boundary
            first = last = cursor.boundary if cursor else None
        has_next = more if forward else cursor is not None
        has_previous = cursor is not None if forward else more

        def link(boundary: str | None, to_older: bool, wanted: bool) -> str | None:
            if not wanted or boundary is None:
                return None
            return encode_cursor(Cursor(boundary, to_older, window), env, query.filters, self._keys.get().sign_cursor)

        return TokenPage([t.seen_at(now) for t in page], link(last, True, has_next), link(first, False, has_previous))

    def _read_cursor(self, text: str, param: str, env: str, filters: ListFilters) -> Cursor:
        def verify(payload: bytes, tag: bytes) -> bool:
            if self._keys.get().verify_cursor(payload, tag):
                return True
            fresh = self._keys.refresh_for_miss()  # a key rotated in by another container
            return fresh is not None and fresh.verify_cursor(payload, tag)

        return decode_cursor(text, param, env, filters, verify)

    def _finish(self, token_id: str, env: str | None, output: Output | None) -> bool:
        stored = self._store_output(token_id, output) if output is not None else None
        now = now_ms()
        outcome = self._store.complete_token(token_id, env, stored, now, (now + self._retention_ms) // 1000)
        if outcome is not Completion.WON:
            self._discard(stored)
        if outcome is Completion.NOT_FOUND:
            raise NotFound()
        return outcome is Completion.WON

    # --- Step Functions ----------------------------------------------------------------------------------

    @property
    def bridge(self) -> Bridge:
        if self._bridge is None:  # created on first use: the API functions never need it
            self._bridge = self._bridge_factory()
        return self._bridge

    def create_for_workflow(self, request: WorkflowCreateTokenRequest) -> CreatedToken:
        """Create a token without an API key (the caller is IAM-authorised to invoke the function)."""
        base_url = self._settings.public_url or self._settings.api_url
        if not base_url:
            raise InvalidInput("the deployment has no WAITPOINTS_API_URL to build callback URLs with")
        if not self._environment_exists(request.environment):
            raise InvalidInput(
                f"environment: '{request.environment}' does not exist; an environment is created "
                "by minting its first secret key (make key ENV=<name>)"
            )
        return self.create(request.environment, request, base_url)

    def _environment_exists(self, env: str) -> bool:
        """Environments come from minted keys. The set is cached like keys are, and re-read on a miss."""
        known, read_at = self._environments
        if env in known and time.monotonic() - read_at < self._settings.auth_cache_seconds:
            return True
        known = frozenset(self._store.environments())
        self._environments = (known, time.monotonic())
        return env in known

    def wait_for_token(self, request: WaitForTokenRequest) -> Attachment:
        """Make a workflow's task token wait on a waitpoint; resume it at once if the token is already final."""
        now = now_ms()
        token_id = ids.normalize_token_id(request.waitpoint_id)
        attachment, token = (
            self._store.attach_waiter(token_id, request.environment, request.task_token, now)
            if token_id
            else (Attachment.NOT_FOUND, None)
        )
        if attachment is Attachment.NOT_FOUND:
            self.bridge.fail(
                request.task_token,
                "Waitpoint.NotFound",
                f"Waitpoint {request.waitpoint_id} does not exist, has expired, or belongs to another environment",
            )
        elif token is not None:
            self._resume(token.seen_at(now), request.task_token)
        return attachment

    def resume_waiters(self, token: Waitpoint) -> dict[Delivery, int]:
        """Resume every execution waiting on a token that stopped waiting. Each waiter is deleted once its
        execution has the outcome (or is gone), so a retry after a failure resumes only the rest."""
        counts = {Delivery.SENT: 0, Delivery.GONE: 0}
        for waiter in self._store.waiters(token.id):
            counts[self._resume(token, waiter.task_token)] += 1
            self._store.delete_waiter(waiter)
        return counts

    def on_item_changed(
        self, old_image: dict[str, Any] | None, new_image: dict[str, Any] | None
    ) -> dict[Delivery, int]:
        """A DynamoDB stream record: when a token stops waiting, resume the executions waiting on it and bring
        its tag items (what tag-filtered listings read) up to date."""
        old, new = token_from_image(old_image), token_from_image(new_image)
        if old is None or new is None or old.status is not TokenStatus.WAITING or new.status is TokenStatus.WAITING:
            return {}
        self.sync_tag_items(new)
        return self.resume_waiters(new)

    def sync_tag_items(self, token: Waitpoint) -> None:
        """Bring a token's tag items up to date after it completed or timed out. Idempotent; a WAITING
        token changes nothing."""
        self._store.sync_tag_items(token)

    def _resume(self, token: Waitpoint, task_token: str) -> Delivery:
        if token.status is TokenStatus.TIMED_OUT:
            return self.bridge.fail(
                task_token, "Waitpoint.TimedOut", f"Waitpoint {token.id} timed out at {format_iso(token.timeout_at)}"
            )
        if token.output_ref is not None:  # only outputs over OFFLOAD_BYTES (> OUTPUT_LIMIT) live in S3
            output, size = "", token.output_size or OFFLOAD_BYTES + 1
        else:
            output = step_functions_output(token)
            size = len(output.encode())
        if size > OUTPUT_LIMIT:
            return self.bridge.fail(
                task_token,
                "Waitpoint.OutputTooLarge",
                f"The output of waitpoint {token.id} is {size} bytes, over Step Functions' {OUTPUT_LIMIT}-byte limit. "
                f"Fetch it with GET /api/v1/waitpoints/tokens/{token.id} instead.",
            )
        return self.bridge.succeed(task_token, output)

    def sweep_timeouts(self, budget_ms: int = 50_000, batch: int = 100) -> int:
        """Persist TIMED_OUT for waiting tokens past their timeout (their stream records then resume the
        waiting workflows). Reads only the due index of each environment. Returns how many it timed out."""
        started = now_ms()
        timed_out = 0
        for env in self._store.environments():
            while now_ms() - started < budget_ms:
                now = now_ms()
                due = self._store.due_tokens(env, now, batch)
                for token_id, timeout_at in due:
                    expires_at = (timeout_at + self._retention_ms) // 1000
                    timed_out += self._store.time_out_token(token_id, timeout_at, now, expires_at)
                if len(due) < batch:
                    break
        return timed_out


def step_functions_output(token: Waitpoint) -> str:
    """A completed token's output as the JSON a workflow receives: JSON as it is, text as a JSON string."""
    if token.output is None:
        return "null"
    if token.output_type == TEXT_TYPE:
        return json.dumps(token.output, ensure_ascii=False)
    return token.output


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
