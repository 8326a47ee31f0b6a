"""WaitForTokenFunction: a workflow pauses on a waitpoint token.

Step Functions: call it with `arn:aws:states:::lambda:invoke.waitForTaskToken` and the payload
`{"taskToken.$": "$$.Task.Token", "waitpointId.$": "$.waitpoint.id"}` (optionally `"environment"`).
A Lambda durable function: invoke it from a `context.wait_for_callback` submitter with
`{"callbackId": <the callback id>, "waitpointId": ..., "environment"?: ...}` (waitpoints.durable.wait_for_token
does). Exactly one of taskToken and callbackId. Attaching the same handle again is a no-op
(`already_attached`); a token already completed, rejected or timed out resumes the workflow at once.
The workflow resumes with the token's output, or fails with `Waitpoint.TimedOut`, `Waitpoint.Rejected`,
`Waitpoint.NotFound` or `Waitpoint.OutputTooLarge`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from waitpoints_core import WaitForTokenRequest, get_service, parse_request
from waitpoints_http.metrics import count, instrument

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@instrument
@logger.inject_lambda_context  # never log the event: it holds the task token or callback id
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    request = parse_request(WaitForTokenRequest, event)
    attachment = get_service().workflows.wait_for_token(request)
    count("WorkflowsWaiting")
    logger.info(
        "workflow waits on waitpoint",
        extra={
            "waitpoint_id": request.waitpoint_id,
            "result": attachment.value,
            "kind": "durable" if request.is_durable else "sfn",
        },
    )
    return {"waitpointId": request.waitpoint_id, "result": attachment.value}
