"""Runs last in the black-box suite: the local stack's whole log (every request of the session, every
function's output, the emulator's; all but `make run`'s start-up banner) holds no API key, signing key, callback
hash, public access token or Step Functions task token."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

from waitpoints_core.signing import SigningKeys
from waitpoints_local.stepfunctions import waiting_machine

from .helpers import complete, create
from .test_workflows import _finish

if TYPE_CHECKING:
    import httpx

    from .conftest import Stack

JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
API_KEY = re.compile(r"wp_[a-z0-9-]{1,32}_[A-Za-z0-9_-]{40,}")


def _task_token_of_a_workflow(local_stack: Stack, api: httpx.Client) -> str:
    """Run a workflow that waits on a token; read its task token from the waiter item, then resume it."""
    sfn, ddb = local_stack.aws("stepfunctions"), local_stack.aws("dynamodb")
    token = create(api, timeout="1h")
    machine = waiting_machine(sfn, "secrets")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"id": token["id"]}))["executionArn"]
    deadline = time.monotonic() + 180  # behind the earlier tests' stream records
    while True:
        items = ddb.query(
            TableName=local_stack.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
            ExpressionAttributeValues={":pk": {"S": f"TOKEN#{token['id']}"}, ":w": {"S": "WAITER#"}},
        )["Items"]
        if items:
            break
        assert time.monotonic() < deadline, "the workflow never waited"
        time.sleep(0.05)
    assert complete(api, token["id"], {"data": {"ok": True}}).status_code == 200
    assert _finish(sfn, execution)["status"] == "SUCCEEDED"
    return str(items[0]["taskToken"]["S"])


def test_the_stack_log_holds_no_secret(local_stack: Stack, api: httpx.Client) -> None:
    task_token = _task_token_of_a_workflow(local_stack, api)
    sm = local_stack.aws("secretsmanager")
    (entry,) = sm.list_secrets()["SecretList"]  # the signing secret
    secret = sm.get_secret_value(SecretId=entry["ARN"])["SecretString"]
    keys = SigningKeys.from_secret_string(secret)
    token_ids = [
        i["pk"]["S"].removeprefix("TOKEN#")
        for i in local_stack.aws("dynamodb").scan(
            TableName=local_stack.table_name,
            FilterExpression="sk = :t",
            ExpressionAttributeValues={":t": {"S": "TOKEN"}},
        )["Items"]
    ]
    assert token_ids  # every token of the session (all of the suite's, when it runs whole)
    secrets = [
        local_stack.key,
        *([local_stack.other_key] if local_stack.other_key else []),
        task_token,
        *(v for k, v in json.loads(secret).items() if k != "current"),
        *(keys.callback_hash(t) for t in token_ids),
    ]
    assert local_stack.state_dir is not None
    # `make run` prints a ready-to-use dev key in its start-up banner, by design; the log is what follows it.
    banner, _, log = (local_stack.state_dir / "stack.log").read_text().partition("Press Ctrl-C to stop.\n")
    assert local_stack.key in banner and log
    assert "POST    POST /api/v1/waitpoints/tokens -> 200" in log  # it is the log of this session's requests
    for value in secrets:
        assert value not in log, f"a secret ({value[:6]}…) is in stack.log"
    assert not JWT.search(log), JWT.search(log)
    assert not API_KEY.search(log), API_KEY.search(log)
