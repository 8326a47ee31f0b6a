"""ExampleDurableFunction: the durable twin of the example state machine (statemachine/example.asl.json).

A Lambda durable function that creates a waitpoint token through the IAM path (an invoke of
CreateTokenFunction: no API key), hands its URL to an external party (here: the log and the result), waits
with `context.wait_for_callback` whose submitter attaches the callback id to the token through an IAM invoke
of the attach function, and branches on approve / reject / timeout.

Input (all optional): `{"environment": "prod", "timeoutSeconds": 3600, "tags": [...]}`.
Result: `{"waitpointId", "url", "outcome": "approved" | "not_approved" | "rejected" | "timed_out", ...}`.

The attach payload (the attach function is the one named by WAITPOINTS_ATTACH_FUNCTION, WaitForTokenFunction
in template.yaml): `{"callbackId": <the durable callback id>, "waitpointId": <token id>, "environment"?: ...}`,
the durable twin of the Step Functions `{"taskToken": ..., "waitpointId": ...}`. It is idempotent on the
callback id (the SDK may run a submitter step again), and a token that is already completed, rejected or
timed out resolves the callback at once. The resume outcome reaches this function as:
- success: `wait_for_callback` returns the token's output as JSON text;
- failure: CallbackExternalError whose `.data` is `{"error": "Waitpoint.TimedOut" | "Waitpoint.Rejected" |
  "Waitpoint.OutputTooLarge" | "Waitpoint.NotFound", "message": ..., ...}` (the function never sees
  the ErrorType itself, so ErrorData carries it);
- CallbackTimeoutError: the callback's own timeout (a backstop a little after the token's) passed first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from typing import Any

import boto3
from aws_durable_execution_sdk_python import (
    CallbackExternalError,
    CallbackTimeoutError,
    DurableContext,
    StepContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig

logger = logging.getLogger()
logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))

DEFAULT_TIMEOUT_SECONDS = 3600
CALLBACK_GRACE_SECONDS = 300  # the callback times out this much after the token, so Waitpoint.TimedOut wins
TIMED_OUT, REJECTED = "Waitpoint.TimedOut", "Waitpoint.Rejected"

_lambda: Any = None


def _client() -> Any:
    global _lambda  # noqa: PLW0603 - one client per container, made on first use
    if _lambda is None:
        _lambda = boto3.client("lambda")
    return _lambda


def invoke(function: str, payload: dict[str, Any]) -> Any:
    """A RequestResponse invoke; a function error raises (so the step fails and the SDK retries it)."""
    response = _client().invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise RuntimeError(f"{function} failed: {body.get('errorType')}: {body.get('errorMessage')}")
    return body


def create_token(event: dict[str, Any], execution_arn: str) -> Any:
    """The step that creates the token. Its idempotency key comes from the execution, so a step that runs
    again (at least once per retry) gets the same token back."""

    def step(_: StepContext) -> dict[str, Any]:
        key = "durable-" + hashlib.sha256(execution_arn.encode()).hexdigest()[:40]
        created = invoke(
            os.environ["WAITPOINTS_CREATE_TOKEN_FUNCTION"],
            {
                "environment": event.get("environment", os.environ.get("WAITPOINTS_ENVIRONMENT", "dev")),
                "timeout": f"{int(event.get('timeoutSeconds', DEFAULT_TIMEOUT_SECONDS))}s",
                "tags": list(event.get("tags", ["example-durable"])),
                "idempotencyKey": key,
            },
        )
        return {"id": created["id"], "url": created["url"]}

    return step


def attach(waitpoint_id: str, environment: str | None) -> Any:
    """The wait_for_callback submitter: attach the callback id to the token (an IAM invoke)."""

    def submitter(callback_id: str, _: Any) -> None:
        payload = {"callbackId": callback_id, "waitpointId": waitpoint_id}
        if environment:
            payload["environment"] = environment
        invoke(os.environ["WAITPOINTS_ATTACH_FUNCTION"], payload)

    return submitter


@durable_execution
def lambda_handler(event: dict[str, Any] | None, context: DurableContext) -> dict[str, Any]:
    event = event or {}
    token = context.step(create_token(event, context.state.durable_execution_arn), name="create token")
    # Stands in for the external call (an approval e-mail, replicate.predictions.create(webhook=url), ...).
    # Code outside steps runs again on each replay: a real hand-off belongs in a step (or in on_created).
    logger.info("waitpoint waiting", extra={"waitpointId": token["id"]})
    outcome: dict[str, Any] = {"waitpointId": token["id"], "url": token["url"]}
    timeout = int(event.get("timeoutSeconds", DEFAULT_TIMEOUT_SECONDS)) + CALLBACK_GRACE_SECONDS
    try:
        output = context.wait_for_callback(
            attach(token["id"], event.get("environment")),
            name="approval",
            config=WaitForCallbackConfig(timeout=Duration.from_seconds(timeout)),
        )
    except CallbackExternalError as err:
        data = _json(err.data) or {}
        kind = data.get("error") if isinstance(data, dict) else None
        if kind == TIMED_OUT:
            return {**outcome, "outcome": "timed_out", "error": kind}
        if kind == REJECTED:
            return {**outcome, "outcome": "rejected", "reason": data.get("reason"), "message": err.message}
        raise  # Waitpoint.OutputTooLarge / NotFound: the execution fails with the callback's error
    except CallbackTimeoutError:
        return {**outcome, "outcome": "timed_out", "error": "Callback.Timeout"}
    result = _json(output)
    approved = isinstance(result, dict) and result.get("status") == "approved"
    return {**outcome, "outcome": "approved" if approved else "not_approved", "result": result}


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
