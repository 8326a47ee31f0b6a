"""Per-token isolation (issue 14, #1): a token that always fails never delays another token's timeout or resume.

The poisoned token lives in an environment the sweep visits first (`aaa-poison`) and is due first in it: every
write to it fails at the AWS level (a ValidationException, as an item over 400 KB gave), and every
SendTaskSuccess for its waiter fails (a 500 that never ends). Tokens of `dev` must still time out on the same
sweep and be resumed from the same stream batch; the poisoned one is reported (metric, log line, a partial batch
failure that Lambda retries and finally sends to the failure queue) and retried on its own.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse
from waitpoints_core import CreateTokenRequest, WaitForTokenRequest, aws
from waitpoints_core.services.auth import mint_api_key

if TYPE_CHECKING:
    import pytest

    from .conftest import Bridge

POISON_ENV = "aaa-poison"  # sorted first: the sweep visits it before `dev`


class PoisonWrites:
    """Answers every DynamoDB UpdateItem on one token's item with a ValidationException."""

    def __init__(self, token_id: str) -> None:
        self.pk = f"TOKEN#{token_id}"
        self.refused = 0
        self.on = True

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        request = json.loads(params["body"])
        if not self.on or request.get("Key", {}).get("pk", {}).get("S") != self.pk:
            return None
        self.refused += 1
        error = {
            "Error": {"Code": "ValidationException", "Message": "Item size has exceeded the maximum allowed size"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb", 400, {}, None), error


def _token(bridge: Bridge, env: str, timeout: str) -> str:
    return bridge.service.tokens.create(env, CreateTokenRequest.model_validate({"timeout": timeout})).id


def _wait(bridge: Bridge, token_id: str, task_token: str, env: str) -> None:
    request = WaitForTokenRequest(taskToken=task_token, waitpointId=token_id, environment=env)
    bridge.service.workflows.wait_for_token(request)


def test_a_token_that_always_fails_delays_no_other_timeout_or_resume(
    bridge: Bridge, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    mint_api_key(bridge.service.store, POISON_ENV)  # type: ignore[arg-type]
    poison = _token(bridge, POISON_ENV, "1s")
    _wait(bridge, poison, "task-poison", POISON_ENV)
    others = [_token(bridge, "dev", "1s") for _ in range(5)]
    for n, token_id in enumerate(others):
        _wait(bridge, token_id, f"task-{n}", "dev")
    time.sleep(1.05)
    writes = PoisonWrites(poison)
    aws.client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", writes)

    # The sweep: the poisoned token fails on every run and is skipped; every dev token times out on time.
    # (A batch of 1 makes the due index return the poisoned token first on every query: the sweep must page past.)
    sweep = bridge.service.workflows
    assert sweep.sweep_timeouts(batch=1) == len(others)
    assert writes.refused == 1
    store = bridge.service.store
    for token_id in others:
        token = store.get_token(token_id)
        assert token is not None and token.status.value == "TIMED_OUT"
    token = store.get_token(poison)
    assert token is not None and token.status.value == "WAITING"

    # The sweep function reports it: a metric and a log line naming the token (and nothing secret).
    sweep_function = next(f for f in _functions() if f.logical_id == "SweepFunction")
    from waitpoints_local.lambdas import LocalFunction

    capsys.readouterr()
    caplog.clear()
    LocalFunction(sweep_function).invoke({})
    assert '"SweepFailures"' in capsys.readouterr().out
    (line,) = [r for r in caplog.records if getattr(r, "waitpoint_id", None) == poison]
    assert line.getMessage() == "timeout sweep skipped a token" and line.error == "ClientError:ValidationException"
    assert writes.refused == 2  # retried on the next run, on its own

    # The stream: the poisoned token's resume always fails (its write is unblocked so it times out).
    writes.on = False
    bridge.sfn.faults = {"task-poison": ["InternalFailure"] * 100}
    assert sweep.sweep_timeouts() == 1
    # the creations and the attaches (each flags its token) pass the filter too; the timeouts are what resume
    records = [r for r in bridge.deliver_stream() if r["dynamodb"]["NewImage"]["status"]["S"] != "WAITING"]
    assert len(records) == len(others) + 1
    poison_record = next(r for r in records if poison in r["dynamodb"]["Keys"]["pk"]["S"])
    records.remove(poison_record)
    records.insert(0, poison_record)  # first in its batch: nothing after it may wait on it
    capsys.readouterr()
    caplog.clear()
    response = bridge.invoke_stream(records)
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_record["dynamodb"]["SequenceNumber"]}]}
    outcomes = bridge.sfn.outcomes()
    for n in range(len(others)):
        assert outcomes[f"task-{n}"]["error"] == "Waitpoint.TimedOut"
    assert "task-poison" not in outcomes
    assert '"ResumeFailures"' in capsys.readouterr().out
    assert [r.error for r in caplog.records if getattr(r, "waitpoint_id", None) == poison] == [
        "Unavailable:InternalFailure"  # a 500: transient, retried
    ]

    # Lambda retries from the failed record; a later token completed meanwhile rides in the same retry batch
    # and is resumed although the poisoned record fails again. Each dev workflow was resumed exactly once.
    late = _token(bridge, "dev", "1h")
    _wait(bridge, late, "task-late", "dev")
    bridge.service.tokens.complete(_dev(), late, {"ok": True})
    retry = [poison_record, *bridge.deliver_stream()]
    assert bridge.invoke_stream(retry)["batchItemFailures"] == [
        {"itemIdentifier": poison_record["dynamodb"]["SequenceNumber"]}
    ]
    assert json.loads(bridge.sfn.outcomes()["task-late"]["output"]) == {"ok": True}
    per_task = [c["taskToken"] for c in bridge.sfn.calls]
    assert all(per_task.count(t) == 1 for t in per_task)
    assert len(store.waiters(poison)) == 1  # still in the table for the next retry (or an operator)

    # Once the fault is gone, the retry resumes it, once.
    bridge.sfn.faults = {}
    assert bridge.invoke_stream([poison_record]) == {"batchItemFailures": []}
    assert bridge.sfn.outcomes()["task-poison"]["error"] == "Waitpoint.TimedOut"
    assert store.waiters(poison) == []
    assert boto3.client("dynamodb")  # the in-process moto is still up


def _functions() -> list[Any]:
    from .conftest import TEMPLATE

    return list(TEMPLATE.functions())


def _dev() -> Any:
    from waitpoints_core import Principal

    return Principal(env="dev")
