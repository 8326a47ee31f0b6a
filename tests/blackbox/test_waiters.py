"""Retrieve lists a token's waiters (issue 17) over real HTTP: a Step Functions execution waiting through the
stack's WaitForTokenFunction and a durable callback id attached through it, listed for a secret key by kind,
digest and times; a public access token gets no waiters; neither response ever carries a task token or a callback
id, and once the token completes the Step Functions waiter is gone and the durable one reads resumed."""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from waitpoints_local.stepfunctions import waiting_machine

from .helpers import TOKENS, complete, create, parse_iso, retrieve
from .test_workflows import _finish

if TYPE_CHECKING:
    import httpx

    from .conftest import Stack

CALLBACK_ID = "YmxhY2tib3gtd2FpdGVycy1jYWxsYmFjaw" + "Q" * 20  # the shape of a durable callback id


def digest(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()[:12]


def _until(read: Any, done: Any, what: str, timeout: float = 180) -> Any:
    """Read until `done(value)`; behind the earlier tests' stream records, the stack can take a while."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: {value}"
        time.sleep(0.1)


def _task_token(local_stack: Stack, token_id: str) -> str:
    """The task token of the execution waiting on the token: read from its waiter item, only to look for it."""
    ddb = local_stack.aws("dynamodb")
    items = ddb.query(
        TableName=local_stack.table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
        ExpressionAttributeValues={":pk": {"S": f"TOKEN#{token_id}"}, ":w": {"S": "WAITER#"}},
    )["Items"]
    return next(str(i["taskToken"]["S"]) for i in items if "taskToken" in i)


def test_retrieve_lists_the_waiters_for_a_secret_key_and_never_their_handles(
    local_stack: Stack, api: httpx.Client, anonymous: httpx.Client
) -> None:
    token = create(api, timeout="1h")
    sfn = local_stack.aws("stepfunctions")
    machine = waiting_machine(sfn, "waiters")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"id": token["id"]}))["executionArn"]
    _until(lambda: retrieve(api, token["id"])["waiters"], lambda w: len(w) == 1, "the workflow never attached")
    answer = local_stack.aws("lambda").invoke(
        FunctionName="waitpoints-WaitForTokenFunction",
        Payload=json.dumps({"callbackId": CALLBACK_ID, "waitpointId": token["id"]}).encode(),
    )
    assert json.loads(answer["Payload"].read())["result"] == "attached"
    task_token = _task_token(local_stack, token["id"])

    response = api.get(f"{TOKENS}/{token['id']}")
    assert response.status_code == 200
    assert task_token not in response.text and CALLBACK_ID not in response.text
    body = response.json()
    by_kind = {w["kind"]: w for w in body["waiters"]}
    assert set(by_kind) == {"stepFunctions", "durable"} and "waitersTruncated" not in body
    assert by_kind["stepFunctions"]["digest"] == digest(task_token)
    assert by_kind["durable"]["digest"] == digest(CALLBACK_ID)
    for waiter in body["waiters"]:
        assert set(waiter) == {"kind", "digest", "attachedAt"}  # neither resumed yet
        assert parse_iso(waiter["attachedAt"]) >= parse_iso(body["createdAt"])
    assert [w["attachedAt"] for w in body["waiters"]] == sorted(w["attachedAt"] for w in body["waiters"])

    # A public access token: no retrieve (401), and so no waiters, no handles.
    pat = anonymous.get(f"{TOKENS}/{token['id']}", headers={"Authorization": f"Bearer {token['publicAccessToken']}"})
    assert pat.status_code == 401 and "waiters" not in pat.json()
    assert task_token not in pat.text and CALLBACK_ID not in pat.text

    # A list page does not list waiters (it stays one Query).
    listed = api.get(TOKENS, params={"page[size]": "100"}).json()["data"]
    assert all("waiters" not in item for item in listed)

    # Completed: the execution resumes and its waiter is deleted; the durable one stays, marked resumed.
    assert complete(api, token["id"], {"data": {"ok": True}}).status_code == 200
    assert _finish(sfn, execution)["status"] == "SUCCEEDED"
    (durable,) = _until(
        lambda: retrieve(api, token["id"])["waiters"],
        lambda w: [x["kind"] for x in w] == ["durable"] and "resumedAt" in w[0],
        "the waiters were not resumed",
    )
    assert durable["digest"] == digest(CALLBACK_ID) and durable["attachedAt"] == by_kind["durable"]["attachedAt"]
    assert parse_iso(durable["resumedAt"]) >= parse_iso(durable["attachedAt"])
    final = api.get(f"{TOKENS}/{token['id']}")
    assert task_token not in final.text and CALLBACK_ID not in final.text
    assert local_stack.state_dir is not None  # and no line of the stack's log carries either (a log is a page too)
    log = (local_stack.state_dir / "stack.log").read_text()
    assert task_token not in log and CALLBACK_ID not in log
