"""Step Functions delivery: resume a waiting execution with a token's outcome.

`TaskTimedOut`, `InvalidToken` and `TaskDoesNotExist` mean the execution is gone or was already resumed:
the delivery is final (GONE), never retried. Throttling, 5xx and network failures raise Unavailable so the
caller (the stream consumer) retries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..ports import Delivery
from .errors import aws_errors, error_code

if TYPE_CHECKING:
    from collections.abc import Mapping

    from botocore.client import BaseClient

GONE_CODES = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
STATE_DATA_LIMIT = 262_144  # Step Functions' quota on a task's result and on a state's input and output, bytes
# The waiting state merges the output into its input (`ResultPath`), and a merged state over STATE_DATA_LIMIT
# fails with States.DataLimitExceeded: terminal, and no Catch sees it. So an output is sent only when it leaves
# OUTPUT_MARGIN for the rest of the state's data; a larger one fails the task with Waitpoint.OutputTooLarge,
# which a Catch can handle. Keep a workflow's own state data under OUTPUT_MARGIN at the waiting state.
OUTPUT_MARGIN = 16_384
OUTPUT_LIMIT = STATE_DATA_LIMIT - OUTPUT_MARGIN  # 245,760 bytes of UTF-8
ERROR_LIMIT = 256
CAUSE_LIMIT = 32_768


class StepFunctionsBridge:
    """The ResumeTarget port on Step Functions: the handle is a task token."""

    output_limit = OUTPUT_LIMIT

    def __init__(self, client: BaseClient) -> None:
        self._sfn: Any = client

    def succeed(self, task_token: str, output: str) -> Delivery:
        return self._send(lambda: self._sfn.send_task_success(taskToken=task_token, output=output))

    def fail(self, task_token: str, error: str, cause: str, details: Mapping[str, Any] | None = None) -> Delivery:
        """`details` are not sent: a task failure has only an error and a cause (which says it all)."""
        return self._send(
            lambda: self._sfn.send_task_failure(
                taskToken=task_token, error=error[:ERROR_LIMIT], cause=cause[:CAUSE_LIMIT]
            )
        )

    @staticmethod
    def _send(call: object) -> Delivery:
        try:
            with aws_errors():
                call()  # type: ignore[operator]
        except ClientError as exc:
            if error_code(exc) in GONE_CODES:
                return Delivery.GONE
            raise
        return Delivery.SENT
