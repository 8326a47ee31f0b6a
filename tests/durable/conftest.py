"""AWS's local durable runner on a loopback port, with small durable functions to resume."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("aws_durable_execution_sdk_python_testing")

from aws_durable_execution_sdk_python import (
    CallbackExternalError,
    CallbackTimeoutError,
    DurableContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from waitpoints_local.durable import LocalDurableRunner

if TYPE_CHECKING:
    from collections.abc import Iterator


@durable_execution
def waits_once(event: Any, context: DurableContext) -> dict[str, Any]:
    """Waits on one callback; reports what it got, as a function that branches on it would see it."""
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(int((event or {}).get("timeout", 60))))
    try:
        result = context.wait_for_callback(lambda callback_id, ctx: None, name="approval", config=config)
    except CallbackExternalError as err:
        return {"failed": err.message, "data": json.loads(err.data) if err.data else None}
    except CallbackTimeoutError:
        return {"callbackTimedOut": True}
    return {"result": result}


@pytest.fixture(scope="module")
def durable_runner() -> Iterator[LocalDurableRunner]:
    with LocalDurableRunner({"WaitsOnce": waits_once}) as runner:
        yield runner
