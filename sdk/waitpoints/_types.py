"""The SDK's typed models, parsed from the API's JSON (camelCase on the wire, snake_case here)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ._exceptions import WaitpointRejectedError, WaitpointTimeoutError, WaitTimeoutError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = [
    "CreatedToken",
    "HasId",
    "TimeoutType",
    "Token",
    "TokenOrId",
    "TokenPage",
    "TokenStatus",
    "WaitResult",
]

T = TypeVar("T")


class TokenStatus(enum.StrEnum):
    """A token's status, as on the wire."""

    WAITING = "WAITING"
    COMPLETED = "COMPLETED"
    TIMED_OUT = "TIMED_OUT"
    REJECTED = "REJECTED"  # a list filter only: a rejected token reads COMPLETED, with `Token.rejected`


class HasId(Protocol):
    """Anything with a token ``id``: a ``CreatedToken`` or a ``Token``."""

    @property
    def id(self) -> str: ...


TokenOrId = str | HasId
"""What every method that names a token accepts: the id (``waitpoint_…``) or an object with ``.id``."""

TimeoutType = str | datetime | timedelta
"""A token's timeout: a duration (``"10m"``, ``"1h30m"``, ``"2w3d"``), an aware ``datetime``, or a ``timedelta``."""


class WireError(ValueError):
    """A response body that does not have the documented shape (turned into APIResponseValidationError)."""


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise WireError(f"'{name}' should be a string, got {type(value).__name__}")
    return value


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    return None if data.get(name) is None else _str(data, name)


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date-time from the API (``2026-11-23T21:10:58.480Z``) → an aware ``datetime`` in UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise WireError(f"not an ISO 8601 date-time: {text!r}") from error
    if value.tzinfo is None:
        raise WireError(f"date-time without a UTC offset: {text!r}")
    return value.astimezone(UTC)


def _optional_datetime(data: Mapping[str, Any], name: str) -> datetime | None:
    text = _optional_str(data, name)
    return None if text is None else parse_datetime(text)


def parse_output(output: str, output_type: str | None) -> Any:
    """A stored output → its value, as Trigger.dev's SDK reads it.

    ``application/json`` is JSON text; ``application/super+json`` (Trigger.dev's own store) is superjson
    ``{"json": value}``; ``text/plain`` and anything else is the text itself. JSON that does not parse is
    returned as text rather than lost.
    """
    kind = (output_type or "application/json").split(";")[0].strip().lower()
    if kind not in ("application/json", "application/super+json"):
        return output
    try:
        value = json.loads(output)
    except ValueError:
        return output
    if kind == "application/super+json" and isinstance(value, dict):
        return value.get("json")
    return value


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """What ``create_token`` returns.

    Attributes
    ----------
    id:
        The token id, ``waitpoint_…``.
    url:
        The callback URL: POST a body to it to complete the token; no API key needed.
    is_cached:
        True when an idempotency key matched an existing token, which is returned instead of a new one.
    public_access_token:
        A JWT that can complete this one token (give it to a browser); valid for 24 hours.
    approval_url:
        For a token created with ``approval``: its approval page, to send to a person (an e-mail, a chat).
        Opening it changes nothing; only its Approve and Reject buttons do. ``None`` otherwise.
    """

    id: str
    url: str
    is_cached: bool
    public_access_token: str = field(repr=False)  # a credential: kept out of logs
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    approval_url: str | None = field(default=None, repr=False)  # a credential too

    @classmethod
    def from_wire(cls, data: Any, jwt_header: str | None = None) -> CreatedToken:
        if not isinstance(data, dict):
            raise WireError("the create response should be a JSON object")
        cached = data.get("isCached")
        if not isinstance(cached, bool):
            raise WireError("'isCached' should be a boolean")
        access = _optional_str(data, "publicAccessToken") or jwt_header
        if not access:
            raise WireError("no 'publicAccessToken' in the body and no x-trigger-jwt header")
        return cls(_str(data, "id"), _str(data, "url"), cached, access, dict(data), _optional_str(data, "approvalUrl"))

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON for this token (camelCase), as the server sent it."""
        return dict(self.raw)


@dataclass(frozen=True, slots=True)
class Token:
    """A token as ``retrieve_token`` returns it (and ``list_tokens``, without the output).

    Dates are aware ``datetime`` objects in UTC. ``output`` is already parsed: the JSON value the token was
    completed with, or the text for a text body; ``None`` while waiting, when completed with no data, and
    in list results. A timed-out token has ``error`` (a ``WaitpointTimeoutError``) instead of an output; a
    rejected one (``rejected``, its status reads ``COMPLETED`` as in Trigger.dev) has a ``WaitpointRejectedError``
    with the ``reject_reason`` and the rejection's data.
    """

    id: str
    url: str
    status: TokenStatus
    created_at: datetime
    tags: tuple[str, ...] = ()
    timeout_at: datetime | None = None
    completed_at: datetime | None = None
    idempotency_key: str | None = None
    idempotency_key_expires_at: datetime | None = None
    output: Any = None
    output_type: str | None = None
    error: WaitpointTimeoutError | WaitpointRejectedError | None = field(default=None, compare=False)
    description: str | None = None
    """What the token waits for, as given on create (retrieve only: list results leave it out)."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    rejected: bool = False
    reject_reason: str | None = None

    @property
    def is_final(self) -> bool:
        """True once the token is ``COMPLETED`` or ``TIMED_OUT``; it never changes after that."""
        return self.status is not TokenStatus.WAITING

    @property
    def audit(self) -> dict[str, Any] | None:
        """How a final token ended, as retrieve returns it (``door``, ``action``, ``at``, and ``keyId`` /
        ``sourceIp`` / ``userAgent`` when known); ``None`` while waiting, in list results, and from servers
        without audit records."""
        audit = self.raw.get("audit")
        return dict(audit) if isinstance(audit, dict) else None

    @property
    def waiters(self) -> list[dict[str, Any]] | None:
        """The workflows waiting on the token, as retrieve returns them with a secret key: each ``kind``
        (``stepFunctions`` or ``durable``), ``digest`` (the first 12 hex digits of the SHA-256 of its task token
        or callback id, never the handle itself), ``attachedAt`` and, for a resumed durable waiter,
        ``resumedAt``. At most 100 (``waiters_truncated`` says there are more); ``[]`` for none; ``None`` in
        list results and from servers that do not list waiters."""
        waiters = self.raw.get("waiters")
        if not isinstance(waiters, list):
            return None
        return [dict(w) for w in waiters if isinstance(w, dict)]

    @property
    def waiters_truncated(self) -> bool:
        """True when the token has more waiters than ``waiters`` lists."""
        return self.raw.get("waitersTruncated") is True

    @classmethod
    def from_wire(cls, data: Any) -> Token:
        if not isinstance(data, dict):
            raise WireError("a token should be a JSON object")
        raw_status = data.get("status")
        if not isinstance(raw_status, str) or raw_status not in TokenStatus.__members__:
            raise WireError(f"unknown token status {raw_status!r}")
        status = TokenStatus(raw_status)
        tags = data.get("tags", [])
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise WireError("'tags' should be a list of strings")
        token_id = _str(data, "id")
        timeout_at = _optional_datetime(data, "timeoutAt")
        output_text = _optional_str(data, "output")
        output_type = _optional_str(data, "outputType")
        output: Any = None
        timeout_error: WaitpointTimeoutError | WaitpointRejectedError | None = None
        rejected = data.get("rejected") is True
        reject_reason = _optional_str(data, "rejectReason")
        if rejected:
            detail = parse_output(output_text, output_type) if output_text is not None else None
            detail = detail if isinstance(detail, dict) else {}
            message = detail.get("message")
            timeout_error = WaitpointRejectedError(
                message if isinstance(message, str) else f"Waitpoint {token_id} was rejected",
                token_id=token_id,
                reason=reject_reason,
                data=detail.get("data"),
            )
        elif data.get("outputIsError") is True:
            detail = parse_output(output_text, output_type) if output_text is not None else None
            message = detail.get("message") if isinstance(detail, dict) else None
            text = message if isinstance(message, str) else f"Waitpoint {token_id} timed out"
            timeout_error = WaitpointTimeoutError(text, token_id=token_id, timeout_at=timeout_at)
        elif output_text is not None:
            output = parse_output(output_text, output_type)
        return cls(
            id=token_id,
            url=_str(data, "url"),
            status=status,
            created_at=parse_datetime(_str(data, "createdAt")),
            tags=tuple(tags),
            timeout_at=timeout_at,
            completed_at=_optional_datetime(data, "completedAt"),
            idempotency_key=_optional_str(data, "idempotencyKey"),
            idempotency_key_expires_at=_optional_datetime(data, "idempotencyKeyExpiresAt"),
            output=output,
            output_type=output_type,
            error=timeout_error,
            description=_optional_str(data, "description"),
            raw=dict(data),
            rejected=rejected,
            reject_reason=reject_reason,
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON for this token (camelCase, output as stored text), as the server sent it."""
        return dict(self.raw)


@dataclass(frozen=True, slots=True)
class TokenPage:
    """One page of ``list_tokens``: the tokens and the cursors to the pages beside it.

    Pass ``next_cursor`` as ``after=`` (or ``previous_cursor`` as ``before=``) to ``list_tokens_page`` with
    the same filters to read the next (previous) page. A cursor is ``None`` where there is no such page.
    """

    data: list[Token]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_next_page(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous_page(self) -> bool:
        return self.previous_cursor is not None

    def __iter__(self) -> Iterator[Token]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @classmethod
    def from_wire(cls, data: Any) -> TokenPage:
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise WireError("a list response should be a JSON object with a 'data' list")
        pagination = data.get("pagination", {})
        if not isinstance(pagination, dict):
            raise WireError("'pagination' should be an object")
        return cls(
            [Token.from_wire(item) for item in data["data"]],
            _optional_str(pagination, "next"),
            _optional_str(pagination, "previous"),
            dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON for this page, as the server sent it."""
        return dict(self.raw)


@dataclass(frozen=True, slots=True)
class WaitResult(Generic[T]):
    """What ``for_token`` returns: ``ok`` with the ``output``, or not ``ok`` with the ``error``.

    ``error`` is a ``WaitpointTimeoutError`` when the token timed out, or its subclass ``WaitTimeoutError``
    when ``for_token``'s own timeout ran out first (the token still waits). ``token`` is the token as last
    read. ``unwrap()`` returns the output or raises the error.
    """

    ok: bool
    token: Token
    output: T | None = None
    error: WaitpointTimeoutError | WaitpointRejectedError | None = None

    def unwrap(self) -> T:
        """The output, or raise ``error`` (a ``WaitpointTimeoutError``, or a ``WaitpointRejectedError`` with
        ``.reason`` and ``.data``) when the wait did not complete."""
        if not self.ok:
            assert self.error is not None
            raise self.error
        return self.output  # type: ignore[return-value]  # None is a valid output: "completed with no data"

    @property
    def timed_out(self) -> bool:
        """True when the token itself timed out (status ``TIMED_OUT``)."""
        return self.token.status is TokenStatus.TIMED_OUT

    @property
    def rejected(self) -> bool:
        """True when the token was rejected (``error`` is then a ``WaitpointRejectedError``)."""
        return self.token.rejected

    @classmethod
    def of(cls, token: Token) -> WaitResult[Any]:
        """The result for a final token."""
        if token.status is TokenStatus.COMPLETED and not token.rejected:
            return WaitResult(True, token, token.output)
        error = token.error or WaitpointTimeoutError(
            f"Waitpoint {token.id} timed out", token_id=token.id, timeout_at=token.timeout_at
        )
        return WaitResult(False, token, None, error)

    @classmethod
    def gave_up(cls, token: Token, waited: float) -> WaitResult[Any]:
        """The result when ``for_token``'s own timeout ran out while the token still waits."""
        until = f"; it times out at {format_iso(token.timeout_at)}" if token.timeout_at else ""
        error = WaitTimeoutError(
            f"Gave up waiting for {token.id} after {format_seconds(waited)}: it is still WAITING{until}",
            token_id=token.id,
            timeout_at=token.timeout_at,
        )
        return WaitResult(False, token, None, error)


def tuple_of(values: str | Iterable[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def format_iso(value: datetime) -> str:
    """An aware datetime → the API's ISO form, UTC with milliseconds: ``2026-11-23T21:10:58.480Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a naive datetime is ambiguous; give it a timezone (e.g. tzinfo=UTC): {value!r}")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_seconds(seconds: float) -> str:
    """A length of time for people: ``0.4s``, ``42s``, ``3m05s``, ``2h00m``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
