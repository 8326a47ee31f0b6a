"""Resume in one hop: the request that wins a completion resumes the token's waiters itself (inline), and the
stream consumer stays the safety net. Here the completing request is killed between its conditional write and its
resume: the write stands, the request never answers, and the stream still resumes the workflow, once."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from waitpoints_core.services.workflows import WorkflowService

from tests.security import events

if TYPE_CHECKING:
    from .conftest import Stack


class Killed(BaseException):
    """The Lambda process dying (out of memory, timed out, its host gone): nothing after it runs."""


def attach(stack: Stack, task: str) -> str:
    token = json.loads(stack.invoke("ApiFunction", events.create(stack.key, {"timeout": "1h"}))["body"])
    stack.invoke("WaitForTokenFunction", {"taskToken": task, "waitpointId": token["id"]})
    return str(token["id"])


def test_the_winner_resumes_its_waiters_itself_without_the_stream(stack: Stack) -> None:
    token_id = attach(stack, "task-inline")
    assert stack.invoke("ApiFunction", events.complete(stack.key, token_id, {"data": {"n": 1}}))["statusCode"] == 200
    (call,) = stack.faults.sfn_accepted["task-inline"]  # resumed before the request answered
    assert call["operation"] == "SendTaskSuccess" and json.loads(call["output"]) == {"n": 1}
    stack.invoke("StreamFunction", {"Records": stack.bridge.deliver_stream()})  # no waiter left: nothing twice
    assert len(stack.faults.sfn_accepted["task-inline"]) == 1 and not stack.faults.sfn_refused


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the killed resume thread
@pytest.mark.parametrize("kill_at", ["before_resume", "after_send"])
def test_a_request_killed_between_its_write_and_its_resume_is_resumed_by_the_stream(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, kill_at: str
) -> None:
    token_id = attach(stack, f"task-{kill_at}")
    original = WorkflowService._resume

    def resume_inline(self: WorkflowService, token_id: str) -> bool:
        raise Killed  # dies right after the conditional write, before any waiter is looked at

    def resume_then_die(self: WorkflowService, token: object, task_token: str) -> object:
        original(self, token, task_token)  # type: ignore[arg-type]
        raise Killed  # sent, but dead before the waiter is deleted: the stream sends again, Step Functions refuses

    if kill_at == "before_resume":
        monkeypatch.setattr(WorkflowService, "resume_inline", resume_inline)
        with pytest.raises(Killed):
            stack.invoke("ApiFunction", events.complete(stack.key, token_id, {"data": {"k": 1}}))
        assert not stack.faults.sfn_accepted[f"task-{kill_at}"]
    else:
        monkeypatch.setattr(WorkflowService, "_resume", resume_then_die)
        stack.invoke("ApiFunction", events.complete(stack.key, token_id, {"data": {"k": 1}}))  # the thread died
        monkeypatch.setattr(WorkflowService, "_resume", original)
    stack.invoke("StreamFunction", {"Records": stack.bridge.deliver_stream()})
    (call,) = stack.faults.sfn_accepted[f"task-{kill_at}"]  # resumed once, with the completion's data
    assert call["operation"] == "SendTaskSuccess" and json.loads(call["output"]) == {"k": 1}
