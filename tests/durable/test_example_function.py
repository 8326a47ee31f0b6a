"""functions/example_durable/app.py in the testing package's in-process runner (DurableFunctionTestRunner):
each branch, driven by the callback success / failure payloads LambdaDurableCallbacks sends; its IAM invokes
are a fake lambda client that records them."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from typing import TYPE_CHECKING, Any

import pytest
from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner
from aws_durable_execution_sdk_python_testing.execution import ExecutionStatus
from waitpoints_core.aws.durable import (
    NOT_FOUND,
    OUTPUT_TOO_LARGE,
    REJECTED,
    TIMED_OUT,
    error_object,
    is_callback_id,
)
from waitpoints_local.template import REPO_ROOT

from tests.security.test_iam import REVIEWED

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

CREATE, ATTACH = "waitpoints-CreateTokenFunction", "waitpoints-WaitForTokenFunction"
WAITPOINT = "waitpoint_" + "a" * 25
URL = f"https://api.example.test/api/v1/waitpoints/tokens/{WAITPOINT}/callback/{'b' * 64}"


class FakeLambda:
    """What the function's boto3 lambda client does: CreateTokenFunction and the attach, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        payload = json.loads(Payload)
        self.calls.append((FunctionName, payload))
        if FunctionName == CREATE:
            body: Any = {"id": WAITPOINT, "url": URL, "isCached": False, "publicAccessToken": "jwt"}
        else:
            body = {"waitpointId": payload["waitpointId"], "result": "attached"}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(body).encode())}


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("WAITPOINTS_CREATE_TOKEN_FUNCTION", CREATE)
    monkeypatch.setenv("WAITPOINTS_ATTACH_FUNCTION", ATTACH)
    path = REPO_ROOT / "functions" / "example_durable" / "app.py"
    spec = importlib.util.spec_from_file_location("example_durable_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module._lambda = FakeLambda()
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture
def runner(app: ModuleType) -> Iterator[DurableFunctionTestRunner]:
    with DurableFunctionTestRunner(app.lambda_handler, poll_interval=0.05) as runner:
        yield runner


def _waiting(runner: DurableFunctionTestRunner, event: dict[str, Any] | None = None) -> tuple[str, str]:
    arn = runner.run_async(input=json.dumps(event or {"environment": "dev", "timeoutSeconds": 600}))
    return arn, runner.wait_for_callback(arn, name="approval create callback id", timeout=30)


def _fail(runner: DurableFunctionTestRunner, callback_id: str, error: str, cause: str, **details: Any) -> None:
    runner.send_callback_failure(callback_id, ErrorObject.from_dict(error_object(error, cause, details or None)))


def _result(runner: DurableFunctionTestRunner, arn: str) -> Any:
    done = runner.wait_for_result(arn, timeout=30)
    assert done.execution_status is ExecutionStatus.SUCCEEDED, done.error
    return json.loads(done.result)


def test_it_creates_a_token_through_iam_then_attaches_its_callback(
    app: ModuleType, runner: DurableFunctionTestRunner
) -> None:
    arn, callback_id = _waiting(runner, {"environment": "prod", "timeoutSeconds": 600, "tags": ["t"]})
    runner.send_callback_success(callback_id, json.dumps({"status": "approved"}).encode())
    assert _result(runner, arn)["outcome"] == "approved"
    (create, create_payload), (attach, attach_payload) = app._lambda.calls  # each once, replays included
    assert create == CREATE and attach == ATTACH
    assert create_payload["environment"] == "prod" and create_payload["timeout"] == "600s"
    assert create_payload["tags"] == ["t"] and create_payload["idempotencyKey"].startswith("durable-")
    assert attach_payload == {"callbackId": callback_id, "waitpointId": WAITPOINT, "environment": "prod"}
    assert is_callback_id(callback_id)


def test_approve(runner: DurableFunctionTestRunner) -> None:
    arn, callback_id = _waiting(runner)
    runner.send_callback_success(callback_id, json.dumps({"status": "approved", "by": "ops"}).encode())
    assert _result(runner, arn) == {
        "waitpointId": WAITPOINT,
        "url": URL,
        "outcome": "approved",
        "result": {"status": "approved", "by": "ops"},
    }


def test_completed_without_approval(runner: DurableFunctionTestRunner) -> None:
    arn, callback_id = _waiting(runner)
    runner.send_callback_success(callback_id, json.dumps({"status": "declined"}).encode())
    assert _result(runner, arn)["outcome"] == "not_approved"


def test_reject(runner: DurableFunctionTestRunner) -> None:
    arn, callback_id = _waiting(runner)
    _fail(runner, callback_id, REJECTED, "Rejected: over budget", reason="over budget")
    result = _result(runner, arn)
    assert result["outcome"] == "rejected" and result["reason"] == "over budget"


def test_waitpoint_timeout(runner: DurableFunctionTestRunner) -> None:
    arn, callback_id = _waiting(runner)
    _fail(runner, callback_id, TIMED_OUT, f"Waitpoint {WAITPOINT} timed out at 2026-12-02T10:00:00.000Z")
    assert _result(runner, arn) == {"waitpointId": WAITPOINT, "url": URL, "outcome": "timed_out", "error": TIMED_OUT}


def test_the_callbacks_own_timeout_is_the_timeout_branch_too(
    app: ModuleType, runner: DurableFunctionTestRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "CALLBACK_GRACE_SECONDS", 0)
    arn, _ = _waiting(runner, {"timeoutSeconds": 1})  # callback timeouts run on wall-clock time
    assert _result(runner, arn)["error"] == "Callback.Timeout"


@pytest.mark.parametrize("error", [OUTPUT_TOO_LARGE, NOT_FOUND])
def test_other_waitpoint_errors_fail_the_execution(runner: DurableFunctionTestRunner, error: str) -> None:
    arn, callback_id = _waiting(runner)
    _fail(runner, callback_id, error, "see the message")
    done = runner.wait_for_result(arn, timeout=30)
    assert done.execution_status is ExecutionStatus.FAILED
    assert done.error is not None and json.loads(done.error.data)["error"] == error


def test_it_invokes_only_what_its_role_grants(app: ModuleType, runner: DurableFunctionTestRunner) -> None:
    arn, callback_id = _waiting(runner)
    runner.send_callback_success(callback_id, b'{"status": "approved"}')
    _result(runner, arn)
    invoked = {
        ("lambda:InvokeFunction", "function/" + name.removeprefix("waitpoints-")) for name, _ in app._lambda.calls
    }
    assert invoked == {p for p in REVIEWED["ExampleDurableFunction"] if p[0] == "lambda:InvokeFunction"}
