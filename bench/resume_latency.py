"""Time from a completion reaching the API to SendTaskSuccess, on the local stack (`make bench-resume`).

Starts a local stack, pauses executions of a one-state workflow on fresh tokens, completes each through
its callback URL, and reads the TaskSucceeded event's time in the execution history (that event is
written when Step Functions accepts SendTaskSuccess). Twice: with the inline resume (the callback's own request
resumes the workflow) and stream-only (WAITPOINTS_INLINE_RESUME_MS=0: the stream consumer does). Prints both
distributions side by side and writes .waitpoints/bench-resume.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
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


def measure(runs: int) -> list[float]:
    """completion → TaskSucceeded, in ms, over `runs` executions on a fresh local stack."""
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
        for _ in range(runs + 2):  # the first two warm the containers up
            token = api.post("/api/v1/waitpoints/tokens", json={}).json()
            execution = sfn.start_execution(
                stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps({"id": token["id"]})
            )["executionArn"]
            while _event_time(sfn, execution, "TaskStarted") is None:
                time.sleep(0.01)
            time.sleep(0.1)  # let the attach commit, so this measures the path from the completion
            sent = time.time()
            assert httpx.post(token["url"], json={"ok": True}).status_code == 200
            while (succeeded := _event_time(sfn, execution, "TaskSucceeded")) is None:
                time.sleep(0.005)
            latencies.append((succeeded - sent) * 1000)
        return sorted(latencies[2:])
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--budget-ms", help=argparse.SUPPRESS)  # one mode, in a child process: prints JSON
    args = parser.parse_args()
    if args.budget_ms is not None:
        os.environ["WAITPOINTS_INLINE_RESUME_MS"] = args.budget_ms
        print(json.dumps(measure(args.runs)))
        return 0
    inline = os.environ.get("WAITPOINTS_INLINE_RESUME_MS") or "150"
    results = {}
    for mode, budget in (("inline (the callback resumes)", inline), ("stream only", "0")):
        # a fresh process per mode: each starts its own local stack (moto keeps its state per process)
        child = subprocess.run(
            [sys.executable, "-m", "bench.resume_latency", "--runs", str(args.runs), "--budget-ms", budget],
            check=True,
            capture_output=True,
            text=True,
        )
        results[mode] = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"\ncompletion → SendTaskSuccess on the local stack, {args.runs} runs each:\n")
    print("| path | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    out = {}
    for mode, latencies in results.items():
        p50, p95 = statistics.median(latencies), latencies[max(0, math.ceil(len(latencies) * 0.95) - 1)]
        out[mode] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "max_ms": round(latencies[-1], 1)}
        print(f"| {mode} | {p50:.0f} | {p95:.0f} | {latencies[-1]:.0f} |")
    target = Path(".waitpoints") / "bench-resume.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
