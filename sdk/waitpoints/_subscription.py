"""Token transitions as they happen, over the deployment's WebSocket API, with polling as the fallback.

The WebSocket client comes from the optional ``realtime`` extra (``pip install 'waitpoints[realtime]'``, the
``websockets`` library), imported only when a subscription is opened. Without it, or without a WebSocket URL
(``ws_url=...`` or ``WAITPOINTS_WS_URL``; the local stack's is in ``.waitpoints/local.env``), ``watch`` and
``awatch`` poll instead and yield the same transitions, later.

>>> for change in watch(client, tag="needs-approval"):       # doctest: +SKIP
...     print(change.transition, change.token.id, change.token.status)

The protocol (docs/realtime.md): connect, ``{"action": "auth", "token": <key>}`` as the first message (the key
never goes in the URL), then ``{"action": "subscribe", "tokenId": ...}`` or ``{"tag": ...}``. A token
subscription answers with the token's current state, yielded first as a ``"snapshot"``; a subscription is not a
replay log, so that answer is how a watcher that subscribes late still sees a final state.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._exceptions import WaitpointsError
from ._types import Token, TokenStatus, WaitResult

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from ._client import AsyncClient, Client

ENV_WS_URL = "WAITPOINTS_WS_URL"
SNAPSHOT = "snapshot"
"""The transition name of the state a token subscription answers with (not a transition the server sends)."""
KEEPALIVE_SECONDS = 300.0
"""API Gateway closes a connection idle for 10 minutes: ping after 5 quiet ones."""
OPEN_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class TokenTransition:
    """One transition: ``created``, ``completed``, ``rejected``, ``timed_out``, ``extended`` (or ``snapshot``).

    ``token`` has retrieve's fields. When ``output_omitted`` is true the output was too large for a message:
    read it with ``retrieve_token``.
    """

    transition: str
    token: Token
    output_omitted: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_message(cls, message: dict[str, Any], transition: str | None = None) -> TokenTransition:
        return cls(
            transition or str(message["transition"]),
            Token.from_wire(message["token"]),
            bool(message.get("outputOmitted")),
            message,
        )


class RealtimeUnavailable(WaitpointsError):
    """No WebSocket subscription can be made here: the ``realtime`` extra is missing or there is no URL."""


class SubscriptionError(WaitpointsError):
    """The server refused a request on the connection (``code`` as it sent it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def websocket_url(ws_url: str | None = None) -> str | None:
    return ws_url or os.environ.get(ENV_WS_URL) or None


def _target(token_id: str | None, tag: str | None) -> dict[str, str]:
    if (token_id is None) == (tag is None):
        raise ValueError("give exactly one of token_id and tag")
    return {"tokenId": token_id} if token_id is not None else {"tag": tag or ""}


def _raise_for(message: dict[str, Any]) -> None:
    if message.get("type") == "error":
        raise SubscriptionError(str(message.get("code", "error")), str(message.get("message", "")))


# --- sync ---------------------------------------------------------------------------------------------------


class Subscription:
    """A WebSocket subscription to one token or one tag: a context manager and an iterator of transitions.

    >>> with Subscription(url, key, token_id=token.id) as transitions:    # doctest: +SKIP
    ...     for change in transitions:
    ...         if change.token.is_final:
    ...             break
    """

    def __init__(
        self,
        ws_url: str,
        credential: str,
        *,
        token_id: str | None = None,
        tag: str | None = None,
        open_timeout: float = OPEN_TIMEOUT,
    ) -> None:
        self._url, self._credential, self._target = ws_url, credential, _target(token_id, tag)
        self._open_timeout = open_timeout
        self._ws: Any = None
        self._pending: list[TokenTransition] = []

    def __enter__(self) -> Subscription:
        try:
            from websockets.sync.client import connect
        except ImportError as exc:
            raise RealtimeUnavailable("pip install 'waitpoints[realtime]' for WebSocket subscriptions") from exc
        self._ws = connect(self._url, open_timeout=self._open_timeout, compression=None).__enter__()
        try:
            self._request({"action": "auth", "token": self._credential}, "authenticated")
            answer = self._request({"action": "subscribe", **self._target}, "subscribed")
        except BaseException:
            self.close()
            raise
        if "token" in answer:
            self._pending.append(TokenTransition.from_message(answer, SNAPSHOT))
        return self

    def _request(self, message: dict[str, Any], expected: str) -> dict[str, Any]:
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + self._open_timeout
        while True:  # transitions may arrive before the answer: keep them, in order
            answer = json.loads(self._ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            _raise_for(answer)
            if answer.get("type") == expected:
                return dict(answer)
            if answer.get("type") == "transition":
                self._pending.append(TokenTransition.from_message(answer))

    def __iter__(self) -> Iterator[TokenTransition]:
        return self

    def __next__(self) -> TokenTransition:
        return self.next(timeout=None)

    def next(self, timeout: float | None) -> TokenTransition:
        """The next transition; TimeoutError after ``timeout`` seconds without one (None: wait for ever).
        StopIteration when the server closed the connection (API Gateway does after 2 hours)."""
        from websockets.exceptions import ConnectionClosed

        if self._pending:
            return self._pending.pop(0)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = KEEPALIVE_SECONDS if deadline is None else min(KEEPALIVE_SECONDS, deadline - time.monotonic())
            if wait <= 0:
                raise TimeoutError("no transition in time")
            try:
                message = json.loads(self._ws.recv(timeout=wait))
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                self._ws.send(json.dumps({"action": "ping"}))
                continue
            except ConnectionClosed:
                raise StopIteration from None
            _raise_for(message)
            if message.get("type") == "transition":
                return TokenTransition.from_message(message)

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def __exit__(self, *exc: object) -> None:
        self.close()


def watch(
    client: Client,
    *,
    token_id: str | None = None,
    tag: str | None = None,
    ws_url: str | None = None,
    poll_interval: float = 2.0,
) -> Iterator[TokenTransition]:
    """Transitions of one token or of a tag's tokens, for ever (stop iterating to stop). Over the WebSocket API
    when it can (``realtime`` extra and a URL), else by polling ``retrieve_token`` / ``list_tokens``."""
    url = websocket_url(ws_url)
    if url is not None:
        try:
            with Subscription(url, client._secret_key, token_id=token_id, tag=tag) as subscription:
                yield from subscription
            return
        except RealtimeUnavailable:
            pass
    yield from _poll(client, token_id, tag, poll_interval)


def _poll(client: Client, token_id: str | None, tag: str | None, interval: float) -> Iterator[TokenTransition]:
    """Polling: one token, or the newest 100 of a tag (a tag's older tokens' transitions are not seen)."""
    _target(token_id, tag)
    seen: dict[str, Token] = {}
    first = True
    while True:
        tokens = [client.retrieve_token(token_id)] if token_id else list(client.list_tokens_page(tags=tag, limit=100))
        yield from _diff(seen, tokens, first, token_id is not None)
        first = False
        time.sleep(interval)


def _diff(seen: dict[str, Token], tokens: list[Token], first: bool, snapshot: bool) -> list[TokenTransition]:
    """What polling saw change: the same transition names as the server's messages (a list shows no output)."""
    changes = []
    for token in reversed(tokens):  # oldest first
        before = seen.get(token.id)
        seen[token.id] = token
        if before is None:
            if first:
                if snapshot:
                    changes.append(TokenTransition(SNAPSHOT, token))
                continue
            changes.append(TokenTransition("created", token))
        elif before.status is TokenStatus.WAITING and token.status is TokenStatus.TIMED_OUT:
            changes.append(TokenTransition("timed_out", token))
        elif before.status is TokenStatus.WAITING and token.status is TokenStatus.COMPLETED:
            rejected = token.raw.get("rejected") is True
            changes.append(TokenTransition("rejected" if rejected else "completed", token))
        elif before.status is TokenStatus.WAITING and before.timeout_at != token.timeout_at:
            changes.append(TokenTransition("extended", token))
    return changes


# --- async --------------------------------------------------------------------------------------------------


class AsyncSubscription:
    """``Subscription`` for asyncio: ``async with`` and ``async for``."""

    def __init__(
        self,
        ws_url: str,
        credential: str,
        *,
        token_id: str | None = None,
        tag: str | None = None,
        open_timeout: float = OPEN_TIMEOUT,
    ) -> None:
        self._url, self._credential, self._target = ws_url, credential, _target(token_id, tag)
        self._open_timeout = open_timeout
        self._ws: Any = None
        self._pending: list[TokenTransition] = []

    async def __aenter__(self) -> AsyncSubscription:
        try:
            from websockets.asyncio.client import connect
        except ImportError as exc:
            raise RealtimeUnavailable("pip install 'waitpoints[realtime]' for WebSocket subscriptions") from exc
        self._ws = await connect(self._url, open_timeout=self._open_timeout, compression=None)
        try:
            await self._request({"action": "auth", "token": self._credential}, "authenticated")
            answer = await self._request({"action": "subscribe", **self._target}, "subscribed")
        except BaseException:
            await self.aclose()
            raise
        if "token" in answer:
            self._pending.append(TokenTransition.from_message(answer, SNAPSHOT))
        return self

    async def _request(self, message: dict[str, Any], expected: str) -> dict[str, Any]:
        import asyncio

        await self._ws.send(json.dumps(message))
        async with asyncio.timeout(self._open_timeout):
            while True:
                answer = json.loads(await self._ws.recv())
                _raise_for(answer)
                if answer.get("type") == expected:
                    return dict(answer)
                if answer.get("type") == "transition":
                    self._pending.append(TokenTransition.from_message(answer))

    def __aiter__(self) -> AsyncIterator[TokenTransition]:
        return self

    async def __anext__(self) -> TokenTransition:
        import asyncio

        from websockets.exceptions import ConnectionClosed

        if self._pending:
            return self._pending.pop(0)
        while True:
            try:
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    message = json.loads(await self._ws.recv())
            except TimeoutError:
                await self._ws.send(json.dumps({"action": "ping"}))
                continue
            except ConnectionClosed:
                raise StopAsyncIteration from None
            _raise_for(message)
            if message.get("type") == "transition":
                return TokenTransition.from_message(message)

    async def aclose(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def awatch(
    client: AsyncClient,
    *,
    token_id: str | None = None,
    tag: str | None = None,
    ws_url: str | None = None,
    poll_interval: float = 2.0,
) -> AsyncIterator[TokenTransition]:
    """``watch`` for ``AsyncClient``."""
    import asyncio

    url = websocket_url(ws_url)
    if url is not None:
        try:
            async with AsyncSubscription(url, client._secret_key, token_id=token_id, tag=tag) as subscription:
                async for change in subscription:
                    yield change
            return
        except RealtimeUnavailable:
            pass
    _target(token_id, tag)
    seen: dict[str, Token] = {}
    first = True
    while True:
        if token_id:
            tokens = [await client.retrieve_token(token_id)]
        else:
            tokens = list(await client.list_tokens_page(tags=tag, limit=100))  # the newest 100
        for change in _diff(seen, tokens, first, token_id is not None):
            yield change
        first = False
        await asyncio.sleep(poll_interval)


# --- for_token over a subscription --------------------------------------------------------------------------

TIMEOUT_GRACE = 0.05
"""As polling: past the token's own ``timeoutAt`` a read shows ``TIMED_OUT``; read this long after it."""


def _next_wait(last: TokenTransition, timeout: float | None, started: float) -> tuple[str, float | None]:
    """What to do next while the token waits: ("give_up", _), ("read", _) at its own timeout, or ("wait", s)."""
    now = time.monotonic()
    wait = None if timeout is None else started + timeout - now
    if wait is not None and wait <= 0:
        return "give_up", None
    if last.token.timeout_at is not None:
        until = (last.token.timeout_at - datetime.now(UTC)).total_seconds() + TIMEOUT_GRACE
        if until <= 0:
            return "read", None
        wait = until if wait is None else min(wait, until)
    return "wait", wait


def _final(last: TokenTransition, token_id: str, retrieve: Callable[[str], Token]) -> WaitResult[Any]:
    return WaitResult.of(retrieve(token_id) if last.output_omitted else last.token)


def wait_for(
    ws_url: str,
    credential: str,
    token_id: str,
    *,
    timeout: float | None,
    started: float,
    retrieve: Callable[[str], Token],
) -> WaitResult[Any] | None:
    """``for_token`` over a subscription: the same result polling gives, and the same deadline (``timeout``
    seconds after ``started``, a ``time.monotonic()``). None when the subscription cannot be opened or ends early
    (no extra, refused, closed): the caller polls for the time that is left, so the result never depends on
    the transport. A token past its own timeout is read once (the read shows ``TIMED_OUT``), as polling does."""
    try:
        subscription = Subscription(ws_url, credential, token_id=token_id).__enter__()
    except Exception:  # no extra, no server, refused: poll instead (which raises the API's error, if any)
        return None
    with subscription:
        try:
            last = subscription.next(timeout=OPEN_TIMEOUT)  # the snapshot, already pending
            while True:
                if last.token.is_final:
                    return _final(last, token_id, retrieve)
                action, wait = _next_wait(last, timeout, started)
                if action == "give_up":
                    return WaitResult.gave_up(last.token, time.monotonic() - started)
                if action == "read":
                    last = TokenTransition(SNAPSHOT, retrieve(token_id))
                    continue
                try:
                    last = subscription.next(timeout=wait)
                except TimeoutError:
                    continue
        except (StopIteration, SubscriptionError, OSError):
            return None
        except Exception as exc:  # the connection failed (websockets' own errors)
            if type(exc).__module__.startswith("websockets"):
                return None
            raise


async def await_for(
    ws_url: str,
    credential: str,
    token_id: str,
    *,
    timeout: float | None,
    started: float,
    retrieve: Callable[[str], Awaitable[Token]],
) -> WaitResult[Any] | None:
    """``wait_for`` for ``AsyncClient``."""
    import asyncio

    try:
        subscription = await AsyncSubscription(ws_url, credential, token_id=token_id).__aenter__()
    except Exception:
        return None
    try:
        last = await asyncio.wait_for(subscription.__anext__(), OPEN_TIMEOUT)
        while True:
            if last.token.is_final:
                if last.output_omitted:
                    return WaitResult.of(await retrieve(token_id))
                return WaitResult.of(last.token)
            action, wait = _next_wait(last, timeout, started)
            if action == "give_up":
                return WaitResult.gave_up(last.token, time.monotonic() - started)
            if action == "read":
                last = TokenTransition(SNAPSHOT, await retrieve(token_id))
                continue
            try:
                last = await asyncio.wait_for(subscription.__anext__(), wait)
            except TimeoutError:
                continue
    except (StopAsyncIteration, SubscriptionError, OSError):
        return None
    except Exception as exc:
        if type(exc).__module__.startswith("websockets"):
            return None
        raise
    finally:
        await subscription.aclose()
