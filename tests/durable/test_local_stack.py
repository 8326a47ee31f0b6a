"""Lambda durable functions end to end on the local stack (`make run`): real HTTP to the API and the callback
URL, AWS's local durable runner, the stream consumer resuming callbacks through boto3 as on Lambda. The
example durable function, and tests/durable/stack_functions.py's `WaitsOnToken` (a function waiting on a
token it is given) loaded with WAITPOINTS_LOCAL_DURABLE_FUNCTIONS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest

from tests.local_stack import REPO, running_stack

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.stack
pytest.importorskip("aws_durable_execution_sdk_python_testing")

FUNCTIONS = f"WaitsOnToken={REPO / 'tests' / 'durable' / 'stack_functions.py'}:waits_on_token"
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


class Local:
    def __init__(self, values: dict[str, str], state_dir: Path) -> None:
        self.values, self.state_dir = values, state_dir
        self.endpoint = values["WAITPOINTS_DURABLE_ENDPOINT"]
        self.api = httpx.Client(
            base_url=values["WAITPOINTS_API_URL"],
            headers={"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"},
            timeout=30,
        )
        fake = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.durable = boto3.client("lambda", endpoint_url=self.endpoint, **fake)
        self.sfn = boto3.client("stepfunctions", endpoint_url=values["AWS_ENDPOINT_URL"], **fake)

    def start(self, function: str, payload: dict[str, Any]) -> str:
        response = httpx.post(
            f"{self.endpoint}/start-durable-execution",
            json={
                "AccountId": "123456789012",
                "FunctionName": function,
                "FunctionQualifier": "$LATEST",
                "ExecutionName": uuid.uuid4().hex,
                "ExecutionTimeoutSeconds": 600,
                "ExecutionRetentionPeriodDays": 1,
                "Input": json.dumps(payload),
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["ExecutionArn"])

    def history(self, arn: str) -> list[dict[str, Any]]:
        return list(self.durable.get_durable_execution_history(DurableExecutionArn=arn)["Events"])

    def wait_attached(self, arn: str, submitter: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("Name") == submitter and e["EventType"] == "StepSucceeded" for e in self.history(arn)):
            assert time.monotonic() < deadline, self.history(arn)
            time.sleep(0.05)

    def result(self, arn: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (execution := self.durable.get_durable_execution(DurableExecutionArn=arn))["Status"] == "RUNNING":
            assert time.monotonic() < deadline, "the execution is still running"
            time.sleep(0.05)
        assert execution["Status"] == "SUCCEEDED", execution
        return dict(json.loads(execution["Result"]))

    def token_tagged(self, tag: str) -> dict[str, Any]:
        return dict(self.api.get("/api/v1/waitpoints/tokens", params={"filter[tags]": tag}).json()["data"][0])

    def example(self, **payload: Any) -> tuple[str, dict[str, Any]]:
        """An execution of the example, waiting; and its token."""
        tag = f"t-{uuid.uuid4().hex[:10]}"
        arn = self.start(self.values["WAITPOINTS_EXAMPLE_DURABLE_FUNCTION"], {"tags": [tag], **payload})
        self.wait_attached(arn, "approval submitter")
        return arn, self.token_tagged(tag)

    def token(self, **body: Any) -> dict[str, Any]:
        return dict(self.api.post("/api/v1/waitpoints/tokens", json=body).json())


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    state = tmp_path_factory.mktemp("durable-stack")
    with running_stack(state, WAITPOINTS_LOCAL_DURABLE_FUNCTIONS=FUNCTIONS) as values:
        yield Local(values, state)


def test_local_env_says_how_to_reach_the_runner(local: Local) -> None:
    assert local.endpoint.startswith("http://127.0.0.1:")
    assert local.values["WAITPOINTS_EXAMPLE_DURABLE_FUNCTION"] == "waitpoints-ExampleDurableFunction"
    assert {"WAITPOINTS_API_URL", "WAITPOINTS_SECRET_KEY", "AWS_ENDPOINT_URL", "WAITPOINTS_TABLE_NAME"} <= set(
        local.values
    )


def test_the_callback_url_resumes_the_example_with_its_output(local: Local) -> None:
    arn, token = local.example(timeoutSeconds=600)
    assert local.durable.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    url = f"{local.values['WAITPOINTS_API_URL']}/api/v1/waitpoints/tokens/{token['id']}"
    callback = [e for e in local.history(arn) if e["EventType"] == "CallbackStarted"]
    assert len(callback) == 1
    # The function hands its token's URL out; here the test takes it from the create step's checkpoint.
    events = local.durable.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)
    created = next(e for e in events["Events"] if e.get("Name") == "create token" and "StepSucceededDetails" in e)
    callback_url = re.search(
        r"http://[^\"]+/callback/[0-9a-f]{64}", created["StepSucceededDetails"]["Result"]["Payload"]
    )
    assert callback_url and callback_url.group(0).startswith(url)
    assert httpx.post(callback_url.group(0), json={"status": "approved", "by": "ops"}).status_code == 200
    result = local.result(arn)
    assert result["outcome"] == "approved" and result["result"] == {"status": "approved", "by": "ops"}


def test_complete_resumes_the_example(local: Local) -> None:
    arn, token = local.example(timeoutSeconds=600)
    assert (
        local.api.post(f"/api/v1/waitpoints/tokens/{token['id']}/complete", json={"data": {"status": "no"}}).status_code
        == 200
    )
    assert local.result(arn)["outcome"] == "not_approved"


def test_a_timeout_takes_the_examples_timeout_branch(local: Local) -> None:
    arn, _ = local.example(timeoutSeconds=2)
    result = local.result(arn, timeout=30)  # the sweep runs every second
    assert result["outcome"] == "timed_out" and result["error"] == "Waitpoint.TimedOut"


def test_a_rejection_takes_the_examples_reject_branch(local: Local) -> None:
    arn, token = local.example(timeoutSeconds=600)
    _reject_in_process(local, token["id"], "not this quarter")
    result = local.result(arn)
    assert result["outcome"] == "rejected" and result["reason"] == "not this quarter"
    assert "not this quarter" in result["message"]


def _reject_in_process(local: Local, token_id: str, reason: str) -> None:
    """The core's reject (the /reject route is another issue's), run in a subprocess on the stack's AWS."""
    script = (
        "from waitpoints_core import get_service\n"
        "from waitpoints_core.models import Principal\n"
        f"assert get_service().tokens.reject(Principal('dev'), {token_id!r}, {reason!r}, {{'ticket': 7}})\n"
    )
    env = {
        **os.environ,
        **{k: v for k, v in local.values.items() if k.startswith(("AWS_", "WAITPOINTS_"))},
        "WAITPOINTS_SIGNING_SECRET_ARN": local.values["WAITPOINTS_SIGNING_SECRET_ARN"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers/core", "local", "admin", ".")),
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=REPO)


def test_attaching_after_completion_resolves_the_callback_at_once(local: Local) -> None:
    token = local.token(timeout="10m")
    assert local.api.post(f"/api/v1/waitpoints/tokens/{token['id']}/complete", json={"data": [1, 2]}).status_code == 200
    arn = local.start("WaitsOnToken", {"waitpointId": token["id"]})
    assert local.result(arn) == {"result": [1, 2], "attaches": ["final"]}
    again = local.start("WaitsOnToken", {"waitpointId": token["id"]})  # another execution, another callback id
    assert local.result(again) == {"result": [1, 2], "attaches": ["final", "final"]}


def test_a_step_functions_execution_and_a_durable_execution_on_one_token_both_resume(local: Local) -> None:
    token = local.token(timeout="10m")
    machine = local.sfn.create_state_machine(
        name=f"wait-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(WAIT_ONLY),
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]
    execution = local.sfn.start_execution(stateMachineArn=machine, input=json.dumps({"id": token["id"]}))[
        "executionArn"
    ]
    arn = local.start("WaitsOnToken", {"waitpointId": token["id"]})
    local.wait_attached(arn, "token submitter")
    deadline = time.monotonic() + 30
    while not any(
        e["type"] == "TaskSubmitted" for e in local.sfn.get_execution_history(executionArn=execution)["events"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)  # the task's attach commits
    assert (
        local.api.post(f"/api/v1/waitpoints/tokens/{token['id']}/complete", json={"data": {"both": True}}).status_code
        == 200
    )
    assert local.result(arn)["result"] == {"both": True}
    while (status := local.sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline + 30
        time.sleep(0.05)
    assert status["status"] == "SUCCEEDED" and json.loads(status["output"]) == {"both": True}


def test_a_replayed_submitter_attaches_once_and_is_resumed_once(local: Local) -> None:
    token = local.token(timeout="10m")
    arn = local.start("WaitsOnToken", {"waitpointId": token["id"], "attaches": 2})
    local.wait_attached(arn, "token submitter")
    assert local.api.post(f"/api/v1/waitpoints/tokens/{token['id']}/complete", json={"data": "once"}).status_code == 200
    assert local.result(arn) == {"result": "once", "attaches": ["attached", "already_attached"]}
    successes = [e for e in local.history(arn) if e["EventType"] == "CallbackSucceeded"]
    assert len(successes) == 1
    # And once resumed, attaching the same callback id again is a no-op: nothing is sent twice.
    callback_id = next(e for e in local.history(arn) if e["EventType"] == "CallbackStarted")["CallbackStartedDetails"][
        "CallbackId"
    ]
    answer = _invoke_attach(local, {"callbackId": callback_id, "waitpointId": token["id"]})
    assert answer["result"] == "already_attached"


def _invoke_attach(local: Local, payload: dict[str, Any]) -> dict[str, Any]:
    fake = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("lambda", endpoint_url=local.values["AWS_ENDPOINT_URL"], **fake)
    response = client.invoke(FunctionName="waitpoints-WaitForTokenFunction", Payload=json.dumps(payload).encode())
    return dict(json.loads(response["Payload"].read()))


def test_an_oversized_output_fails_the_callback_with_how_to_fetch_it(local: Local) -> None:
    token = local.token(timeout="10m")
    arn = local.start("WaitsOnToken", {"waitpointId": token["id"]})
    local.wait_attached(arn, "token submitter")
    big = "x" * 300_000
    assert local.api.post(f"/api/v1/waitpoints/tokens/{token['id']}/complete", json={"data": big}).status_code == 200
    result = local.result(arn)
    assert result["data"]["error"] == "Waitpoint.OutputTooLarge"
    assert f"GET /api/v1/waitpoints/tokens/{token['id']}" in result["failed"]
    assert local.api.get(f"/api/v1/waitpoints/tokens/{token['id']}").json()["output"] == big


def test_an_unknown_token_fails_the_callback_at_once(local: Local) -> None:
    arn = local.start("WaitsOnToken", {"waitpointId": "waitpoint_" + "z" * 25})
    result = local.result(arn)
    assert result["data"]["error"] == "Waitpoint.NotFound" and result["attaches"] == ["not_found"]


def test_the_readme_commands(local: Local) -> None:
    """README's "Watching a durable function resume locally", exactly as written."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Watching a durable function resume locally", 1)[1]
    block = section.split("```bash\n", 1)[1].split("\n```", 1)[0]
    (local.state_dir / ".waitpoints").mkdir(exist_ok=True)
    (local.state_dir / ".waitpoints" / "local.env").write_text((local.state_dir / "local.env").read_text())
    venv = os.path.dirname(sys.executable)
    done = subprocess.run(
        ["bash", "-e", "-c", block],
        cwd=local.state_dir,
        env={**os.environ, "PATH": f"{venv}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["RUNNING", "SUCCEEDED", "approved"]
