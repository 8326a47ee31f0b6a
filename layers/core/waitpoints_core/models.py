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


class TokenStatus(str, Enum):  # noqa: UP042 - StrEnum would change str() of a status
    WAITING = "WAITING"
    COMPLETED = "COMPLETED"
    TIMED_OUT = "TIMED_OUT"
    REJECTED = "REJECTED"  # a person (or a service) said no; the wire shows it as COMPLETED with an error output


REJECTED_CODE = "WAITPOINT_REJECTED"


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
    shard: int = 0  # the list shard it was written to (storage placement: see dynamodb/codecs.py)

    @property
    def guarded(self) -> bool:
        """Whether a callback needs this token's rule or signature check before it may complete it."""
        return self.complete_when is not None or self.webhook_scheme is not None

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


@dataclass(frozen=True)
class Principal:
    """Who is calling: an environment, with full access (secret key) or only the scopes of an access token."""

    env: str
    scopes: tuple[str, ...] | None = None

    def can_complete(self, token_id: str) -> bool:
        return self.scopes is None or scope_allows_completion(self.scopes, token_id)
