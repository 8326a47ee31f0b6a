"""LambdaDurableCallbacks against AWS's local durable runner over real HTTP (boto3's `lambda` client), and
its error mapping for what only AWS answers (botocore Stubber)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from waitpoints_core import Delivery
from waitpoints_core.aws.durable import (
    ERROR_LIMIT,
    RESULT_LIMIT,
    CallbackResultTooLarge,
    LambdaDurableCallbacks,
    error_object,
    is_callback_id,
)
from waitpoints_core.errors import Unavailable

if TYPE_CHECKING:
    from waitpoints_local.durable import LocalDurableRunner

UNKNOWN = "eyJhcm4iOiJub3BlIiwib3AiOiJub3BlIn0="  # well-formed, names no execution


def _waiting(runner: LocalDurableRunner) -> tuple[str, str]:
    arn = runner.start_execution("WaitsOnce", {"timeout": 60})
    return arn, runner.wait_for_callback(arn, name="approval")


class _Counted:
    """A boto3 lambda client that counts the requests it sends."""

    def __init__(self, client: Any) -> None:
        self.client, self.sent = client, 0
        client.meta.events.register("before-send.lambda.*", self._count)

    def _count(self, **_: Any) -> None:
        self.sent += 1


def test_success_resumes_the_function_with_the_output(durable_runner: LocalDurableRunner) -> None:
    arn, callback_id = _waiting(durable_runner)
    callbacks = LambdaDurableCallbacks(durable_runner.client())
    assert callbacks.succeed(callback_id, json.dumps({"status": "approved"})) is Delivery.SENT
    result = durable_runner.wait_for_result(arn, timeout=30)
    assert json.loads(result.result) == {"result": json.dumps({"status": "approved"})}
    execution = durable_runner.client().get_durable_execution(DurableExecutionArn=arn)
    assert execution["Status"] == "SUCCEEDED"


def test_a_second_delivery_is_gone(durable_runner: LocalDurableRunner) -> None:
    arn, callback_id = _waiting(durable_runner)
    callbacks = LambdaDurableCallbacks(durable_runner.client())
    assert callbacks.succeed(callback_id, "1") is Delivery.SENT
    assert callbacks.succeed(callback_id, "2") is Delivery.GONE
    assert callbacks.fail(callback_id, "Waitpoint.TimedOut", "late") is Delivery.GONE
    assert json.loads(durable_runner.wait_for_result(arn, timeout=30).result) == {"result": "1"}


def test_an_unknown_callback_id_is_gone(durable_runner: LocalDurableRunner) -> None:
    callbacks = LambdaDurableCallbacks(durable_runner.client())
    assert callbacks.succeed(UNKNOWN, "{}") is Delivery.GONE
    assert callbacks.fail(UNKNOWN, "Waitpoint.Rejected", "no") is Delivery.GONE


def test_a_malformed_callback_id_is_gone_without_a_request(durable_runner: LocalDurableRunner) -> None:
    counted = _Counted(durable_runner.client())
    callbacks = LambdaDurableCallbacks(counted.client)
    for bad in ("", "not an id!", "a" * 1025, "abc/../x?y"):
        assert not is_callback_id(bad)
        assert callbacks.succeed(bad, "{}") is Delivery.GONE
    assert counted.sent == 0


def test_the_local_runner_names_its_errors_as_lambda_does(durable_runner: LocalDurableRunner) -> None:
    with pytest.raises(ClientError) as raised:
        durable_runner.client().send_durable_execution_callback_success(CallbackId=UNKNOWN, Result=b"1")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert type(raised.value).__name__ == "ResourceNotFoundException"


def test_an_oversized_result_is_refused_before_sending(durable_runner: LocalDurableRunner) -> None:
    arn, callback_id = _waiting(durable_runner)
    counted = _Counted(durable_runner.client())
    callbacks = LambdaDurableCallbacks(counted.client)
    over = json.dumps("é" * (RESULT_LIMIT // 2))  # under RESULT_LIMIT characters, over it in UTF-8 bytes
    with pytest.raises(CallbackResultTooLarge) as raised:
        callbacks.succeed(callback_id, over)
    assert raised.value.size == len(over.encode()) > RESULT_LIMIT and counted.sent == 0
    at_limit = json.dumps("x" * (RESULT_LIMIT - 2))  # exactly RESULT_LIMIT bytes: accepted
    assert len(at_limit.encode()) == RESULT_LIMIT
    assert callbacks.succeed(callback_id, at_limit) is Delivery.SENT and counted.sent == 1
    durable_runner.wait_for_result(arn, timeout=30)


@pytest.mark.parametrize(
    ("error", "cause", "details"),
    [
        ("Waitpoint.TimedOut", "Waitpoint waitpoint_1 timed out at 2026-12-02T10:00:00.000Z", None),
        ("Waitpoint.Rejected", "Rejected by ops", {"reason": "budget", "data": {"ticket": 7}}),
        ("Waitpoint.OutputTooLarge", "The output is 300000 bytes; GET /api/v1/waitpoints/tokens/w", None),
        ("Waitpoint.NotFound", "Waitpoint w does not exist", None),
    ],
)
def test_a_failure_tells_the_function_which_error_it_is(
    durable_runner: LocalDurableRunner, error: str, cause: str, details: dict[str, Any] | None
) -> None:
    arn, callback_id = _waiting(durable_runner)
    assert LambdaDurableCallbacks(durable_runner.client()).fail(callback_id, error, cause, details) is Delivery.SENT
    seen = json.loads(durable_runner.wait_for_result(arn, timeout=30).result)
    assert seen == {"failed": cause, "data": {**(details or {}), "error": error, "message": cause}}
    history = durable_runner.client().get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)
    (failed,) = [e for e in history["Events"] if e["EventType"] == "CallbackFailed"]
    assert failed["CallbackFailedDetails"]["Error"]["Payload"]["ErrorType"] == error


def test_error_fields_stay_within_the_limit() -> None:
    body = error_object("Waitpoint.Rejected", "m" * 100_000, {"data": "d" * 400_000})
    assert len(body["ErrorMessage"]) == 32_768
    assert json.loads(body["ErrorData"]) == {"error": "Waitpoint.Rejected", "message": "m" * 32_768, "truncated": True}
    assert sum(len(v.encode()) for v in body.values()) <= ERROR_LIMIT
    small = error_object("Waitpoint.Rejected", "no", {"reason": "r"})
    assert json.loads(small["ErrorData"]) == {"reason": "r", "error": "Waitpoint.Rejected", "message": "no"}


# --- what only AWS answers: botocore Stubber -------------------------------------------------------------


def _stubbed(code: str, status: int) -> tuple[LambdaDurableCallbacks, Stubber]:
    client = boto3.client(
        "lambda", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    for _ in range(2):
        stubber.add_client_error("send_durable_execution_callback_success", code, http_status_code=status)
    stubber.activate()
    return LambdaDurableCallbacks(client), stubber


def test_callback_timeout_exception_is_gone() -> None:
    callbacks, stubber = _stubbed("CallbackTimeoutException", 400)
    assert callbacks.succeed(UNKNOWN, "{}") is Delivery.GONE
    assert callbacks.succeed(UNKNOWN, "{}") is Delivery.GONE
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "status"), [("TooManyRequestsException", 429), ("ServiceException", 500)])
def test_throttling_and_5xx_are_unavailable(code: str, status: int) -> None:
    callbacks, _ = _stubbed(code, status)
    with pytest.raises(Unavailable):
        callbacks.succeed(UNKNOWN, "{}")


@pytest.mark.parametrize("code", ["KMSAccessDeniedException", "InvalidParameterValueException"])
def test_other_errors_are_raised_for_the_failure_queue(code: str) -> None:
    callbacks, _ = _stubbed(code, 400)
    with pytest.raises(ClientError):
        callbacks.succeed(UNKNOWN, "{}")
