"""Durable functions the local-stack tests run beside the template's example (the stack loads them from
WAITPOINTS_LOCAL_DURABLE_FUNCTIONS). They run in the stack's process; their attach is an invoke of the
stack's WaitForTokenFunction through the emulated Lambda, as on AWS."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_durable_execution_sdk_python import (
    CallbackExternalError,
    CallbackTimeoutError,
    DurableContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig

ATTACHES: dict[str, list[str]] = {}  # waitpoint id → what each attach answered (this process only)


def _attach(payload: dict[str, Any]) -> Any:
    response = boto3.client("lambda").invoke(
        FunctionName=os.environ["WAITPOINTS_ATTACH_FUNCTION"], Payload=json.dumps(payload).encode()
    )
    return json.loads(response["Payload"].read())


@durable_execution
def waits_on_token(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    """Waits on the token `waitpointId`; its submitter attaches `attaches` times (what a replay does)."""
    token_id = event["waitpointId"]
    attaches = ATTACHES.setdefault(token_id, [])

    def submitter(callback_id: str, _: Any) -> None:
        for _ in range(int(event.get("attaches", 1))):
            attaches.append(_attach({"callbackId": callback_id, "waitpointId": token_id})["result"])

    config = WaitForCallbackConfig(timeout=Duration.from_seconds(int(event.get("callbackTimeout", 120))))
    try:
        result = context.wait_for_callback(submitter, name="token", config=config)
    except CallbackExternalError as err:
        return {"failed": err.message, "data": json.loads(err.data) if err.data else None, "attaches": attaches}
    except CallbackTimeoutError:
        return {"callbackTimedOut": True, "attaches": attaches}
    return {"result": json.loads(result) if result else None, "attaches": attaches}
