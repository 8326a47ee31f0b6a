"""Everything the sync and async clients share, with no I/O: settings, request building, response parsing,
status → exception mapping and the retry decisions. ``Client`` and ``AsyncClient`` add only sending and
sleeping."""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from ._config import RetryPolicy, TimeoutTypes, resolve_api_url, resolve_secret_key
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    status_error_class,
)
from ._subscription import websocket_url
from ._types import (
    CreatedToken,
    TimeoutType,
    Token,
    TokenOrId,
    TokenPage,
    TokenStatus,
    WireError,
    format_iso,
    parse_datetime,
    tuple_of,
)
from ._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

T = TypeVar("T")

TOKENS = "/api/v1/waitpoints/tokens"
COMPLETED_HEADER = "X-Waitpoints-Completed"
USER_AGENT = f"waitpoints-python/{__version__} python/{platform.python_version()}"


class NotGiven:
    """The type of ``NOT_GIVEN``: "argument left out", which differs from ``None``.

    ``complete_token(token)`` completes with no data; ``complete_token(token, None)`` completes with the
    JSON value ``null``.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


@dataclass(frozen=True, slots=True)
class APICall(Generic[T]):
    """One API operation: the request to send and how to read a successful response."""

    request: httpx.Request
    parse: Callable[[httpx.Response], T]


def token_id(token_or_id: TokenOrId) -> str:
    """The id of a token given as an id string or as an object with ``.id``."""
    value = token_or_id if isinstance(token_or_id, str) else getattr(token_or_id, "id", None)
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected a token id or an object with an 'id', got {token_or_id!r}")
    return value


def format_timeout(timeout: TimeoutType) -> str:
    """A token timeout → what the API accepts: a duration string, or an ISO date-time for a ``datetime``.

    A ``timedelta`` becomes whole seconds, rounded up (``timedelta(minutes=1, seconds=30)`` → ``"90s"``).
    """
    if isinstance(timeout, datetime):
        return format_iso(timeout)
    if isinstance(timeout, timedelta):
        seconds = math.ceil(timeout.total_seconds())
        if seconds <= 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        return f"{seconds}s"
    if isinstance(timeout, str):
        return timeout
    raise TypeError(f"timeout must be a duration string, a datetime or a timedelta, got {type(timeout).__name__}")


def format_duration(duration: str | timedelta) -> str:
    """An idempotency key TTL → a duration string; a ``timedelta`` becomes whole seconds, rounded up."""
    if isinstance(duration, timedelta):
        return format_timeout(duration)
    if isinstance(duration, str):
        return duration
    raise TypeError(f"expected a duration string or a timedelta, got {type(duration).__name__}")


def format_instant(value: datetime | int) -> str:
    """A list bound → epoch milliseconds as text, as Trigger.dev's SDK sends it."""
    if isinstance(value, datetime):
        format_iso(value)  # rejects a naive datetime
        return str(int(value.timestamp() * 1000))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a datetime or epoch milliseconds, got {type(value).__name__}")


def list_params(
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
) -> dict[str, str]:
    """``list_tokens`` arguments → the API's query parameters (``filter[...]`` and ``page[...]``)."""
    params: dict[str, str] = {}
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        if statuses:
            params["filter[status]"] = ",".join(TokenStatus(s).value for s in statuses)
    tag_list = tuple_of(tags)
    if tag_list:
        params["filter[tags]"] = ",".join(tag_list)
    if idempotency_key is not None:
        params["filter[idempotencyKey]"] = idempotency_key
    if period is not None:
        params["filter[createdAt][period]"] = period
    if from_ is not None:
        params["filter[createdAt][from]"] = format_instant(from_)
    if to is not None:
        params["filter[createdAt][to]"] = format_instant(to)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise ValueError(f"limit is the page size, from 1 to 100; got {limit!r}")
        params["page[size]"] = str(limit)
    if after is not None:
        params["page[after]"] = after
    if before is not None:
        params["page[before]"] = before
    return params


def _error_message(response: httpx.Response) -> tuple[str, Any]:
    """The server's ``error`` text and the parsed body (or the raw text when it is not JSON)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:500] or response.reason_phrase or f"HTTP {response.status_code}"), text
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"], body
        if isinstance(error, str) and error:
            return error, body
        for name in ("message", "detail", "title"):
            if isinstance(body.get(name), str):
                return body[name], body
    return (response.reason_phrase or f"HTTP {response.status_code}"), body


class BaseClient:
    """Settings and the I/O-free half of both clients."""

    def __init__(
        self,
        *,
        api_url: str | None,
        secret_key: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
        retry_policy: RetryPolicy | None,
        headers: dict[str, str] | None,
        ws_url: str | None = None,
    ) -> None:
        self.api_url = resolve_api_url(api_url)
        self.ws_url = websocket_url(ws_url)  # the WebSocket API: for_token subscribes instead of polling
        self._secret_key = resolve_secret_key(secret_key)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._extra_headers = dict(headers or {})

    @property
    def max_retries(self) -> int:
        return self.retry_policy.max_retries

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(api_url={self.api_url!r})"

    # --- requests ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._secret_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self._extra_headers,
        }

    def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = NOT_GIVEN
    ) -> httpx.Request:
        content = None if body is NOT_GIVEN else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = self._headers()
        if content is not None:
            headers["Content-Type"] = "application/json"
        return httpx.Request(
            method,
            self.api_url + path,
            params=params,
            content=content,
            headers=headers,
            extensions={"timeout": self.timeout.as_dict()},
        )

    def _create_call(
        self,
        *,
        timeout: TimeoutType | None,
        idempotency_key: str | None,
        idempotency_key_ttl: str | timedelta | None,
        tags: str | Iterable[str] | None,
        description: str | None = None,
        schema: Mapping[str, Any] | None = None,
        approval: Mapping[str, Any] | None = None,
    ) -> APICall[CreatedToken]:
        body: dict[str, Any] = {}
        if schema is not None:
            body["schema"] = dict(schema)
        if approval is not None:
            body["approval"] = dict(approval)
        if timeout is not None:
            body["timeout"] = format_timeout(timeout)
        if idempotency_key is not None:
            body["idempotencyKey"] = idempotency_key
        if idempotency_key_ttl is not None:
            body["idempotencyKeyTTL"] = format_duration(idempotency_key_ttl)
        if tags is not None:
            body["tags"] = list(tuple_of(tags))
        if description is not None:
            body["description"] = description

        def parse(response: httpx.Response) -> CreatedToken:
            return CreatedToken.from_wire(self._json(response), response.headers.get("x-trigger-jwt"))

        return APICall(self._request("POST", TOKENS, body=body), parse)

    def _retrieve_call(self, token_or_id: TokenOrId) -> APICall[Token]:
        path = f"{TOKENS}/{quote(token_id(token_or_id), safe='')}"
        return APICall(self._request("GET", path), lambda response: Token.from_wire(self._json(response)))

    def _complete_call(self, token_or_id: TokenOrId, data: Any) -> APICall[bool]:
        path = f"{TOKENS}/{quote(token_id(token_or_id), safe='')}/complete"
        body = {} if data is NOT_GIVEN else {"data": data}

        def parse(response: httpx.Response) -> bool:
            result = self._json(response)
            if not isinstance(result, dict) or result.get("success") is not True:
                raise WireError('the complete response should be {"success": true}')
            # waitpoints says whether this call completed the token; another server (Trigger.dev) does not.
            return str(response.headers.get(COMPLETED_HEADER, "true")).strip().lower() != "false"

        return APICall(self._request("POST", path, body=body), parse)

    def _force_timeout_call(self, token_or_id: TokenOrId) -> APICall[bool]:
        path = f"{TOKENS}/{quote(token_id(token_or_id), safe='')}/timeout"

        def parse(response: httpx.Response) -> bool:
            result = self._json(response)
            if not isinstance(result, dict) or not isinstance(result.get("timedOut"), bool):
                raise WireError('the timeout response should be {"success": true, "timedOut": <bool>}')
            return bool(result["timedOut"])

        return APICall(self._request("POST", path, body={}), parse)

    def _extend_call(self, token_or_id: TokenOrId, timeout: TimeoutType | int) -> APICall[datetime]:
        path = f"{TOKENS}/{quote(token_id(token_or_id), safe='')}/extend"
        value: str | int = timeout if isinstance(timeout, int) else format_timeout(timeout)

        def parse(response: httpx.Response) -> datetime:
            result = self._json(response)
            if not isinstance(result, dict) or not isinstance(result.get("timeoutAt"), str):
                raise WireError('the extend response should be {"success": true, "timeoutAt": "<ISO date>"}')
            return parse_datetime(result["timeoutAt"])

        return APICall(self._request("POST", path, body={"timeout": value}), parse)

    def _reject_call(self, token_or_id: TokenOrId, reason: str | None, data: Any) -> APICall[bool]:
        path = f"{TOKENS}/{quote(token_id(token_or_id), safe='')}/reject"
        body: dict[str, Any] = {} if data is NOT_GIVEN else {"data": data}
        if reason is not None:
            body["reason"] = reason

        def parse(response: httpx.Response) -> bool:
            result = self._json(response)
            if not isinstance(result, dict) or result.get("success") is not True:
                raise WireError('the reject response should be {"success": true}')
            return True

        return APICall(self._request("POST", path, body=body), parse)

    def _list_call(self, params: dict[str, str]) -> APICall[TokenPage]:
        return APICall(
            self._request("GET", TOKENS, params=params), lambda response: TokenPage.from_wire(self._json(response))
        )

    # --- responses --------------------------------------------------------------------------------

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise WireError(f"the response is not JSON: {response.text[:200]!r}") from error

    @staticmethod
    def _parse(call: APICall[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            raise BaseClient._status_error(response)
        try:
            return call.parse(response)
        except WireError as error:
            raise APIResponseValidationError(
                f"Unexpected response from {response.request.method} {response.request.url.path} "
                f"(HTTP {response.status_code}): {error}",
                response=response,
            ) from None

    @staticmethod
    def _status_error(response: httpx.Response) -> APIStatusError:
        message, body = _error_message(response)
        return status_error_class(response.status_code)(message, response=response, body=body)

    @staticmethod
    def _connection_error(error: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
        where = f"{request.method} {request.url.copy_with(query=None)}"
        if isinstance(error, httpx.TimeoutException):
            return APITimeoutError(f"Request timed out: {where}", request=request)
        return APIConnectionError(f"Could not reach the API: {where}: {error or type(error).__name__}", request=request)

    # --- retries ----------------------------------------------------------------------------------

    @staticmethod
    def _retryable(response: httpx.Response) -> bool:
        return response.status_code == 429 or response.status_code >= 500

    def _retry_delay(self, retry: int, response: httpx.Response | None) -> float:
        return self.retry_policy.delay(retry, response.headers if response is not None else None, time.time())
