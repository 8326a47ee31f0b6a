"""Errors the core raises. The HTTP edge maps each to a status code in one place.

WaitpointError
├── InvalidInput        a request field is malformed or out of range        (400)
├── TooManyTags         more than the allowed number of tags                 (422)
├── SchemaMismatch      completion data does not match the token's schema    (422)
├── PayloadTooLarge     a body is over its size limit                        (413)
├── UnsupportedBody     a body cannot be turned into an output               (415)
├── Unauthenticated     missing, unknown, invalid or expired credentials     (401)
├── Forbidden           valid credentials without the needed scope           (403)
├── NotFound            no such token in the caller's environment            (404)
├── Conflict            the token's state does not allow it (extend a final one) (409)
└── Unavailable         AWS throttled or failed after bounded retries        (503)
"""

from __future__ import annotations


class WaitpointError(Exception):
    """Base class: `message` is safe to show to the caller (it never holds a secret)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(WaitpointError):
    """Raised when a request field is malformed or out of range."""


class TooManyTags(WaitpointError):
    """Raised when a token is given more tags than allowed."""


class SchemaMismatch(WaitpointError):
    """Raised when completion data does not match the token's JSON Schema; the token stays WAITING.

    `path` is the JSONPath of the first failing value (`$`, `$.amount`, `$.items[2]`, `$["odd key"]`), `rule` the
    schema keyword that failed (`type`, `minimum`, `required`, ...). `errors` lists up to a bounded number of
    failures as `{"path", "rule", "message"}` dicts, most relevant first (the first one is `path`/`rule`).
    """

    def __init__(
        self, message: str, *, path: str = "$", rule: str = "", errors: tuple[dict[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.path = path
        self.rule = rule
        self.errors = errors or ({"path": path, "rule": rule, "message": message},)


class PayloadTooLarge(WaitpointError):
    """Raised when a request body is over its size limit."""


class UnsupportedBody(WaitpointError):
    """Raised when a callback body is not text (it cannot be stored without loss)."""


class Unauthenticated(WaitpointError):
    """Raised when credentials are missing, unknown, invalid or expired."""


class Forbidden(WaitpointError):
    """Raised when valid credentials do not grant the operation."""


class NotFound(WaitpointError):
    """Raised when a token does not exist, has expired, or belongs to another environment."""

    def __init__(self, message: str = "Waitpoint not found") -> None:
        super().__init__(message)


class Conflict(WaitpointError):
    """Raised when the token's state does not allow the operation (extending a token that no longer waits)."""


class Unavailable(WaitpointError):
    """Raised when AWS throttles or fails after the client's bounded retries; the caller may retry."""

    def __init__(self, message: str = "The service is busy; retry shortly") -> None:
        super().__init__(message)
