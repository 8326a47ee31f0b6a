"""Killing the stream consumer's container in the middle of a batch loses no resume and duplicates none (issue 14).

A local stack (subprocess, loopback) with 40 workflows waiting on 40 tokens. All 40 are completed at once, and
the StreamFunction's containers are killed (SIGKILL) again and again while they resume them. Lambda retries a
batch whose invocation died (the local poller: bisect, then retry); a waiter is deleted only after its
execution has the outcome, so a retry resends only what may not have arrived, and Step Functions refuses a second
SendTaskSuccess for one task token. Each execution must end SUCCEEDED with its own output, with exactly one
TaskSucceeded event in its history.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from waitpoints_local.stepfunctions import waiting_machine

from tests.local_stack import running_stack

pytestmark = pytest.mark.stack

WORKFLOWS = 40


KILLS = 6  # fewer than the event source mapping's 10 retries: a record that exhausts them goes to the failure queue


def _kill_stream_containers(directory: Path, stop: threading.Event, killed: list[int]) -> None:
    while not stop.is_set() and len(killed) < KILLS:
        for entry in directory.glob("StreamFunction.*"):
            pid = int(entry.suffix[1:])
            if pid not in killed:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
        stop.wait(0.05)


def test_killing_the_stream_consumer_mid_batch_resumes_every_workflow_exactly_once(tmp_path: Path) -> None:
    containers = tmp_path / "containers"
    with running_stack(tmp_path, WAITPOINTS_CONTAINER_DIR=str(containers)) as values:
        sfn: Any = boto3.client(
            "stepfunctions",
            endpoint_url=values["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        machine = waiting_machine(sfn, "kill")
        api = httpx.Client(
            base_url=values["WAITPOINTS_API_URL"],
            headers={"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"},
            timeout=30,
        )
        tokens = [api.post("/api/v1/waitpoints/tokens", json={"timeout": "1h"}).json()["id"] for _ in range(WORKFLOWS)]
        executions = {
            t: sfn.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps({"id": t}))[
                "executionArn"
            ]
            for t in tokens
        }
        deadline = time.monotonic() + 60
        for execution in executions.values():  # every execution is waiting on its task token
            while not any(e["type"] == "TaskSubmitted" or e["type"] == "TaskStarted" for e in _history(sfn, execution)):
                assert time.monotonic() < deadline
                time.sleep(0.05)
        time.sleep(1)  # the waiters are attached

        stop, killed = threading.Event(), []  # type: ignore[var-annotated]
        killer = threading.Thread(target=_kill_stream_containers, args=(containers, stop, killed), daemon=True)
        killer.start()
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(lambda t: api.post(f"/api/v1/waitpoints/tokens/{t}/complete", json={"data": {"t": t}}), tokens)
            )
        time.sleep(3)
        stop.set()
        killer.join()

        deadline = time.monotonic() + 60
        results = {}
        for token_id, execution in executions.items():
            while (description := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
                assert time.monotonic() < deadline, f"{token_id} never resumed"
                time.sleep(0.1)
            results[token_id] = description
        for token_id, description in results.items():
            assert description["status"] == "SUCCEEDED", description
            assert json.loads(description["output"]) == {"t": token_id}
            succeeded = [e for e in _history(sfn, description["executionArn"]) if e["type"] == "TaskSucceeded"]
            assert len(succeeded) == 1
        assert killed, "no stream container was killed"
        print(f"killed {len(killed)} StreamFunction containers; {WORKFLOWS} workflows each resumed once")


def _history(sfn: Any, execution: str) -> list[dict[str, Any]]:
    return list(sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"])
