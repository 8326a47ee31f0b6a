"""Time from a completion reaching the API to SendTaskSuccess, and to SendDurableExecutionCallbackSuccess, on the
local stack (`make bench-resume`).

Starts a local stack, pauses executions of a one-state workflow on fresh tokens, completes each through
its callback URL, and reads the TaskSucceeded event's time in the execution history (that event is
written when Step Functions accepts SendTaskSuccess). Then the same for a Lambda durable function on the
stack's local durable runner: its `wait_for_callback` submitter attaches the callback id through the
stack's WaitForTokenFunction, and the CallbackSucceeded event's time in the durable execution's history is
when the runner accepted SendDurableExecutionCallbackSuccess. Prints both distributions over the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx
from waitpoints_local.stack import LocalStack

WAIT_ONLY = {
    "StartAt": "Wait",
    "States": {
        "Wait": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "End": True,
            "Parameters": {
                "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:waitpoints-WaitForTokenFunction",
                "Payload": {"taskToken.$": "$$.Task.Token", "waitpointId.$": "$.id"},
            },
        }
    },
}


def _event_time(sfn: object, execution: str, kind: str) -> float | None:
    for event in sfn.get_execution_history(executionArn=execution)["events"]:  # type: ignore[attr-defined]
        if event["type"] == kind:
            return float(event["timestamp"].timestamp())
    return None


def _waits_on_token(event: Any, context: Any) -> Any:
    """A durable function that waits on the token `event["id"]` (registered with the stack's runner)."""
    from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig

    def submitter(callback_id: str, _: Any) -> None:
        payload = {"callbackId": callback_id, "waitpointId": event["id"]}
        boto3.client("lambda").invoke(FunctionName="waitpoints-WaitForTokenFunction", Payload=json.dumps(payload))

    config = WaitForCallbackConfig(timeout=Duration.from_seconds(300))
    return context.wait_for_callback(submitter, name="bench", config=config)


def _durable_event_time(durable: Any, arn: str, kind: str, name: str | None = None) -> float | None:
    for event in durable.get_durable_execution_history(DurableExecutionArn=arn)["Events"]:
        if event["EventType"] == kind and (name is None or event.get("Name") == name):
            return float(event["EventTimestamp"].timestamp())
    return None


def durable_latencies(stack: LocalStack, api: httpx.Client, runs: int) -> list[float]:
    """Completion (the callback URL) → SendDurableExecutionCallbackSuccess accepted, in ms, for `runs` runs."""
    from aws_durable_execution_sdk_python import durable_execution

    assert stack.durable is not None, "the local durable runner needs aws-durable-execution-sdk-python-testing"
    stack.durable.register("BenchWaitsOnToken", durable_execution(_waits_on_token))
    durable = stack.durable.client()
    latencies = []
    for _ in range(runs):
        token = api.post("/api/v1/waitpoints/tokens", json={}).json()
        arn = stack.durable.start_execution("BenchWaitsOnToken", {"id": token["id"]}, timeout_seconds=600)
        while _durable_event_time(durable, arn, "StepSucceeded", "bench submitter") is None:
            time.sleep(0.01)
        time.sleep(0.1)  # as for Step Functions: measure the path through the stream
        sent = time.time()
        assert httpx.post(token["url"], json={"ok": True}).status_code == 200
        while (succeeded := _durable_event_time(durable, arn, "CallbackSucceeded")) is None:
            time.sleep(0.005)
        latencies.append((succeeded - sent) * 1000)
    return latencies


def _report(what: str, latencies: list[float]) -> None:
    latencies = sorted(latencies)
    p50, p95 = statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"completion → {what} over {len(latencies)} runs: "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-durable", action="store_true", help="only the Step Functions figure")
    args = parser.parse_args()
    stack = LocalStack(port=0, state_dir=Path(tempfile.mkdtemp()))
    key = stack.start()
    try:
        sfn = boto3.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="bench-wait-only",
            definition=json.dumps(WAIT_ONLY),
            roleArn="arn:aws:iam::123456789012:role/waitpoints-local",
        )["stateMachineArn"]
        api = httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {key}"})
        latencies = []
        for _ in range(args.runs):
            token = api.post("/api/v1/waitpoints/tokens", json={}).json()
            execution = sfn.start_execution(
                stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps({"id": token["id"]})
            )["executionArn"]
            while _event_time(sfn, execution, "TaskStarted") is None:
                time.sleep(0.01)
            time.sleep(0.1)  # let the attach commit, so this measures the path through the stream
            sent = time.time()
            assert httpx.post(token["url"], json={"ok": True}).status_code == 200
            while (succeeded := _event_time(sfn, execution, "TaskSucceeded")) is None:
                time.sleep(0.005)
            latencies.append((succeeded - sent) * 1000)
        _report("SendTaskSuccess", latencies)
        if stack.durable is not None and not args.skip_durable:
            _report("SendDurableExecutionCallbackSuccess", durable_latencies(stack, api, args.runs))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
