"""``wait.create_token(...)`` and friends: Trigger.dev's ``wait`` API, in Python, on a default client.

The default client is built on first use from ``WAITPOINTS_API_URL`` and ``WAITPOINTS_SECRET_KEY``, or
from ``wait.configure(api_url=..., secret_key=...)``. It is shared by every thread of the process and
keeps its connections open, which suits a Lambda function: build nothing per invocation.

>>> from waitpoints import wait
>>> token = wait.create_token(timeout="10m", tags=["order:42"])
>>> wait.complete_token(token, {"status": "approved"})
True
>>> wait.for_token(token).unwrap()
{'status': 'approved'}

For async code, use ``waitpoints.AsyncClient``, which has the same methods.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ._base import NOT_GIVEN
from ._client import Client
from ._config import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime, timedelta

    from ._pagination import TokenList
    from ._types import CreatedToken, TimeoutType, Token, TokenOrId, TokenPage, TokenStatus, WaitResult

__all__ = [
    "complete_token",
    "configure",
    "create_token",
    "for_token",
    "get_client",
    "list_tokens",
    "list_tokens_page",
    "reject_token",
    "retrieve_token",
]

_lock = threading.Lock()
_client: Client | None = None


def configure(api_url: str | None = None, secret_key: str | None = None, **options: Any) -> Client:
    """Set the default client's settings (any ``Client`` argument); returns the new default client.

    Arguments left out fall back to ``WAITPOINTS_API_URL`` and ``WAITPOINTS_SECRET_KEY``.
    """
    global _client
    client = Client(api_url, secret_key, **options)
    with _lock:
        old, _client = _client, client
    if old is not None:
        old.close()
    return client


def get_client() -> Client:
    """The default client, built from the environment on first use."""
    global _client  # noqa: PLW0603 - the module-level default client, built once
    if _client is None:
        with _lock:
            if _client is None:
                _client = Client()
    return _client


def create_token(
    *,
    timeout: TimeoutType | None = None,
    idempotency_key: str | None = None,
    idempotency_key_ttl: str | timedelta | None = None,
    tags: str | Iterable[str] | None = None,
    schema: Mapping[str, Any] | None = None,
    approval: Mapping[str, Any] | None = None,
) -> CreatedToken:
    """Create a waitpoint token (with a completion ``schema`` and an ``approval`` page if given). See
    ``Client.create_token``."""
    return get_client().create_token(
        timeout=timeout,
        idempotency_key=idempotency_key,
        idempotency_key_ttl=idempotency_key_ttl,
        tags=tags,
        schema=schema,
        approval=approval,
    )


def complete_token(token_or_id: TokenOrId, data: Any = NOT_GIVEN) -> bool:
    """Complete a token with ``data`` (any JSON value); returns ``True``. See ``Client.complete_token``."""
    return get_client().complete_token(token_or_id, data)


def force_timeout_token(token_or_id: TokenOrId) -> bool:
    """Time a waiting token out now (secret key only). See ``Client.force_timeout_token``."""
    return get_client().force_timeout_token(token_or_id)


def extend_token(token_or_id: TokenOrId, timeout: TimeoutType | int) -> datetime:
    """Move a waiting token's timeout later (secret key only). See ``Client.extend_token``."""
    return get_client().extend_token(token_or_id, timeout)


def reject_token(token_or_id: TokenOrId, *, reason: str | None = None, data: Any = NOT_GIVEN) -> bool:
    """Reject a token with ``reason`` and ``data``; returns ``True``. See ``Client.reject_token``."""
    return get_client().reject_token(token_or_id, reason=reason, data=data)


def retrieve_token(token_or_id: TokenOrId) -> Token:
    """Read a token, with its output parsed. See ``Client.retrieve_token``."""
    return get_client().retrieve_token(token_or_id)


def list_tokens(
    *,
    status: TokenStatus | str | Iterable[TokenStatus | str] | None = None,
    tags: str | Iterable[str] | None = None,
    idempotency_key: str | None = None,
    period: str | None = None,
    from_: datetime | int | None = None,
    to: datetime | int | None = None,
    limit: int | None = None,
) -> TokenList:
    """The environment's tokens, newest first, fetched page by page as you iterate. See ``Client.list_tokens``."""
    return get_client().list_tokens(
        status=status, tags=tags, idempotency_key=idempotency_key, period=period, from_=from_, to=to, limit=limit
    )


def list_tokens_page(
    *,
    status: TokenStatus | str | Iterable[TokenStatus | str] | None = None,
    tags: str | Iterable[str] | None = None,
    idempotency_key: str | None = None,
    period: str | None = None,
    from_: datetime | int | None = None,
    to: datetime | int | None = None,
    limit: int | None = None,
    after: str | None = None,
    before: str | None = None,
) -> TokenPage:
    """One page of the list, with its cursors. See ``Client.list_tokens_page``."""
    return get_client().list_tokens_page(
        status=status,
        tags=tags,
        idempotency_key=idempotency_key,
        period=period,
        from_=from_,
        to=to,
        limit=limit,
        after=after,
        before=before,
    )


def for_token(
    token_or_id: TokenOrId,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | timedelta | None = None,
) -> WaitResult[Any]:
    """Wait until the token is completed or times out; ``.unwrap()`` the result. See ``Client.for_token``."""
    return get_client().for_token(token_or_id, poll_interval=poll_interval, timeout=timeout)
