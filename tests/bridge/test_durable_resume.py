"""Resuming Lambda durable functions from the stream consumer (in-process moto, a recording stand-in for
SendDurableExecutionCallbackSuccess/Failure): routing by waiter kind, the error mapping in a stream batch,
idempotent attaches, and waiter items written before waiters had a kind."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from waitpoints_core import Attachment, CreateTokenRequest, Principal, WaitForTokenRequest, aws
from waitpoints_core.dynamodb import codecs
from waitpoints_core.ports import Waiter, WaiterKind

if TYPE_CHECKING:
    from .conftest import Bridge

DEV = Principal(env="dev")
STATUS = {"CallbackTimeoutException": 400, "TooManyRequestsException": 429, "ServiceException": 500}


@dataclass
class Durable:
    """Answers the durable callback API on the service's lambda client; `faults[callback_id]` are error codes
    to answer first."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        callback_id = unquote(params["url_path"].split("/durable-execution-callbacks/", 1)[1].rsplit("/", 1)[0])
        pending = self.faults.get(callback_id)
        if pending:
            code = pending.pop(0)
            error = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": STATUS[code]}}
            return AWSResponse("https://lambda", STATUS[code], {}, None), error
        body = params["body"]
        call = {"operation": model.name, "callbackId": callback_id}
        if model.name == "SendDurableExecutionCallbackSuccess":
            call["result"] = body.decode() if isinstance(body, bytes) else body
        else:
            call["error"] = json.loads(body)
        self.calls.append(call)
        return AWSResponse("https://lambda", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def outcomes(self) -> dict[str, dict[str, Any]]:
        return {call["callbackId"]: call for call in self.calls}


@pytest.fixture
def durable(bridge: Bridge) -> Durable:
    stand_in = Durable()
    client = aws.client("lambda", None)  # the client runtime gives LambdaDurableCallbacks
    for operation in ("SendDurableExecutionCallbackSuccess", "SendDurableExecutionCallbackFailure"):
        client.meta.events.register(f"before-call.lambda.{operation}", stand_in)
    return stand_in


def _token(bridge: Bridge, **options: object) -> str:
    return bridge.service.tokens.create("dev", CreateTokenRequest.model_validate(options)).id


def _attach(bridge: Bridge, token_id: str, callback_id: str) -> Attachment:
    request = WaitForTokenRequest(callbackId=callback_id, waitpointId=token_id)
    return bridge.service.workflows.wait_for_token(request)


def test_a_request_names_exactly_one_handle() -> None:
    from waitpoints_core import InvalidInput, parse_request

    for bad in ({"waitpointId": "w"}, {"waitpointId": "w", "taskToken": "t", "callbackId": "Y2I="}):
        with pytest.raises(InvalidInput, match="exactly one of taskToken"):
            parse_request(WaitForTokenRequest, bad)
    with pytest.raises(InvalidInput, match="callbackId"):
        parse_request(WaitForTokenRequest, {"waitpointId": "w", "callbackId": "not a callback id!"})


def test_both_kinds_on_one_token_are_each_resumed_through_their_own_api(bridge: Bridge, durable: Durable) -> None:
    token_id = _token(bridge)
    assert _attach(bridge, token_id, "Y2Ix") is Attachment.ATTACHED
    assert (
        bridge.service.workflows.wait_for_token(WaitForTokenRequest(taskToken="task", waitpointId=token_id))
        is Attachment.ATTACHED
    )
    assert {w.kind for w in bridge.service.store.waiters(token_id)} == {WaiterKind.DURABLE, WaiterKind.STEP_FUNCTIONS}
    bridge.service.tokens.complete(DEV, token_id, {"ok": True})
    assert bridge.invoke_stream(bridge.deliver_stream()) == {"batchItemFailures": []}
    assert json.loads(durable.outcomes()["Y2Ix"]["result"]) == {"ok": True}
    assert json.loads(bridge.sfn.outcomes()["task"]["output"]) == {"ok": True}
    assert bridge.service.store.waiters(token_id) == []


def test_a_replayed_attach_is_a_no_op_before_and_after_the_resume(bridge: Bridge, durable: Durable) -> None:
    token_id = _token(bridge)
    assert _attach(bridge, token_id, "cmVwbGF5") is Attachment.ATTACHED
    assert _attach(bridge, token_id, "cmVwbGF5") is Attachment.ALREADY_ATTACHED
    bridge.service.tokens.complete(DEV, token_id, "x")
    bridge.invoke_stream(bridge.deliver_stream())
    assert _attach(bridge, token_id, "cmVwbGF5") is Attachment.ALREADY_ATTACHED  # resumed: kept, marked
    assert [c["callbackId"] for c in durable.calls] == ["cmVwbGF5"]


def test_attaching_to_a_final_token_resolves_at_once_and_a_replay_does_not_again(
    bridge: Bridge, durable: Durable
) -> None:
    token_id = _token(bridge)
    bridge.service.tokens.complete(DEV, token_id, [1])
    assert _attach(bridge, token_id, "bGF0ZQ==") is Attachment.FINAL
    assert _attach(bridge, token_id, "bGF0ZQ==") is Attachment.ALREADY_ATTACHED
    assert [(c["callbackId"], c["result"]) for c in durable.calls] == [("bGF0ZQ==", "[1]")]


def test_a_failed_delivery_at_attach_time_is_not_marked_so_the_sdks_retry_delivers(
    bridge: Bridge, durable: Durable
) -> None:
    from waitpoints_core import Unavailable

    token_id = _token(bridge)
    bridge.service.tokens.complete(DEV, token_id, "v")
    durable.faults["cmV0cnk="] = ["TooManyRequestsException"]  # a before-call answer skips botocore's retries
    with pytest.raises(Unavailable):
        _attach(bridge, token_id, "cmV0cnk=")
    assert _attach(bridge, token_id, "cmV0cnk=") is Attachment.FINAL  # the submitter step, retried
    assert durable.outcomes()["cmV0cnk="]["result"] == '"v"'


def test_timeout_rejection_and_not_found_fail_the_callback_with_error_data(bridge: Bridge, durable: Durable) -> None:
    rejected, timed_out = _token(bridge), _token(bridge, timeout="1s")
    _attach(bridge, rejected, "cmVq")
    _attach(bridge, timed_out, "dGlt")
    bridge.service.tokens.reject(DEV, rejected, "too pricey", {"limit": 10})
    import time

    time.sleep(1.05)
    bridge.service.workflows.sweep_timeouts()
    assert bridge.invoke_stream(bridge.deliver_stream()) == {"batchItemFailures": []}
    error = durable.outcomes()["cmVq"]["error"]
    data = json.loads(error["ErrorData"])
    assert error["ErrorType"] == "Waitpoint.Rejected" and "too pricey" in error["ErrorMessage"]
    assert data == {
        "error": "Waitpoint.Rejected",
        "message": error["ErrorMessage"],
        "waitpointId": rejected,
        "reason": "too pricey",
        "data": {"limit": 10},
    }
    error = durable.outcomes()["dGlt"]["error"]
    assert error["ErrorType"] == "Waitpoint.TimedOut" and json.loads(error["ErrorData"])["waitpointId"] == timed_out
    assert _attach(bridge, "waitpoint_" + "q" * 25, "bm9uZQ==") is Attachment.NOT_FOUND
    assert json.loads(durable.outcomes()["bm9uZQ=="]["error"]["ErrorData"])["error"] == "Waitpoint.NotFound"


def test_an_oversized_output_fails_with_how_to_fetch_it(bridge: Bridge, durable: Durable) -> None:
    token_id = _token(bridge)
    _attach(bridge, token_id, "YmlnZw==")
    bridge.service.tokens.complete(DEV, token_id, "B" * 270_000)
    bridge.invoke_stream(bridge.deliver_stream())
    error = durable.outcomes()["YmlnZw=="]["error"]
    assert error["ErrorType"] == "Waitpoint.OutputTooLarge"
    assert f"GET /api/v1/waitpoints/tokens/{token_id}" in error["ErrorMessage"]


def test_in_a_stream_batch_a_closed_callback_is_dropped_and_throttling_is_retried(
    bridge: Bridge, durable: Durable
) -> None:
    closed, throttled = _token(bridge), _token(bridge)
    _attach(bridge, closed, "Y2xvc2Vk")
    _attach(bridge, throttled, "dGhyb3R0bGVk")
    durable.faults = {"Y2xvc2Vk": ["CallbackTimeoutException"], "dGhyb3R0bGVk": ["TooManyRequestsException"]}
    bridge.service.tokens.after_win = None  # the stream alone, as when the completing request died before resuming
    bridge.service.tokens.complete(DEV, closed, "first")
    bridge.service.tokens.complete(DEV, throttled, "second")
    records = bridge.deliver_stream()
    response = bridge.invoke_stream(records)
    throttled_record = next(  # the completion's record (the attach's flag on the token is a MODIFY too)
        r
        for r in records
        if throttled in r["dynamodb"]["Keys"]["pk"]["S"] and r["dynamodb"]["NewImage"]["status"]["S"] == "COMPLETED"
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": throttled_record["dynamodb"]["SequenceNumber"]}]}
    assert bridge.service.store.waiters(closed) == []  # dropped: never retried
    assert len(bridge.service.store.waiters(throttled)) == 1
    assert bridge.invoke_stream([throttled_record]) == {"batchItemFailures": []}  # Lambda's retry
    assert durable.outcomes()["dGhyb3R0bGVk"]["result"] == '"second"'
    assert "Y2xvc2Vk" not in durable.outcomes()


def test_a_waiter_item_without_a_kind_reads_as_step_functions(bridge: Bridge) -> None:
    token_id = _token(bridge)
    old = {**codecs.waiter_key(token_id, "old-task"), "taskToken": {"S": "old-task"}, "createdAt": {"N": "1"}}
    boto3.client("dynamodb").put_item(TableName=bridge.table, Item={**old, "ttl": {"N": "9999999999"}})
    assert bridge.service.store.waiters(token_id) == [Waiter(token_id, "old-task", WaiterKind.STEP_FUNCTIONS)]
    item = codecs.waiter_item(Waiter(token_id, "Y2I=", WaiterKind.DURABLE), 1, 2)
    assert item["kind"] == {"S": "durable"} and item["callbackId"] == {"S": "Y2I="} and "taskToken" not in item
    assert "kind" not in codecs.waiter_item(Waiter(token_id, "t"), 1, 2)
