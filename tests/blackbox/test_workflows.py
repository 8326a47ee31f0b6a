"""The Step Functions bridge end to end: real HTTP, the emulated Step Functions executor, the stream
consumer and the timeout sweep of the local stack."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_local.stepfunctions import waiting_machine

from .helpers import TOKENS, callback_path, complete, create

if TYPE_CHECKING:
    import httpx

    from .conftest import Stack


def _finish(sfn: Any, execution: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        description = sfn.describe_execution(executionArn=execution)
        if description["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(description)
        time.sleep(0.05)


def _waiting(sfn: Any, execution: str, tasks: int, timeout: float = 30) -> None:
    """Block until the execution's `tasks`-th task has started (it is then waiting on its task token)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=execution)["events"]
        if sum(e["type"] == "TaskStarted" for e in events) >= tasks:
            return
        time.sleep(0.05)
    raise AssertionError(f"execution never reached task {tasks}")


@pytest.fixture(scope="module")
def sfn(local_stack: Stack) -> Any:
    return local_stack.aws("stepfunctions")


@pytest.fixture(scope="module")
def wait_only(sfn: Any) -> str:
    """A workflow that waits on the waitpoint id in its input, and nothing else."""
    return waiting_machine(sfn, "wait-only")


def _start_example(local_stack: Stack, sfn: Any, **input_: Any) -> str:
    body = {"environment": "dev", "timeout": "1h", "maxWaitSeconds": 3600, **input_}
    return str(
        sfn.start_execution(
            name=uuid.uuid4().hex, stateMachineArn=local_stack.example_state_machine, input=json.dumps(body)
        )["executionArn"]
    )


def _waitpoint_of(sfn: Any, execution: str) -> dict[str, Any]:
    for event in sfn.get_execution_history(executionArn=execution)["events"]:
        if event["type"] == "TaskSucceeded":
            return dict(json.loads(event["taskSucceededEventDetails"]["output"])["Payload"])
    raise AssertionError("the create task did not succeed")


def test_example_resumes_with_the_callback_body(local_stack: Stack, sfn: Any, anonymous: httpx.Client) -> None:
    execution = _start_example(local_stack, sfn)
    _waiting(sfn, execution, tasks=2)
    waitpoint = _waitpoint_of(sfn, execution)
    assert anonymous.post(callback_path(waitpoint["url"]), json={"status": "approved", "by": "ana"}).status_code == 200
    result = _finish(sfn, execution)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["result"] == {"status": "approved", "by": "ana"}


def test_example_resumes_through_complete_and_branches(local_stack: Stack, sfn: Any, api: httpx.Client) -> None:
    execution = _start_example(local_stack, sfn)
    _waiting(sfn, execution, tasks=2)
    assert complete(api, _waitpoint_of(sfn, execution)["id"], {"data": {"status": "rejected"}}).status_code == 200
    result = _finish(sfn, execution)
    assert result["status"] == "FAILED" and result["error"] == "Example.NotApproved"


def test_a_rejection_runs_its_catch_branch_with_the_reason(local_stack: Stack, sfn: Any, api: httpx.Client) -> None:
    execution = _start_example(local_stack, sfn)
    _waiting(sfn, execution, tasks=2)
    token_id = _waitpoint_of(sfn, execution)["id"]
    body = {"reason": "Not this quarter", "data": {"by": "ana"}}
    assert api.post(f"{TOKENS}/{token_id}/reject", json=body).json() == {"success": True}
    result = _finish(sfn, execution)
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["rejected"] is True and output["waitpointId"] == token_id
    assert isinstance(output["cause"], str), output
    cause = json.loads(output["cause"])
    assert cause["reason"] == "Not this quarter" and cause["data"] == {"by": "ana"}


def test_token_timeout_runs_the_catch_branch(local_stack: Stack, sfn: Any) -> None:
    execution = _start_example(local_stack, sfn, timeout="1s")
    result = _finish(sfn, execution, timeout=180)
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["timedOut"] is True and output["error"] == "Waitpoint.TimedOut"


def test_timeout_seconds_path_gives_a_precise_limit(local_stack: Stack, sfn: Any) -> None:
    execution = _start_example(local_stack, sfn, maxWaitSeconds=1)
    result = _finish(sfn, execution, timeout=180)
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"])["error"] == "States.Timeout"


def test_attaching_after_completion_resumes_at_once(api: httpx.Client, sfn: Any, wait_only: str) -> None:
    token = create(api)
    complete(api, token["id"], {"data": {"done": True}})
    execution = sfn.start_execution(
        name=uuid.uuid4().hex, stateMachineArn=wait_only, input=json.dumps({"id": token["id"]})
    )["executionArn"]
    result = _finish(sfn, execution)
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"done": True}


def test_attaching_after_timeout_fails_with_timed_out(api: httpx.Client, sfn: Any, wait_only: str) -> None:
    token = create(api, timeout="1s")
    time.sleep(1.2)
    execution = sfn.start_execution(
        name=uuid.uuid4().hex, stateMachineArn=wait_only, input=json.dumps({"id": token["id"]})
    )["executionArn"]
    result = _finish(sfn, execution)
    assert result["status"] == "FAILED" and result["error"] == "Waitpoint.TimedOut"


def test_unknown_waitpoint_fails_with_not_found(sfn: Any, wait_only: str) -> None:
    execution = sfn.start_execution(
        name=uuid.uuid4().hex, stateMachineArn=wait_only, input=json.dumps({"id": "waitpoint_" + "n" * 25})
    )
    result = _finish(sfn, execution["executionArn"])
    assert result["status"] == "FAILED" and result["error"] == "Waitpoint.NotFound"


def test_two_executions_on_one_token_both_resume(
    api: httpx.Client, anonymous: httpx.Client, sfn: Any, wait_only: str
) -> None:
    token = create(api)
    executions = [
        sfn.start_execution(name=uuid.uuid4().hex, stateMachineArn=wait_only, input=json.dumps({"id": token["id"]}))[
            "executionArn"
        ]
        for _ in range(2)
    ]
    for execution in executions:
        _waiting(sfn, execution, tasks=1)
    anonymous.post(callback_path(token["url"]), json={"shared": 1})
    for execution in executions:
        result = _finish(sfn, execution)
        assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"shared": 1}


def test_output_over_the_step_functions_limit_fails_with_output_too_large(
    api: httpx.Client, anonymous: httpx.Client, sfn: Any, wait_only: str
) -> None:
    token = create(api)
    execution = sfn.start_execution(
        name=uuid.uuid4().hex, stateMachineArn=wait_only, input=json.dumps({"id": token["id"]})
    )["executionArn"]
    _waiting(sfn, execution, tasks=1)
    # 200,000 quotes are 200,000 bytes of text; as a JSON string they are 400,002 bytes, over 262,144.
    body = b'"' * 200_000
    assert (
        anonymous.post(callback_path(token["url"]), content=body, headers={"content-type": "text/plain"}).status_code
        == 200
    )
    result = _finish(sfn, execution)
    assert result["status"] == "FAILED" and result["error"] == "Waitpoint.OutputTooLarge"
    assert api.get(f"{TOKENS}/{token['id']}").json()["output"] == body.decode()


def test_the_local_stack_fails_a_result_path_merge_over_256_kib_as_step_functions_does(
    api: httpx.Client, anonymous: httpx.Client, sfn: Any, local_stack: Stack
) -> None:
    """An output under the 245,760-byte limit is sent; merged by ResultPath into a state that already holds 30 KB
    (over the 16 KiB margin a workflow must leave) it is over 256 KiB: States.DataLimitExceeded, locally too."""
    machine = waiting_machine(sfn, "merge", result_path="$.result")
    token = create(api)
    execution = sfn.start_execution(
        name=uuid.uuid4().hex, stateMachineArn=machine, input=json.dumps({"id": token["id"], "pad": "p" * 30_000})
    )["executionArn"]
    _waiting(sfn, execution, tasks=1)
    body = b"x" * 240_000  # 240,002 bytes as a JSON string: under 245,760
    response = anonymous.post(callback_path(token["url"]), content=body, headers={"content-type": "text/plain"})
    assert response.status_code == 200
    result = _finish(sfn, execution)
    assert result["status"] == "FAILED" and result["error"] == "States.DataLimitExceeded", result
