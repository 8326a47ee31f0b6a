"""Domain models: the stored token and who is calling. Plain dataclasses: no pydantic here.

The request models (pydantic) are in `request_models.py`; only the functions that validate requests import them, so
pydantic stays off the cold path of the callback and stream functions, and a token read from the table is not
validated again on every read. `waitpoints_core.CreateTokenRequest` loads them on first use.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .durations import format_iso
from .signing import scope_allows_completion

MAX_TAGS = 10
MAX_DESCRIPTION = 1000  # characters: create's `description`


class TokenStatus(str, Enum):  # noqa: UP042 - StrEnum would change str() of a status
    WAITING = "WAITING"
    COMPLETED = "COMPLETED"
    TIMED_OUT = "TIMED_OUT"
    REJECTED = "REJECTED"  # a person (or a service) said no; the wire shows it as COMPLETED with an error output


REJECTED_CODE = "WAITPOINT_REJECTED"


class Door(str, Enum):  # noqa: UP042 - the value is what the audit record stores
    """The way a token was ended, as its audit record names it."""

    SECRET_KEY = "secret_key"  # the API with a secret key (the record has the key's id)
    PUBLIC_ACCESS_TOKEN = "public_access_token"  # the API with a token's public access token
    CALLBACK_URL = "callback_url"
    APPROVAL_PAGE = "approval_page"
    CONSOLE = "console"  # the operator console (a secret key, sent with `X-Waitpoints-Door: console`)
    WORKFLOW = "workflow"  # a workflow bridge (a Step Functions or durable function, IAM-authorised)
    SWEEP = "sweep"  # the token's own timeout (the sweep's write, or a read after the deadline)


class Action(str, Enum):  # noqa: UP042
    """What ended a token."""

    COMPLETE = "complete"
    REJECT = "reject"
    TIMEOUT = "timeout"  # its timeout passed
    FORCE_TIMEOUT = "force_timeout"  # an operator timed it out early


AUDIT_IP_CHARS = 45  # an IPv6 address in full
AUDIT_USER_AGENT_CHARS = 256
AUDIT_KEY_ID_CHARS = 16


def _bounded(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = "".join(c for c in text if c.isprintable())[:limit]
    return text or None


@dataclass(frozen=True)
class Actor:
    """Who is ending a token, through which door: what a door hands `complete`/`reject`/`force_timeout`, which
    stamp it into the token's audit record with the same write that ends the token.

    `key_id` is a secret key's id (the first 16 hex digits of its hash, as `ApiKeyInfo` names keys), never the
    key. `source_ip` and `user_agent` are the HTTP request's, clipped to bounded lengths. The approval page passes
    `Actor(Door.APPROVAL_PAGE, source_ip=..., user_agent=...)`; a workflow bridge `Actor(Door.WORKFLOW)`.
    """

    door: Door
    key_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_id", _bounded(self.key_id, AUDIT_KEY_ID_CHARS))
        object.__setattr__(self, "source_ip", _bounded(self.source_ip, AUDIT_IP_CHARS))
        object.__setattr__(self, "user_agent", _bounded(self.user_agent, AUDIT_USER_AGENT_CHARS))

    def did(self, action: Action, at: int) -> Audit:
        return Audit(self.door, action, at, self.key_id, self.source_ip, self.user_agent)


@dataclass(frozen=True)
class Audit:
    """How a token ended: the door, the action, when (epoch ms), and for HTTP doors the caller's key id, source
    IP and user agent. Stored with the terminal write itself."""

    door: Door
    action: Action
    at: int
    key_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as the API and lifecycle events show it: door, action, at (ISO), and keyId / sourceIp /
        userAgent when known."""
        body: dict[str, Any] = {"door": self.door.value, "action": self.action.value, "at": format_iso(self.at)}
        for name, value in (("keyId", self.key_id), ("sourceIp", self.source_ip), ("userAgent", self.user_agent)):
            if value is not None:
                body[name] = value
        return body


SWEEP = Actor(Door.SWEEP)


@dataclass(slots=True)
class Waitpoint:
    """A token as stored. Read it through `seen_at(now)`, which applies a timeout that has passed.

    Treated as immutable (change it with `dataclasses.replace`) but not `frozen`: a list page builds 26 of them,
    and a frozen dataclass's `__init__` sets each of the 20 fields through `object.__setattr__`, three times the
    cost (`make bench`).
    """

    id: str
    env: str
    status: TokenStatus
    created_at: int
    timeout_at: int
    expires_at: int  # the DynamoDB TTL, epoch seconds: at or after it the token no longer exists
    tags: list[str] = field(default_factory=list)
    completed_at: int | None = None
    idempotency_key: str | None = None
    idempotency_key_expires_at: int | None = None
    output: str | None = None
    output_type: str | None = None
    output_is_error: bool = False
    output_ref: str | None = None  # S3 key of an output too large for the item
    output_size: int | None = None
    complete_when: dict[str, list[Any]] | None = None
    webhook_scheme: str | None = None
    webhook_secret: bytes | None = field(default=None, repr=False)  # sealed (signing.SigningKeys.seal)
    deliveries: int = 0  # callbacks received that did not complete the token
    last_delivery_at: int | None = None
    description: str | None = None  # what the token waits for (create's `description`); not in list pages
    audit: Audit | None = None  # how it ended (None while waiting, and for tokens ended before audit records)
    schema: str | None = None  # the completion schema's canonical JSON text (schemas.check_schema)
    approval: dict[str, Any] | None = None  # the approval page's texts (title, description, labels, reasonRequired)
    shard: int = 0  # the list shard it was written to (storage placement: see dynamodb/codecs.py)

    @property
    def guarded(self) -> bool:
        """Whether a callback needs this token's rule or signature check before it may complete it."""
        return self.complete_when is not None or self.webhook_scheme is not None or self.schema is not None

    @property
    def rejection(self) -> dict[str, Any] | None:
        """A rejected token's reason and data, from its error output (None for any other token)."""
        if self.status is not TokenStatus.REJECTED or self.output is None:
            return None
        try:
            error = json.loads(self.output)
        except ValueError:
            return {}
        return {k: error[k] for k in ("reason", "data") if isinstance(error, dict) and k in error}

    def exists_at(self, now_ms: int) -> bool:
        return self.expires_at * 1000 > now_ms

    def seen_at(self, now_ms: int) -> Waitpoint:
        """A WAITING token whose timeout has passed reads as TIMED_OUT, whatever the table says yet."""
        if self.status is TokenStatus.WAITING and self.timeout_at <= now_ms:
            return dataclasses.replace(self, **timed_out_fields(self.timeout_at))
        return self


def rejection_error(reason: str | None, data: Any = None, *, has_data: bool = False) -> dict[str, Any]:
    """A rejected token's output: an error object (what Trigger.dev's SDK reads as `error.message`)."""
    error: dict[str, Any] = {
        "code": REJECTED_CODE,
        "message": f"Waitpoint rejected: {reason}" if reason else "Waitpoint rejected",
    }
    if reason is not None:
        error["reason"] = reason
    if has_data:
        error["data"] = data
    return error


def timed_out_fields(timeout_at: int) -> dict[str, Any]:
    error = {"code": "WAITPOINT_TIMEOUT", "message": f"Waitpoint timed out at {format_iso(timeout_at)}"}
    return {
        "status": TokenStatus.TIMED_OUT,
        "completed_at": timeout_at,
        "output": json.dumps(error, separators=(",", ":")),
        "output_type": "application/json",
        "output_is_error": True,
        "audit": SWEEP.did(Action.TIMEOUT, timeout_at),
    }


@dataclass(frozen=True)
class CreatedToken:
    """What create returns: the token's id, whether an idempotency key found an existing one, and its credentials
    (the callback URL's hash, which the HTTP edge builds the URL around, and the public access token)."""

    id: str
    env: str
    callback_hash: str = field(repr=False)
    is_cached: bool
    public_access_token: str = field(repr=False)
    approval_hash: str | None = field(default=None, repr=False)  # the approval URL's hash, for approval tokens


@dataclass(frozen=True)
class Principal:
    """Who is calling: an environment, with full access (secret key) or only the scopes of an access token."""

    env: str
    scopes: tuple[str, ...] | None = None
    key_id: str | None = None  # a secret key's id (first 16 hex digits of its hash), for audit records

    @property
    def is_secret_key(self) -> bool:
        return self.scopes is None

    def actor(self, source_ip: str | None = None, user_agent: str | None = None, *, console: bool = False) -> Actor:
        """The audit actor of an HTTP request made with this principal's credential."""
        if self.scopes is not None:
            return Actor(Door.PUBLIC_ACCESS_TOKEN, None, source_ip, user_agent)
        return Actor(Door.CONSOLE if console else Door.SECRET_KEY, self.key_id, source_ip, user_agent)

    def can_complete(self, token_id: str) -> bool:
        return self.scopes is None or scope_allows_completion(self.scopes, token_id)
