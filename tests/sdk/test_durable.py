"""waitpoints.durable.wait_for_token in the testing package's in-process durable runner, resumed with the
payloads the service's LambdaDurableCallbacks sends; and the SDK without the durable SDK installed."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("aws_durable_execution_sdk_python")

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner
from waitpoints import CreatedToken, WaitpointRejectedError, WaitpointTimeoutError
from waitpoints import durable as helper
from waitpoints_core.aws.durable import OUTPUT_TOO_LARGE, REJECTED, TIMED_OUT, error_object

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
WAITPOINT = "waitpoint_" + "c" * 25
URL = f"https://api.example.test/api/v1/waitpoints/tokens/{WAITPOINT}/callback/{'d' * 64}"
ACCESS = "eyJ.secret.jwt"


class FakeLambda:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        payload = json.loads(Payload)
        self.calls.append((FunctionName, payload))
        body: Any = (
            {"id": WAITPOINT, "url": URL, "isCached": False, "publicAccessToken": ACCESS}
            if FunctionName == "create"
            else {"waitpointId": payload["waitpointId"], "result": "attached"}
        )
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(body).encode())}


@pytest.fixture
def fake() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def runner(fake: FakeLambda) -> Iterator[tuple[DurableFunctionTestRunner, list[CreatedToken]]]:
    created: list[CreatedToken] = []

    @durable_execution
    def handler(event: Any, context: DurableContext) -> Any:
        try:
            output = helper.wait_for_token(
                context,
                timeout=event.get("timeout", "10m"),
                tags=["order:42"],
                on_created=created.append,
                name="approval",
                environment="dev",
                create_function="create",
                attach_function="attach",
                lambda_client=fake,
            )
        except WaitpointRejectedError as err:
            return {"rejected": err.reason, "data": err.data, "cause": type(err.__cause__).__name__}
        except WaitpointTimeoutError as err:
            return {"timedOut": err.token_id, "cause": type(err.__cause__).__name__}
        return {"output": output}

    with DurableFunctionTestRunner(handler, poll_interval=0.05) as runner:
        yield runner, created


def _waiting(runner: DurableFunctionTestRunner, event: dict[str, Any] | None = None) -> tuple[str, str]:
    arn = runner.run_async(input=json.dumps(event or {}))
    return arn, runner.wait_for_callback(arn, name="approval create callback id", timeout=30)


def _fail(runner: DurableFunctionTestRunner, callback_id: str, error: str, cause: str, **details: Any) -> None:
    runner.send_callback_failure(callback_id, ErrorObject.from_dict(error_object(error, cause, details or None)))


def _result(runner: DurableFunctionTestRunner, arn: str) -> Any:
    done = runner.wait_for_result(arn, timeout=30)
    return json.loads(done.result) if done.result else done


def test_it_returns_the_parsed_output(runner: Any, fake: FakeLambda) -> None:
    durable, created = runner
    arn, callback_id = _waiting(durable)
    durable.send_callback_success(callback_id, json.dumps({"status": "approved"}).encode())
    assert _result(durable, arn) == {"output": {"status": "approved"}}
    ((token,),) = {tuple(created)}  # on_created ran once, with the whole created token
    assert token.url == URL and token.public_access_token == ACCESS
    (_, create), (_, attach) = fake.calls
    assert create["timeout"] == "600s" and create["tags"] == ["order:42"] and create["environment"] == "dev"
    assert create["idempotencyKey"].startswith("durable-")
    assert attach == {"callbackId": callback_id, "waitpointId": WAITPOINT, "environment": "dev"}


def test_the_access_token_is_never_checkpointed(runner: Any) -> None:
    durable, _ = runner
    arn, callback_id = _waiting(durable)
    durable.send_callback_success(callback_id, b"null")
    assert _result(durable, arn) == {"output": None}
    history = durable.get_execution_history(arn, include_execution_data=True)
    assert ACCESS not in json.dumps(history.to_dict(), default=str)


def test_rejection_raises_waitpoint_rejected(runner: Any) -> None:
    durable, _ = runner
    arn, callback_id = _waiting(durable)
    _fail(durable, callback_id, REJECTED, "Rejected", reason="over budget", data={"limit": 10})
    assert _result(durable, arn) == {"rejected": "over budget", "data": {"limit": 10}, "cause": "CallbackExternalError"}


def test_the_waitpoints_timeout_raises_waitpoint_timeout(runner: Any) -> None:
    durable, _ = runner
    arn, callback_id = _waiting(durable)
    _fail(durable, callback_id, TIMED_OUT, f"Waitpoint {WAITPOINT} timed out")
    assert _result(durable, arn) == {"timedOut": WAITPOINT, "cause": "CallbackExternalError"}


def test_the_callbacks_own_timeout_raises_waitpoint_timeout(runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper, "CALLBACK_GRACE", timedelta(0))
    durable, _ = runner
    arn, _ = _waiting(durable, {"timeout": "1s"})
    assert _result(durable, arn) == {"timedOut": WAITPOINT, "cause": "CallbackTimeoutError"}


def test_other_errors_are_the_durable_sdks(runner: Any) -> None:
    durable, _ = runner
    arn, callback_id = _waiting(durable)
    _fail(durable, callback_id, OUTPUT_TOO_LARGE, "fetch it with GET /api/v1/waitpoints/tokens/...")
    done = _result(durable, arn)
    assert done.error is not None and json.loads(done.error.data)["error"] == OUTPUT_TOO_LARGE


@pytest.mark.parametrize(("text", "seconds"), [("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("45s", 45)])
def test_timeouts_in_seconds(text: str, seconds: int) -> None:
    assert helper.timeout_seconds(text) == seconds
    assert helper.timeout_seconds(timedelta(seconds=seconds - 0.5)) == seconds


@pytest.mark.parametrize("bad", ["", "1 hour", "0s", "2026-12-02T10:00:00Z"])
def test_bad_timeouts(bad: str) -> None:
    with pytest.raises(ValueError):
        helper.timeout_seconds(bad)


def test_the_sdk_imports_without_the_durable_sdk() -> None:
    code = (
        "import sys; sys.modules['aws_durable_execution_sdk_python'] = None;"  # as if not installed
        "import waitpoints, waitpoints.durable as d;"
        "assert 'aws_durable_execution_sdk_python' not in {m for m, v in sys.modules.items() if v is not None};"
        "assert 'boto3' not in sys.modules;"
        "\ntry:\n d.wait_for_token(object())\nexcept waitpoints.ConfigurationError as e:\n print(e)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "sdk")}
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'waitpoints[durable]'" in result.stdout
