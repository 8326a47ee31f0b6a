"""Time from a completion reaching the API to SendTaskSuccess, and to SendDurableExecutionCallbackSuccess, on the
local stack (`make bench-resume`).

Starts a local stack, pauses executions of a one-state workflow on fresh tokens, completes each through
its callback URL, and reads the TaskSucceeded event's time in the execution history (that event is
written when Step Functions accepts SendTaskSuccess). Then the same for a Lambda durable function on the
stack's local durable runner: its `wait_for_callback` submitter attaches the callback id through the
stack's WaitForTokenFunction, the function suspends (InvocationCompleted), and the CallbackSucceeded event's
time in the durable execution's history is when the runner accepted SendDurableExecutionCallbackSuccess.

Twice, each in a fresh process with its own stack: with the inline resume (the callback's own request resumes
the waiter) and stream-only (WAITPOINTS_INLINE_RESUME_MS=0: the stream consumer does). Each run also notes whether
the callback was answered before the resume was accepted, which says who resumed: the stream (answered first) or
the callback's own request (it answers after its resume). Prints the distributions side by side and writes
.waitpoints/bench-resume.json (`--out`).
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
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from waitpoints_local.stack import LocalStack

if TYPE_CHECKING:
    from collections.abc import Callable

Run = tuple[float, bool]  # ms from the callback's POST to the resume accepted; whether the POST was answered first

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


def _durable_event_time(durable: Any, arn: str, kind: str) -> float | None:
    for event in durable.get_durable_execution_history(DurableExecutionArn=arn)["Events"]:
        if event["EventType"] == kind:
            return float(event["EventTimestamp"].timestamp())
    return None


def complete_and_time(sender: httpx.Client, url: str, resumed_at: Callable[[], float | None]) -> Run:
    """POST the callback URL, then wait for `resumed_at()` (the resume event's time) to be there."""
    sent = time.time()
    assert sender.post(url, json={"ok": True}).status_code == 200
    answered = time.time()
    while (resumed := resumed_at()) is None:
        time.sleep(0.05)  # the event carries its own time: a slower poll only keeps this off the CPU
    return (resumed - sent) * 1000, answered < resumed


def durable_latencies(stack: LocalStack, api: httpx.Client, sender: httpx.Client, runs: int) -> list[Run]:
    """Completion (the callback URL) → SendDurableExecutionCallbackSuccess accepted, for `runs` runs."""
    from aws_durable_execution_sdk_python import durable_execution

    assert stack.durable is not None, "the local durable runner needs aws-durable-execution-sdk-python-testing"
    stack.durable.register("BenchWaitsOnToken", durable_execution(_waits_on_token))
    durable = stack.durable.client()
    runs_ = []
    for _ in range(runs + 2):  # the first two warm the containers up
        token = api.post("/api/v1/waitpoints/tokens", json={}).json()
        arn = stack.durable.start_execution("BenchWaitsOnToken", {"id": token["id"]}, timeout_seconds=600)
        # the function suspended on its callback (the submitter's step attached it some 100 ms before)
        while _durable_event_time(durable, arn, "InvocationCompleted") is None:
            time.sleep(0.01)
        time.sleep(0.1)  # as for Step Functions: measure the path from the completion
        runs_.append(
            complete_and_time(sender, token["url"], partial(_durable_event_time, durable, arn, "CallbackSucceeded"))
        )
    return runs_[2:]


def measure(runs: int, durable: bool) -> dict[str, list[Run]]:
    """completion → resume accepted, in ms, per resume target, over `runs` waits each on a fresh local stack."""
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
        sender = httpx.Client()  # the webhook sender's client, made before the clock starts (one costs ~30 ms)
        runs_ = []
        for _ in range(runs + 2):  # the first two warm the containers up
            token = api.post("/api/v1/waitpoints/tokens", json={}).json()
            execution = sfn.start_execution(
                stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps({"id": token["id"]})
            )["executionArn"]
            while _event_time(sfn, execution, "TaskStarted") is None:
                time.sleep(0.01)
            time.sleep(0.1)  # let the attach commit, so this measures the path from the completion
            runs_.append(complete_and_time(sender, token["url"], partial(_event_time, sfn, execution, "TaskSucceeded")))
        results = {"SendTaskSuccess": runs_[2:]}
        if durable and stack.durable is not None:
            results["SendDurableExecutionCallbackSuccess"] = durable_latencies(stack, api, sender, runs)
        return results
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-durable", action="store_true", help="only the Step Functions figures")
    parser.add_argument("--out", type=Path, default=Path(".waitpoints") / "bench-resume.json")
    parser.add_argument("--budget-ms", help=argparse.SUPPRESS)  # one mode, in a child process: prints JSON
    args = parser.parse_args()
    if args.budget_ms is not None:
        os.environ["WAITPOINTS_INLINE_RESUME_MS"] = args.budget_ms
        print(json.dumps(measure(args.runs, durable=not args.skip_durable)))
        return 0
    inline = os.environ.get("WAITPOINTS_INLINE_RESUME_MS") or "150"
    results = {}
    for mode, budget in (("inline (the callback resumes)", inline), ("stream only", "0")):
        # a fresh process per mode: each starts its own local stack (moto keeps its state per process)
        command = [sys.executable, "-m", "bench.resume_latency", "--runs", str(args.runs), "--budget-ms", budget]
        child = subprocess.run(
            command + (["--skip-durable"] if args.skip_durable else []), check=True, capture_output=True, text=True
        )
        results[mode] = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"\ncompletion → resume accepted on the local stack, {args.runs} runs each:\n")
    print("| resume | path | p50 ms | p95 ms | max ms | callback answered first |")
    print("|---|---|---:|---:|---:|---:|")
    out: dict[str, dict[str, dict[str, float]]] = {}
    for mode, targets in results.items():
        for target, runs in targets.items():
            latencies = sorted(ms for ms, _ in runs)
            p50, p95 = statistics.median(latencies), latencies[max(0, math.ceil(len(latencies) * 0.95) - 1)]
            answered_first = sum(first for _, first in runs)
            figures = {
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "max_ms": round(latencies[-1], 1),
                "runs": len(runs),
                "answered_first": answered_first,
            }
            out.setdefault(target, {})[mode] = figures
            print(f"| {target} | {mode} | {p50:.0f} | {p95:.0f} | {latencies[-1]:.0f} | {answered_first}/{len(runs)} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
