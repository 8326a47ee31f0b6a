"""Lambda durable-function delivery: resume a `context.wait_for_callback` / `create_callback` with a token's
outcome through `lambda:SendDurableExecutionCallbackSuccess` / `Failure` (the twin of
aws/stepfunctions.py's StepFunctionsBridge).

Outcomes:
- `CallbackTimeoutException` ("the callback ID token has either expired or the callback associated with the
  token has already been closed"), `ResourceNotFoundException` (an unknown callback id) and AWS's local
  runner's bare HTTP 404 (it answers every closed, unknown or malformed id so, without `x-amzn-ErrorType`)
  mean the execution no longer waits on this callback: GONE, logged and dropped, never retried.
- A callback id that does not have the API's shape can never be delivered: GONE without a request.
- Throttling (`TooManyRequestsException`, 429), 5xx and network failures raise Unavailable: the caller
  (the stream consumer) retries.
- Anything else (KMS*, InvalidParameterValueException) is re-raised: a configuration or payload bug that
  belongs in the failure queue, not in a silent drop.

Limits (botocore's lambda 2015-03-31 model in this venv, and the API reference):
- `Result` of SendDurableExecutionCallbackSuccess: the API reference says "Maximum size is 256 KB. Length
  Constraints: Minimum length of 0. Maximum length of 262144." (also the durable SDKs' 256 KB checkpoint
  payload limit, which the callback's result is stored as); botocore 1.44.5's model already says
  `max: 1048576` ("1 MB"). We enforce the smaller, RESULT_LIMIT = 262,144 bytes, with no margin: `Result` is
  the HTTP body itself (a blob, no JSON or base64 envelope), so the bytes we count are the bytes AWS
  counts. It is also Step Functions' output limit (stepfunctions.OUTPUT_LIMIT), so one token output fits both
  resume targets or neither. Over it, `succeed` raises CallbackResultTooLarge before any request: the
  caller sends `fail(..., "Waitpoint.OutputTooLarge", ...)` instead, as it does for Step Functions.
- The `Error` of SendDurableExecutionCallbackFailure: "the combined size of all error fields is limited to
  1 MB" (model; 256 KB in older documentation). We keep the combined UTF-8 size under ERROR_LIMIT =
  262,144 - 1,024 bytes (1 KiB of margin for the JSON framing of the request body): ErrorType is clipped to
  256 characters, ErrorMessage to 32,768 (Step Functions' cause limit), and ErrorData's extra details are
  dropped (`"truncated": true`) when they would not fit.
- CallbackId: 1-1024 characters of `[A-Za-z0-9+/]+={0,2}`.

The function never sees the ErrorType it is failed with (the SDK raises CallbackExternalError with only
`.message` and `.data`), so ErrorData carries it: `{"error": "<ErrorType>", "message": "<cause>", ...details}`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..errors import Unavailable
from ..ports import Delivery
from .errors import aws_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from botocore.client import BaseClient

RESULT_LIMIT = 262_144  # bytes of SendDurableExecutionCallbackSuccess's Result (see the module docstring)
ERROR_LIMIT = 262_144 - 1_024  # combined bytes of ErrorType + ErrorMessage + ErrorData
ERROR_TYPE_LIMIT = 256
ERROR_MESSAGE_LIMIT = 32_768
CALLBACK_ID_PATTERN = re.compile(r"[A-Za-z0-9+/]+={0,2}")
CALLBACK_ID_MAX = 1024

# The errors a durable function tells apart (ErrorData's "error").
TIMED_OUT = "Waitpoint.TimedOut"
REJECTED = "Waitpoint.Rejected"
OUTPUT_TOO_LARGE = "Waitpoint.OutputTooLarge"
NOT_FOUND = "Waitpoint.NotFound"

GONE_CODES = frozenset({"CallbackTimeoutException", "ResourceNotFoundException", "404"})
RETRY_CODES = frozenset({"TooManyRequestsException", "429", "ServiceException"})

logger = logging.getLogger(__name__)


class CallbackResultTooLarge(ValueError):
    """Raised by `succeed` when the output is over RESULT_LIMIT; nothing was sent."""

    def __init__(self, size: int, limit: int = RESULT_LIMIT) -> None:
        super().__init__(f"The output is {size} bytes, over the {limit}-byte limit of a durable callback result")
        self.size, self.limit = size, limit


def is_callback_id(value: object) -> bool:
    """Whether `value` has the shape of a durable callback id (what the attach function accepts)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= CALLBACK_ID_MAX
        and CALLBACK_ID_PATTERN.fullmatch(value) is not None
    )


def error_object(error: str, cause: str, details: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The `Error` of SendDurableExecutionCallbackFailure: ErrorType, ErrorMessage, and ErrorData as JSON
    `{"error": <ErrorType>, "message": <cause>, ...details}`, within ERROR_LIMIT."""
    error_type, message = error[:ERROR_TYPE_LIMIT], cause[:ERROR_MESSAGE_LIMIT]
    base = {"error": error_type, "message": message}
    data = json.dumps({**(details or {}), **base}, ensure_ascii=False, separators=(",", ":"))
    if _size(error_type, message, data) > ERROR_LIMIT:
        data = json.dumps({**base, "truncated": True}, ensure_ascii=False, separators=(",", ":"))
    return {"ErrorType": error_type, "ErrorMessage": message, "ErrorData": data}


def _size(*parts: str) -> int:
    return sum(len(p.encode()) for p in parts)


def _handle(callback_id: str) -> str:
    """What logs show of a callback id: it is a credential (like a task token), so only a digest."""
    return hashlib.sha256(callback_id.encode()).hexdigest()[:12]


class LambdaDurableCallbacks:
    """Resumes durable executions; `client` is a boto3 `lambda` client (its endpoint_url may be the local
    durable runner's). The ResumeTarget port for durable functions: the handle is a callback id."""

    output_limit = RESULT_LIMIT

    def __init__(self, client: BaseClient) -> None:
        self._lambda: Any = client  # typed loosely, like the other adapters' clients

    def succeed(self, callback_id: str, output_json: str) -> Delivery:
        """Send the output (the JSON the function's `wait_for_callback` returns, as text). Raises
        CallbackResultTooLarge over RESULT_LIMIT, before sending anything."""
        result = output_json.encode()
        if len(result) > RESULT_LIMIT:
            raise CallbackResultTooLarge(len(result))
        return self._send(
            "succeed",
            callback_id,
            lambda: self._lambda.send_durable_execution_callback_success(CallbackId=callback_id, Result=result),
        )

    def fail(self, callback_id: str, error: str, cause: str, details: Mapping[str, Any] | None = None) -> Delivery:
        """Fail the callback with `error` (Waitpoint.TimedOut, .Rejected, .OutputTooLarge, .NotFound) and
        `cause` (a message); `details` (e.g. a rejection's reason and data) go into ErrorData too."""
        body = error_object(error, cause, details)
        return self._send(
            "fail",
            callback_id,
            lambda: self._lambda.send_durable_execution_callback_failure(CallbackId=callback_id, Error=body),
        )

    @staticmethod
    def _send(action: str, callback_id: str, call: Callable[[], object]) -> Delivery:
        if not is_callback_id(callback_id):
            logger.warning("durable callback dropped: not a callback id", extra={"action": action})
            return Delivery.GONE
        try:
            with aws_errors():
                call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in GONE_CODES:
                logger.info(
                    "durable callback gone",
                    extra={"action": action, "callback": _handle(callback_id), "code": code},
                )
                return Delivery.GONE
            if code in RETRY_CODES:
                raise Unavailable() from exc
            raise
        return Delivery.SENT
