"""AWS failures in domain terms: throttling, 5xx and network failures that outlast the client's retries."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import Unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TooManyRequestsException",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def response_of(exc: ClientError) -> dict[str, Any]:
    """The failed call's parsed response, untyped: what DynamoDB returns on a failed condition (`Item`,
    `CancellationReasons`) is not in botocore's error shape."""
    return cast("dict[str, Any]", exc.response)


@contextmanager
def aws_errors() -> Iterator[None]:
    """Throttling, 5xx and network failures that outlast the client's retries become Unavailable (503)."""
    try:
        yield
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if error_code(exc) in RETRYABLE_CODES or status >= 500:
            raise Unavailable() from exc
        raise
    except BotoCoreError as exc:
        raise Unavailable() from exc
