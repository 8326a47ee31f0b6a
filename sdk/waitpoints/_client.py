"""``Client`` (on ``httpx.Client``) and ``AsyncClient`` (on ``httpx.AsyncClient``): the same methods, with
the same arguments; they differ only in how they send and sleep. Everything else is in ``_base``."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._base import NOT_GIVEN, APICall, BaseClient, NotGiven, list_params, token_id
from ._config import DEFAULT_MAX_RETRIES, DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT, RetryPolicy, TimeoutTypes
from ._pagination import AsyncTokenList, TokenList
from ._polling import Fetch, poll
from ._subscription import await_for, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType
    from typing import Self

    from ._types import CreatedToken, TimeoutType, Token, TokenOrId, TokenPage, TokenStatus, WaitResult

T = TypeVar("T")


class Client(BaseClient):
    """A synchronous client for the waitpoints API. Reuses connections; close it (or use ``with``) when done.

    Parameters
    ----------
    api_url:
        The API's base URL, such as ``https://abc123.execute-api.eu-west-1.amazonaws.com``. Default: the
        ``WAITPOINTS_API_URL`` environment variable.
    secret_key:
        An environment's secret key (``wp_<env>_…``), or a token's public access token (which can only
        complete that token). Default: ``WAITPOINTS_SECRET_KEY``.
    timeout:
        Seconds, or an ``httpx.Timeout``, for each HTTP request. Default: 5 s to connect, 30 s otherwise.
    max_retries:
        How many times a request is retried on 429, 5xx or a network error, with exponential backoff
        (``Retry-After`` is honoured). Other errors are never retried. Default 3.
    retry_policy:
        The full retry settings (``waitpoints.RetryPolicy``), instead of ``max_retries``.
    headers:
        Extra headers for every request.
    http_client:
        An ``httpx.Client`` to send with (for proxies, custom transports, tests). It is not closed by ``close()``.
    ws_url:
        The WebSocket API's URL (``wss://…/live``; the local stack's is ``WAITPOINTS_WS_URL`` in
        ``.waitpoints/local.env``). With it and the ``realtime`` extra, ``for_token`` subscribes instead of
        polling. Default: ``WAITPOINTS_WS_URL``.

    Examples
    --------
    >>> from waitpoints import Client
    >>> with Client() as client:                                   # WAITPOINTS_API_URL / WAITPOINTS_SECRET_KEY
    ...     token = client.create_token(timeout="1h", tags=["order:42"])
    ...     client.complete_token(token, {"status": "approved"})
    ...     client.retrieve_token(token).output
    {'status': 'approved'}
    """

    def __init__(
        self,
        api_url: str | None = None,
        secret_key: str | None = None,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
        ws_url: str | None = None,
    ) -> None:
        super().__init__(
            api_url=api_url,
            secret_key=secret_key,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            headers=headers,
            ws_url=ws_url,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(follow_redirects=False)

    # --- the API ----------------------------------------------------------------------------------

    def create_token(
        self,
        *,
        timeout: TimeoutType | None = None,
        idempotency_key: str | None = None,
        idempotency_key_ttl: str | timedelta | None = None,
        tags: str | Iterable[str] | None = None,
        description: str | None = None,
        schema: Mapping[str, Any] | None = None,
        approval: Mapping[str, Any] | None = None,
    ) -> CreatedToken:
        """Create a waitpoint token.

        Parameters
        ----------
        timeout:
            When the token times out: a duration (``"10m"``, ``"1h30m"``, ``"2w3d"``), an aware ``datetime``,
            or a ``timedelta``. At most 365 days. Default: the deployment's (``10m``).
        idempotency_key:
            While this key is live, creating with it again returns the same token with ``is_cached=True``.
        idempotency_key_ttl:
            How long the key lives: a duration or a ``timedelta``. Default: the deployment's (``1h``).
        tags:
            Up to 10 tags, each at most 128 characters.
        description:
            What the token waits for, up to 1,000 characters ("Waiting for approval"); retrieve returns it.
        schema:
            A JSON Schema (draft 2020-12) the completion data must match; a mismatch is an
            ``UnprocessableEntityError`` (422) and the token keeps waiting.
        approval:
            An approval page: ``{"title": ..., "description"?, "approveLabel"?, "rejectLabel"?,
            "reasonRequired"?}``; the result's ``approval_url`` is the page to send to a person.

        Returns
        -------
        CreatedToken
            ``id``, ``url`` (the callback URL), ``is_cached``, ``public_access_token`` and ``approval_url``.
        """
        return self._send(
            self._create_call(
                timeout=timeout,
                idempotency_key=idempotency_key,
                idempotency_key_ttl=idempotency_key_ttl,
                tags=tags,
                description=description,
                schema=schema,
                approval=approval,
            )
        )

    def retrieve_token(self, token_or_id: TokenOrId) -> Token:
        """Read a token: its status, dates, tags and parsed ``output`` (or ``error`` once it timed out).

        Raises ``NotFoundError`` when there is no such token in this key's environment.
        """
        return self._send(self._retrieve_call(token_or_id))

    def complete_token(self, token_or_id: TokenOrId, data: Any = NOT_GIVEN) -> bool:
        """Complete a token with ``data`` (any JSON value), which becomes its output; returns whether this call
        completed it (``False``: it was already completed or timed out, and nothing changed).

        Leave ``data`` out to complete with no output. Completing a token that is already completed or
        timed out succeeds and changes nothing: the first completion wins. (A server that does not say, such as
        Trigger.dev's, always gives ``True``.) Works with a token's public
        access token as the client's ``secret_key``.
        """
        return self._send(self._complete_call(token_or_id, data))

    def force_timeout_token(self, token_or_id: TokenOrId) -> bool:
        """Time a waiting token out now (a secret key only): waiters get ``Waitpoint.TimedOut``. Returns whether
        this call timed it out; a token already completed or timed out is left as it is (the first writer wins).
        """
        return self._send(self._force_timeout_call(token_or_id))

    def extend_token(self, token_or_id: TokenOrId, timeout: TimeoutType | int) -> datetime:
        """Move a waiting token's timeout later (a secret key only): a duration from now (``"1h"``, a
        ``timedelta``), a ``datetime``, or epoch milliseconds; at most 365 days away. Returns the new
        ``timeout_at``. Raises ``ConflictError`` (409) when the token no longer waits."""
        return self._send(self._extend_call(token_or_id, timeout))

    def reject_token(self, token_or_id: TokenOrId, *, reason: str | None = None, data: Any = NOT_GIVEN) -> bool:
        """Reject a token: it ends with a ``WaitpointRejectedError`` carrying ``reason`` (at most 1,000
        characters) and ``data`` (any JSON value); returns ``True``. The first writer wins across complete,
        reject and the timeout: rejecting a token already final succeeds and changes nothing."""
        return self._send(self._reject_call(token_or_id, reason, data))

    def list_tokens(
        self,
        *,
        status: TokenStatus | str | Iterable[TokenStatus | str] | None = None,
        tags: str | Iterable[str] | None = None,
        idempotency_key: str | None = None,
        period: str | None = None,
        from_: datetime | int | None = None,
        to: datetime | int | None = None,
        limit: int | None = None,
    ) -> TokenList:
        """The tokens of this environment, newest first, as a lazy iterator that fetches pages as needed.

        Parameters
        ----------
        status:
            One status or several (``"WAITING"``, ``TokenStatus.COMPLETED``, ...): any of them.
        tags:
            One tag or several: tokens with any of them.
        idempotency_key:
            Only the token created with this idempotency key.
        period:
            Created within this long before now: ``"1h"``, ``"1d"``, ``"7d"``, ``"30d"``...
        from_, to:
            Created at or after / at or before: an aware ``datetime`` or epoch milliseconds.
        limit:
            The page size, 1 to 100 (the server's default is 25). To stop after N tokens, use
            ``itertools.islice(client.list_tokens(...), N)``.

        Examples
        --------
        >>> for token in client.list_tokens(status="WAITING", tags=["user:123"]):
        ...     print(token.id, token.created_at)
        >>> for page in client.list_tokens(limit=50).pages():
        ...     print(len(page.data), page.next_cursor)
        """
        params = list_params(
            status=status, tags=tags, idempotency_key=idempotency_key, period=period, from_=from_, to=to, limit=limit
        )
        return TokenList(self._fetch_page, params)

    def list_tokens_page(
        self,
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
        """One page of ``list_tokens``. Pass a page's ``next_cursor`` as ``after`` (or ``previous_cursor`` as
        ``before``), with the same filters, for the page beside it."""
        return self._fetch_page(
            list_params(
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
        )

    def for_token(
        self,
        token_or_id: TokenOrId,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta | None = None,
        realtime: bool = True,
    ) -> WaitResult[Any]:
        """Wait until the token is completed or times out; returns a ``WaitResult``.

        With a WebSocket URL (``ws_url`` or ``WAITPOINTS_WS_URL``) and the ``realtime`` extra it subscribes to
        the token, so a completion arrives at once with no request in between; if the subscription cannot be
        made or ends, it polls for the time left. ``realtime=False`` always polls. The result is the same.

        The waits between reads start at a quarter second and double up to ``poll_interval`` seconds; a
        read is made just after the token's own timeout, so a timeout is seen at once. ``timeout`` (seconds
        or a ``timedelta``) bounds this wait: when it runs out first, the result is not ``ok`` and its
        ``error`` is a ``WaitTimeoutError``. ``.unwrap()`` returns the output or raises the error.

        Examples
        --------
        >>> approval = client.for_token(token, timeout=3600).unwrap()
        """
        tid, limit, started = token_id(token_or_id), _seconds(timeout), time.monotonic()
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval!r}")
        if realtime and self.ws_url:
            live = wait_for(
                self.ws_url, self._secret_key, tid, timeout=limit, started=started, retrieve=self.retrieve_token
            )
            if live is not None:
                return live
        steps = poll(poll_interval=poll_interval, timeout=limit, started=started)
        step = next(steps)
        while True:
            try:
                if isinstance(step, Fetch):
                    step = steps.send(self.retrieve_token(tid))
                else:
                    self._sleep(step)
                    step = next(steps)
            except StopIteration as done:
                result: WaitResult[Any] = done.value
                return result

    # --- lifecycle --------------------------------------------------------------------------------

    def with_options(
        self,
        *,
        secret_key: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Client:
        """A client with some settings changed that shares this one's connections (and must not outlive it).

        >>> client.with_options(secret_key=token.public_access_token).complete_token(token, {"ok": True})
        """
        return Client(
            self.api_url,
            secret_key or self._secret_key,
            timeout=self.timeout if isinstance(timeout, NotGiven) else timeout,
            retry_policy=self.retry_policy
            if max_retries is None
            else RetryPolicy(
                max_retries,
                self.retry_policy.initial_delay,
                self.retry_policy.max_delay,
                self.retry_policy.max_retry_after,
            ),
            headers=self._extra_headers,
            http_client=self._http,
            ws_url=self.ws_url,
        )

    def close(self) -> None:
        """Close the connections (only those of an ``httpx.Client`` this client made itself)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- sending ----------------------------------------------------------------------------------

    def _fetch_page(self, params: dict[str, str]) -> TokenPage:
        return self._send(self._list_call(params))

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _send(self, call: APICall[T]) -> T:
        retry = 0
        while True:
            try:
                response = self._http.send(call.request)
            except httpx.TransportError as error:
                if retry >= self.max_retries:
                    raise self._connection_error(error, call.request) from error
                self._sleep(self._retry_delay(retry, None))
            else:
                if not (self._retryable(response) and retry < self.max_retries):
                    return self._parse(call, response)
                self._sleep(self._retry_delay(retry, response))
            retry += 1


class AsyncClient(BaseClient):
    """The asynchronous client: the same methods as ``Client``, to ``await`` (``async for`` for ``list_tokens``).

    Parameters are those of ``Client``; ``http_client`` is an ``httpx.AsyncClient``.

    Examples
    --------
    >>> async with AsyncClient() as client:
    ...     token = await client.create_token(timeout="10m")
    ...     async for listed in client.list_tokens(status="WAITING"):
    ...         ...
    ...     result = await client.for_token(token, timeout=600)
    """

    def __init__(
        self,
        api_url: str | None = None,
        secret_key: str | None = None,
        *,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        ws_url: str | None = None,
    ) -> None:
        super().__init__(
            api_url=api_url,
            secret_key=secret_key,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            headers=headers,
            ws_url=ws_url,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient(follow_redirects=False)

    # --- the API ----------------------------------------------------------------------------------

    async def create_token(
        self,
        *,
        timeout: TimeoutType | None = None,
        idempotency_key: str | None = None,
        idempotency_key_ttl: str | timedelta | None = None,
        tags: str | Iterable[str] | None = None,
        description: str | None = None,
        schema: Mapping[str, Any] | None = None,
        approval: Mapping[str, Any] | None = None,
    ) -> CreatedToken:
        """Create a waitpoint token. See ``Client.create_token``."""
        return await self._send(
            self._create_call(
                timeout=timeout,
                idempotency_key=idempotency_key,
                idempotency_key_ttl=idempotency_key_ttl,
                tags=tags,
                description=description,
                schema=schema,
                approval=approval,
            )
        )

    async def retrieve_token(self, token_or_id: TokenOrId) -> Token:
        """Read a token. See ``Client.retrieve_token``."""
        return await self._send(self._retrieve_call(token_or_id))

    async def complete_token(self, token_or_id: TokenOrId, data: Any = NOT_GIVEN) -> bool:
        """Complete a token with ``data``; returns whether this call completed it. See ``Client.complete_token``."""
        return await self._send(self._complete_call(token_or_id, data))

    async def force_timeout_token(self, token_or_id: TokenOrId) -> bool:
        """Time a waiting token out now. See ``Client.force_timeout_token``."""
        return await self._send(self._force_timeout_call(token_or_id))

    async def extend_token(self, token_or_id: TokenOrId, timeout: TimeoutType | int) -> datetime:
        """Move a waiting token's timeout later. See ``Client.extend_token``."""
        return await self._send(self._extend_call(token_or_id, timeout))

    async def reject_token(self, token_or_id: TokenOrId, *, reason: str | None = None, data: Any = NOT_GIVEN) -> bool:
        """Reject a token with ``reason`` and ``data``; returns ``True``. See ``Client.reject_token``."""
        return await self._send(self._reject_call(token_or_id, reason, data))

    def list_tokens(
        self,
        *,
        status: TokenStatus | str | Iterable[TokenStatus | str] | None = None,
        tags: str | Iterable[str] | None = None,
        idempotency_key: str | None = None,
        period: str | None = None,
        from_: datetime | int | None = None,
        to: datetime | int | None = None,
        limit: int | None = None,
    ) -> AsyncTokenList:
        """The tokens of this environment, newest first, fetched lazily: ``async for token in ...``.
        See ``Client.list_tokens``."""
        params = list_params(
            status=status, tags=tags, idempotency_key=idempotency_key, period=period, from_=from_, to=to, limit=limit
        )
        return AsyncTokenList(self._fetch_page, params)

    async def list_tokens_page(
        self,
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
        """One page of ``list_tokens``. See ``Client.list_tokens_page``."""
        return await self._fetch_page(
            list_params(
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
        )

    async def for_token(
        self,
        token_or_id: TokenOrId,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta | None = None,
        realtime: bool = True,
    ) -> WaitResult[Any]:
        """Wait until the token is completed or times out (subscribed when it can). See ``Client.for_token``."""
        tid, limit, started = token_id(token_or_id), _seconds(timeout), time.monotonic()
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval!r}")
        if realtime and self.ws_url:
            live = await await_for(
                self.ws_url, self._secret_key, tid, timeout=limit, started=started, retrieve=self.retrieve_token
            )
            if live is not None:
                return live
        steps = poll(poll_interval=poll_interval, timeout=limit, started=started)
        step = next(steps)
        while True:
            try:
                if isinstance(step, Fetch):
                    step = steps.send(await self.retrieve_token(tid))
                else:
                    await self._sleep(step)
                    step = next(steps)
            except StopIteration as done:
                result: WaitResult[Any] = done.value
                return result

    # --- lifecycle --------------------------------------------------------------------------------

    def with_options(
        self,
        *,
        secret_key: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> AsyncClient:
        """A client with some settings changed that shares this one's connections. See ``Client.with_options``."""
        return AsyncClient(
            self.api_url,
            secret_key or self._secret_key,
            timeout=self.timeout if isinstance(timeout, NotGiven) else timeout,
            retry_policy=self.retry_policy
            if max_retries is None
            else RetryPolicy(
                max_retries,
                self.retry_policy.initial_delay,
                self.retry_policy.max_delay,
                self.retry_policy.max_retry_after,
            ),
            headers=self._extra_headers,
            http_client=self._http,
            ws_url=self.ws_url,
        )

    async def close(self) -> None:
        """Close the connections (only those of an ``httpx.AsyncClient`` this client made itself)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- sending ----------------------------------------------------------------------------------

    async def _fetch_page(self, params: dict[str, str]) -> TokenPage:
        return await self._send(self._list_call(params))

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _send(self, call: APICall[T]) -> T:
        retry = 0
        while True:
            try:
                response = await self._http.send(call.request)
            except httpx.TransportError as error:
                if retry >= self.max_retries:
                    raise self._connection_error(error, call.request) from error
                await self._sleep(self._retry_delay(retry, None))
            else:
                if not (self._retryable(response) and retry < self.max_retries):
                    return self._parse(call, response)
                await self._sleep(self._retry_delay(retry, response))
            retry += 1


def _seconds(value: float | timedelta | None) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value
