"""Time from a completion reaching the API to SendTaskSuccess, on the local stack (`make bench-resume`).

Starts a local stack, pauses executions of a one-state workflow on fresh tokens, completes each through
its callback URL, and reads the TaskSucceeded event's time in the execution history (that event is
written when Step Functions accepts SendTaskSuccess). Prints the distribution over the runs.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
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
        latencies.sort()
        p50, p95 = statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"completion → SendTaskSuccess over {len(latencies)} runs: "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms"
        )
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
