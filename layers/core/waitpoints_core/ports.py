"""The ports: what the services need from storage, blob storage and the workflows they resume, in domain terms.

The adapters live in `dynamodb/` (the stores) and `aws/` (S3 blobs, Step Functions, durable callbacks); `runtime.py`
wires them in.
Nothing here knows an attribute name, an AWS error code or a boto3 client.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .bodies import Output
    from .listing import KeyRange, ListFilters
    from .models import Audit, Waitpoint


class Completion(Enum):
    """How a completing write ended."""

    WON = "won"  # this write ended the token (or, for extend, moved its deadline)
    WON_WAITED_ON = "won_waited_on"  # it ended the token, and workflows were attached to it: resume them
    ALREADY_FINAL = "already_final"  # completed earlier, or past its timeout
    NOT_FOUND = "not_found"
    GUARDED = "guarded"  # waiting, but a completion must pass the token's rule, signature or schema check first

    @property
    def won(self) -> bool:
        return self in (Completion.WON, Completion.WON_WAITED_ON)


class Attachment(Enum):
    """How attaching a workflow to a token ended."""

    ATTACHED = "attached"  # the token is waiting; its completion will resume the workflow
    FINAL = "final"  # the token is already completed, rejected or timed out
    NOT_FOUND = "not_found"
    ALREADY_ATTACHED = "already_attached"  # this handle was attached before (a replayed submitter): nothing to do


class Delivery(Enum):
    """How resuming one waiting workflow ended."""

    SENT = "sent"
    GONE = "gone"  # the workflow no longer waits on this handle (resumed already, timed out, deleted)


class WaiterKind(Enum):
    """What a waiter's handle resumes."""

    STEP_FUNCTIONS = "sfn"  # a Step Functions task token (SendTaskSuccess / SendTaskFailure)
    DURABLE = "durable"  # a Lambda durable execution's callback id (SendDurableExecutionCallbackSuccess / Failure)


@dataclass(frozen=True)
class Waiter:
    """A workflow waiting on a token: the handle that resumes it, and which kind of handle it is. One token may
    have waiters of both kinds."""

    token_id: str
    handle: str
    kind: WaiterKind = WaiterKind.STEP_FUNCTIONS

    @property
    def task_token(self) -> str:
        """The handle, by its Step Functions name (what a waiter was before it had a kind)."""
        return self.handle


@dataclass(frozen=True)
class WaiterSummary:
    """A waiter as retrieve lists it: never its handle (a task token or a callback id is a credential)."""

    kind: WaiterKind
    digest: str  # the first 12 hex digits of the handle's SHA-256 (what the durable adapter's log lines show)
    attached_at: int | None  # epoch ms (None only for an item written without it, which no release did)
    resumed_at: int | None = None  # a durable waiter once resumed (a Step Functions waiter is deleted instead)


@dataclass(frozen=True)
class WaiterListing:
    """A token's waiters, at most the limit asked for: `truncated` when the token has more."""

    waiters: tuple[WaiterSummary, ...]
    truncated: bool = False


@dataclass(frozen=True)
class ApiKeyInfo:
    """A secret key as the registry lists it: never the key, never its full hash."""

    key_id: str  # the first 16 hex digits of the key's hash: enough to name it, useless to authenticate
    env: str
    hint: str  # the key's first characters, e.g. "wp_dev_Jl5H…"
    created_at: int


@dataclass(frozen=True)
class TokenChange:
    """A token's state before and after one write (from the table's change stream); None where it did not exist."""

    old: Waitpoint | None
    new: Waitpoint | None

    @property
    def token_id(self) -> str | None:
        token = self.new or self.old
        return token.id if token else None


class TokenStore(Protocol):
    def insert_token(self, token: Waitpoint) -> str: ...
    def get_token(self, token_id: str) -> Waitpoint | None: ...
    # Every write that ends a token takes the audit record (models.Audit) it stores with that same write.
    def complete_token(
        self,
        token_id: str,
        env: str | None,
        output: Output | None,
        now_ms: int,
        expires_at: int,
        audit: Audit | None = None,
    ) -> Completion: ...
    def complete_if_unguarded(
        self, token_id: str, output: Output | None, now_ms: int, expires_at: int, audit: Audit | None = None
    ) -> tuple[Completion, Waitpoint | None]: ...
    def complete_if_schemaless(
        self,
        token_id: str,
        env: str | None,
        output: Output | None,
        now_ms: int,
        expires_at: int,
        audit: Audit | None = None,
    ) -> tuple[Completion, Waitpoint | None]: ...
    def reject_token(
        self,
        token_id: str,
        env: str | None,
        output: Output,
        now_ms: int,
        expires_at: int,
        audit: Audit | None = None,
    ) -> Completion: ...
    def record_delivery(self, token_id: str, delivery_id: str | None, now_ms: int) -> bool: ...
    def time_out_token(self, token_id: str, timeout_at: int, now_ms: int, expires_at: int) -> Completion: ...
    def force_time_out_token(
        self, token_id: str, env: str, now_ms: int, expires_at: int, audit: Audit
    ) -> tuple[Completion, Waitpoint | None]: ...
    def extend_token(
        self, token: Waitpoint, timeout_at: int, now_ms: int, expires_at: int
    ) -> tuple[Completion, Waitpoint | None]: ...


class ApiKeyStore(Protocol):
    def get_api_key_env(self, key_hash: str) -> str | None: ...
    def put_api_key(self, key_hash: str, env: str, hint: str, now_ms: int) -> None: ...
    def environments(self) -> list[str]: ...


class WaiterStore(Protocol):
    def attach_waiter(
        self,
        token_id: str,
        env: str | None,
        task_token: str,
        now_ms: int,
        kind: WaiterKind = WaiterKind.STEP_FUNCTIONS,
    ) -> tuple[Attachment, Waitpoint | None]: ...
    def waiters(self, token_id: str) -> list[Waiter]: ...  # those still to resume
    def token_with_waiters(self, token_id: str) -> tuple[Waitpoint | None, list[Waiter]]: ...  # one read
    def list_waiters(self, token_id: str, limit: int) -> WaiterListing: ...  # all (resumed too), at most `limit`
    def delete_waiter(self, waiter: Waiter) -> None: ...
    def mark_resumed(self, waiter: Waiter, now_ms: int) -> None: ...  # resumed: a later attach of it is a no-op


class TokenReads(TokenStore, WaiterStore, Protocol):
    """What the tokens slice needs: the tokens, and their waiters (retrieve lists them)."""


class ListingStore(Protocol):
    def list_tokens(
        self, env: str, filters: ListFilters, keys: KeyRange, forward: bool, limit: int, now_ms: int
    ) -> list[Waitpoint]: ...
    def sync_tag_items(self, token: Waitpoint) -> int: ...


class DueIndex(Protocol):
    def due_shards(self, env: str) -> int: ...
    def due_tokens(self, env: str, now_ms: int, limit: int, shard: int = 0) -> list[tuple[str, int]]: ...


class Store(TokenStore, ApiKeyStore, WaiterStore, ListingStore, DueIndex, Protocol):
    """Everything the services need from storage (dynamodb.DynamoDBStore in production)."""


class EventPublisher(Protocol):
    """Where lifecycle events go (aws.eventbridge.EventBridgePublisher in production)."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Publish one event; raises (Unavailable) unless the bus accepted it."""
        ...


class Blobs(Protocol):
    """Where outputs too large for a token item go (aws.s3.S3Blobs in production)."""

    def put(self, key: str, text: str) -> None: ...
    def get(self, key: str) -> str: ...
    def delete(self, key: str) -> None: ...


class ResumeTarget(Protocol):
    """Resumes waiting workflows by their handle: aws.stepfunctions.StepFunctionsBridge (task tokens) and
    aws.durable.LambdaDurableCallbacks (durable callback ids). `details` (a rejection's reason and data, a
    timeout's time) are for targets that carry structured error data; others may ignore them."""

    output_limit: int  # the largest output (bytes of UTF-8) `succeed` may send

    def succeed(self, handle: str, output: str) -> Delivery: ...
    def fail(self, handle: str, error: str, cause: str, details: Mapping[str, Any] | None = None) -> Delivery: ...
