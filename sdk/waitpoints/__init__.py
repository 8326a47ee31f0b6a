"""waitpoints: the Python SDK of the waitpoints API (Trigger.dev-compatible waitpoint tokens on AWS).

>>> from waitpoints import wait
>>> token = wait.create_token(timeout="1h", tags=["order:42"])
>>> # ... hand token.url to a webhook, or token.public_access_token to a browser ...
>>> approval = wait.for_token(token).unwrap()

``Client`` and ``AsyncClient`` give the same operations with explicit settings. The ``waitpoints`` command
(``pip install 'waitpoints[cli]'``) does them from a terminal.
"""

from __future__ import annotations

from . import wait
from ._base import NOT_GIVEN, NotGiven
from ._client import AsyncClient, Client
from ._config import ENV_API_URL, ENV_SECRET_KEY, RetryPolicy
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WaitpointRejectedError,
    WaitpointsError,
    WaitpointTimeoutError,
    WaitTimeoutError,
)
from ._pagination import AsyncTokenList, TokenList
from ._subscription import TokenTransition, awatch, watch
from ._types import CreatedToken, Token, TokenPage, TokenStatus, WaitResult
from ._version import __version__

__all__ = [
    "ENV_API_URL",
    "ENV_SECRET_KEY",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncTokenList",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "CreatedToken",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "Token",
    "TokenList",
    "TokenPage",
    "TokenStatus",
    "TokenTransition",
    "UnprocessableEntityError",
    "WaitResult",
    "WaitTimeoutError",
    "WaitpointRejectedError",
    "WaitpointTimeoutError",
    "WaitpointsError",
    "__version__",
    "awatch",
    "wait",
    "watch",
]

# Show the public names as `waitpoints.X` in reprs and tracebacks, as httpx does.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and _value.__module__.startswith("waitpoints._"):
        _value.__module__ = "waitpoints"
del _name, _value
