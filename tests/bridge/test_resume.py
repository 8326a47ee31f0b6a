"""Resuming workflows: what each waiter receives, and how the stream consumer handles Step Functions errors."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

import pytest
from waitpoints_core import Attachment, CreateTokenRequest, Principal, WaitForTokenRequest, format_iso

if TYPE_CHECKING:
    from .conftest import Bridge

DEV = Principal(env="dev")


def _token(bridge: Bridge, **options: object) -> str:
    return bridge.service.tokens.create("dev", CreateTokenRequest.model_validate(options)).id


def _wait(bridge: Bridge, token_id: str, task_token: str) -> Attachment:
    return bridge.service.workflows.wait_for_token(WaitForTokenRequest(taskToken=task_token, waitpointId=token_id))


def test_completion_resumes_every_waiter_with_the_output(bridge: Bridge) -> None:
    token_id = _token(bridge)
    assert _wait(bridge, token_id, "task-a") is Attachment.ATTACHED
    assert _wait(bridge, token_id, "task-b") is Attachment.ATTACHED
    bridge.service.tokens.complete(DEV, token_id, {"status": "approved"})
    assert bridge.invoke_stream(bridge.deliver_stream()) == {"batchItemFailures": []}
    outcomes = bridge.sfn.outcomes()
    for task in ("task-a", "task-b"):
        assert outcomes[task]["operation"] == "SendTaskSuccess"
        assert json.loads(outcomes[task]["output"]) == {"status": "approved"}
    assert bridge.service.store.waiters(token_id) == []


@pytest.mark.parametrize(("data", "received"), [("plain text", "plain text"), (None, None), ([1, 2], [1, 2])])
def test_outputs_arrive_as_json(bridge: Bridge, data: object, received: object) -> None:
    token_id = _token(bridge)
    _wait(bridge, token_id, "task")
    bridge.service.tokens.complete(DEV, token_id, data)
    bridge.invoke_stream(bridge.deliver_stream())
    assert json.loads(bridge.sfn.outcomes()["task"]["output"]) == received


def test_completion_without_data_resumes_with_null(bridge: Bridge) -> None:
    token_id = _token(bridge)
    _wait(bridge, token_id, "task")
    bridge.service.tokens.complete(DEV, token_id)
    bridge.invoke_stream(bridge.deliver_stream())
    assert bridge.sfn.outcomes()["task"]["output"] == "null"


def test_attaching_to_a_final_token_resumes_at_once(bridge: Bridge) -> None:
    token_id = _token(bridge)
    bridge.service.tokens.complete(DEV, token_id, {"done": 1})
    assert _wait(bridge, token_id, "late") is Attachment.FINAL
    assert json.loads(bridge.sfn.outcomes()["late"]["output"]) == {"done": 1}


def test_unknown_or_other_environment_waitpoint_fails_with_not_found(bridge: Bridge) -> None:
    token_id = _token(bridge)
    other_env = WaitForTokenRequest(taskToken="t1", waitpointId=token_id, environment="prod")
    assert bridge.service.workflows.wait_for_token(other_env) is Attachment.NOT_FOUND
    assert _wait(bridge, "waitpoint_" + "x" * 25, "t2") is Attachment.NOT_FOUND
    assert _wait(bridge, "../etc", "t3") is Attachment.NOT_FOUND
    for task in ("t1", "t2", "t3"):
        assert bridge.sfn.outcomes()[task]["operation"] == "SendTaskFailure"
        assert bridge.sfn.outcomes()[task]["error"] == "Waitpoint.NotFound"


def test_timeout_fails_waiters_with_a_cause_naming_token_and_time(bridge: Bridge) -> None:
    import time

    token_id = _token(bridge, timeout="1s")
    _wait(bridge, token_id, "task")
    time.sleep(1.05)
    assert bridge.service.workflows.sweep_timeouts() == 1
    bridge.invoke_stream(bridge.deliver_stream())
    call = bridge.sfn.outcomes()["task"]
    timeout_at = bridge.service.store.get_token(token_id).timeout_at
    assert call["operation"] == "SendTaskFailure" and call["error"] == "Waitpoint.TimedOut"
    assert call["cause"] == f"Waitpoint {token_id} timed out at {format_iso(timeout_at)}"


def test_output_too_large_fails_with_how_to_fetch_it(bridge: Bridge) -> None:
    token_id = _token(bridge)
    _wait(bridge, token_id, "task")
    bridge.service.tokens.complete_by_callback(
        token_id,
        bridge.service.tokens.callback_hash(token_id),
        b'"' * 140_000,
        {"content-type": "text/plain"},
    )
    bridge.invoke_stream(bridge.deliver_stream())
    call = bridge.sfn.outcomes()["task"]
    assert call["error"] == "Waitpoint.OutputTooLarge"
    assert f"GET /api/v1/waitpoints/tokens/{token_id}" in call["cause"] and "280002 bytes" in call["cause"]


def test_throttled_record_is_retried_and_a_gone_execution_is_dropped(bridge: Bridge) -> None:
    throttled, gone = _token(bridge), _token(bridge)
    _wait(bridge, throttled, "task-throttled")
    _wait(bridge, gone, "task-gone")
    bridge.sfn.faults = {"task-throttled": ["ThrottlingException"], "task-gone": ["TaskTimedOut"]}
    bridge.service.tokens.after_win = None  # the stream alone, as when the completing request died before resuming
    bridge.service.tokens.complete(DEV, throttled, "first")
    bridge.service.tokens.complete(DEV, gone, "second")
    # The creates and the attaches (each flags its token) pass the stream's filter too (for lifecycle events and
    # real-time messages); the completions are what resume.
    records = [r for r in bridge.deliver_stream() if r["dynamodb"]["NewImage"]["status"]["S"] != "WAITING"]
    assert len(records) == 2

    response = bridge.invoke_stream(records)
    throttled_record = next(
        r
        for r in records
        if throttled in r["dynamodb"]["Keys"]["pk"]["S"] and r["dynamodb"]["NewImage"]["status"]["S"] == "COMPLETED"
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": throttled_record["dynamodb"]["SequenceNumber"]}]}
    assert bridge.service.store.waiters(gone) == []
    assert len(bridge.service.store.waiters(throttled)) == 1

    # Lambda retries from the failed record; this time Step Functions accepts it. Nothing was lost.
    assert bridge.invoke_stream([throttled_record]) == {"batchItemFailures": []}
    assert bridge.sfn.outcomes()["task-throttled"]["output"] == '"first"'
    assert "task-gone" not in bridge.sfn.outcomes()
    assert bridge.service.store.waiters(throttled) == []


def test_attach_racing_completion_never_leaves_an_execution_waiting(bridge: Bridge) -> None:
    rounds = 40
    tokens = [_token(bridge) for _ in range(rounds)]
    for n, token_id in enumerate(tokens):
        barrier = threading.Barrier(2, timeout=60)

        def attach(token_id: str = token_id, n: int = n, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            _wait(bridge, token_id, f"task-{n}")

        def finish(token_id: str = token_id, n: int = n, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            bridge.service.tokens.complete(DEV, token_id, {"round": n})

        threads = [threading.Thread(target=attach), threading.Thread(target=finish)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert bridge.invoke_stream(bridge.deliver_stream()) == {"batchItemFailures": []}
    resumed = [call for call in bridge.sfn.calls if call["operation"] == "SendTaskSuccess"]
    assert sorted(call["taskToken"] for call in resumed) == sorted(f"task-{n}" for n in range(rounds))
    assert all(json.loads(c["output"]) == {"round": int(c["taskToken"].split("-")[1])} for c in resumed)


def test_sweep_reads_only_the_due_index_and_leaves_the_rest(bridge: Bridge) -> None:
    import time

    from waitpoints_core import aws

    due = [_token(bridge, timeout="1s") for _ in range(3)]
    completed = _token(bridge, timeout="1s")
    bridge.service.tokens.complete(DEV, completed, "done")
    later = _token(bridge, timeout="1h")
    operations: list[tuple[str, str | None]] = []
    aws.client("dynamodb").meta.events.register(
        "before-parameter-build.dynamodb.*",
        lambda model, params, **_: operations.append((model.name, params.get("IndexName"))),
    )
    time.sleep(1.05)
    assert bridge.service.workflows.sweep_timeouts() == 3
    names = [name for name, _ in operations]
    # one Query per due shard; the other Queries are the inline resume's look for waiters, in the table
    due_queries = operations.count(("Query", "DueIndex"))
    assert "Scan" not in names and due_queries == bridge.service.store.due_shards("dev")
    assert {index for name, index in operations if name == "Query"} <= {"DueIndex", None}
    statuses = {t: bridge.service.store.get_token(t).status.value for t in (*due, completed, later)}
    assert statuses == {**dict.fromkeys(due, "TIMED_OUT"), completed: "COMPLETED", later: "WAITING"}
    assert bridge.service.workflows.sweep_timeouts() == 0
