"""The SDK's exceptions. Catch as broadly or as narrowly as you need::

WaitpointsError
├── ConfigurationError              the API URL or secret key is missing
├── APIConnectionError              the request did not get an HTTP response
│   └── APITimeoutError             ... because it timed out
├── APIResponseValidationError      a 2xx response was not the JSON the API documents
├── APIStatusError                  the API answered with an error status
│   ├── BadRequestError             400
│   ├── AuthenticationError         401
│   ├── PermissionDeniedError       403
│   ├── NotFoundError               404
│   ├── PayloadTooLargeError        413
│   ├── UnprocessableEntityError    422
│   ├── RateLimitError              429
│   └── InternalServerError         5xx
└── WaitpointTimeoutError           a waited-for token timed out (``WaitResult.unwrap``)
    └── WaitTimeoutError            ``for_token``'s own timeout ran out; the token still waits
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "InternalServerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WaitpointTimeoutError",
    "WaitpointsError",
]


class WaitpointsError(Exception):
    """Base class of every error this SDK raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(WaitpointsError):
    """Raised when a client is built without an API URL or secret key (argument or environment variable)."""


class APIConnectionError(WaitpointsError):
    """Raised when a request got no HTTP response (connection refused, reset, DNS...), after the retries."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """Raised when a request timed out (connect, read, write or pool), after the retries."""


class APIResponseValidationError(WaitpointsError):
    """Raised when a successful response is not the JSON the API documents (a proxy page, a wrong URL...)."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code


class APIStatusError(WaitpointsError):
    """Raised when the API answers 4xx or 5xx; ``message`` is the server's ``error`` text."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any = None) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.body = body

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status_code})"


class BadRequestError(APIStatusError):
    """Raised on 400: a field is invalid (the message names it)."""


class AuthenticationError(APIStatusError):
    """Raised on 401: the key is missing, unknown, or an access token is invalid or expired."""


class PermissionDeniedError(APIStatusError):
    """Raised on 403: an access token is valid but not for this token."""


class NotFoundError(APIStatusError):
    """Raised on 404: no such token in this environment (or the callback's token no longer exists)."""


class PayloadTooLargeError(APIStatusError):
    """Raised on 413: the request body is over the route's limit (the message names it)."""


class UnprocessableEntityError(APIStatusError):
    """Raised on 422: the request is well-formed but not allowed (e.g. more than 10 tags)."""


class ConflictError(APIStatusError):
    """Raised on 409: the token's state does not allow it (extending a token that no longer waits)."""


class RateLimitError(APIStatusError):
    """Raised on 429, once the retries are spent."""


class InternalServerError(APIStatusError):
    """Raised on 5xx, once the retries are spent."""


class WaitpointTimeoutError(WaitpointsError):
    """Raised by ``WaitResult.unwrap()`` when the token timed out: its status is ``TIMED_OUT``."""

    def __init__(self, message: str, *, token_id: str, timeout_at: datetime | None = None) -> None:
        super().__init__(message)
        self.token_id = token_id
        self.timeout_at = timeout_at


class WaitpointRejectedError(WaitpointsError):
    """Raised when the token was rejected: by ``for_token(...).unwrap()`` (it is the result's ``error``, and a
    rejected ``Token.error``) and by ``waitpoints.durable.wait_for_token`` (``Waitpoint.Rejected``).

    ``reason`` and ``data`` are the rejection's, when it gave them.
    """

    def __init__(self, message: str, *, token_id: str, reason: str | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.token_id = token_id
        self.reason = reason
        self.data = data


class WaitTimeoutError(WaitpointTimeoutError):
    """Raised by ``WaitResult.unwrap()`` when ``for_token``'s own ``timeout`` ran out while the token still waits."""


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an error status: a specific one where the API documents it, else the base."""
    if status >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status, APIStatusError)
