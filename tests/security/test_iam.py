"""Least privilege, read from template.yaml: no `*` action; a wildcard resource only where AWS offers nothing
narrower, with a comment saying so on its line; and each function's permissions are exactly what its code
uses. What the code uses is observed: every function runs every path it has on moto while each AWS request
it makes is recorded, then turned into the IAM actions and resources that request needs.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_core import runtime
from waitpoints_local.template import TEMPLATE_PATH, Template

from . import events

if TYPE_CHECKING:
    from tests.faults.conftest import Stack

TEMPLATE = Template()
TABLE = "table"  # the table's ARN
SECRET = "secret"
STATE_MACHINES = "stateMachine:*"
OUTPUTS = "outputs/*"  # objects under the outputs bucket's outputs/ prefix
FUNCTIONS = "function:*"  # this account's functions in this region
CONNECTIONS = "@connections/*"  # the WebSocket API stage's connections (POST: write to one, DELETE: close it)
DURABLE_EXECUTIONS = "durable-execution/*"  # this account's durable executions (function:*:*/durable-execution/*)
CALLBACK = "Y2FsbGJhY2s" + secrets.token_hex(16)  # the shape of a durable callback id ([A-Za-z0-9+/]+={0,2})
EVENT_BUS = "event-bus/EventBusName"  # the one bus the EventBusName parameter names
TASK = "AQCEAAAAKgAAAAMAAAAAAAAAA" + secrets.token_hex(16)  # the shape of a Step Functions task token

# The reviewed table: what each function may do, and on what. The test below checks the template grants
# exactly this; the one after checks the code needs all of it (every entry is used) and nothing more.
REVIEWED: dict[str, set[tuple[str, str]]] = {
    "ApiFunction": {
        ("dynamodb:GetItem", TABLE),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:Query", TABLE),  # tag partitions live in the table itself; so do a token's waiters
        ("dynamodb:DeleteItem", TABLE),  # inline resume: a waiter once resumed
        ("states:SendTaskSuccess", STATE_MACHINES),  # inline resume by the request that won the completion
        ("states:SendTaskFailure", STATE_MACHINES),  # an output too large for Step Functions
        ("lambda:SendDurableExecutionCallbackSuccess", DURABLE_EXECUTIONS),  # inline resume of durable waiters
        ("lambda:SendDurableExecutionCallbackFailure", DURABLE_EXECUTIONS),
        *{
            ("dynamodb:Query", f"index/{name}")
            for name in (
                "AllIndex",
                "WaitingIndex",
                "CompletedIndex",
                "TimedOutIndex",
                "IdempotencyKeyIndex",
                "DueIndex",
            )
        },
        ("secretsmanager:GetSecretValue", SECRET),
        # outputs over 256 KiB: written on complete, read on retrieve, deleted when the write lost
        ("s3:PutObject", OUTPUTS),
        ("s3:GetObject", OUTPUTS),
        ("s3:DeleteObject", OUTPUTS),
    },
    "CallbackFunction": {
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:Query", TABLE),  # inline resume: the token and its waiters (they share its partition),
        ("dynamodb:DeleteItem", TABLE),  # and each waiter once resumed
        ("states:SendTaskSuccess", STATE_MACHINES),
        ("states:SendTaskFailure", STATE_MACHINES),  # an output too large for Step Functions
        ("lambda:SendDurableExecutionCallbackSuccess", DURABLE_EXECUTIONS),  # inline resume of durable waiters
        ("lambda:SendDurableExecutionCallbackFailure", DURABLE_EXECUTIONS),
        ("secretsmanager:GetSecretValue", SECRET),
        ("s3:PutObject", OUTPUTS),
        ("s3:DeleteObject", OUTPUTS),
    },
    "ApprovalFunction": {
        ("dynamodb:GetItem", TABLE),  # the page: one consistent read of the token
        ("dynamodb:UpdateItem", TABLE),  # the decision: the conditional complete or reject
        ("dynamodb:Query", TABLE),  # inline resume: the token's waiters,
        ("dynamodb:DeleteItem", TABLE),  # each one once resumed,
        ("states:SendTaskSuccess", STATE_MACHINES),  # through its target: approved,
        ("states:SendTaskFailure", STATE_MACHINES),  # rejected
        ("lambda:SendDurableExecutionCallbackSuccess", DURABLE_EXECUTIONS),  # inline resume of durable waiters
        ("lambda:SendDurableExecutionCallbackFailure", DURABLE_EXECUTIONS),
        ("secretsmanager:GetSecretValue", SECRET),  # the approval hash's key
    },
    "CreateTokenFunction": {
        ("dynamodb:GetItem", TABLE),  # the set of environments
        ("dynamodb:PutItem", TABLE),
        ("secretsmanager:GetSecretValue", SECRET),
    },
    "WaitForTokenFunction": {
        ("dynamodb:PutItem", TABLE),  # the waiter, in one transaction with
        ("dynamodb:UpdateItem", TABLE),  # the token's flag; a durable waiter resumed at once is kept, marked resumed
        ("states:SendTaskSuccess", STATE_MACHINES),
        ("states:SendTaskFailure", STATE_MACHINES),
        # a durable callback attached to a token already final (or unknown) is resolved at once
        ("lambda:SendDurableExecutionCallbackSuccess", DURABLE_EXECUTIONS),
        ("lambda:SendDurableExecutionCallbackFailure", DURABLE_EXECUTIONS),
    },
    "StreamFunction": {
        ("dynamodb:Query", TABLE),
        ("dynamodb:DeleteItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),  # tag items follow their token's status; durable waiters marked resumed
        ("states:SendTaskSuccess", STATE_MACHINES),
        ("states:SendTaskFailure", STATE_MACHINES),
        ("lambda:SendDurableExecutionCallbackSuccess", DURABLE_EXECUTIONS),
        ("lambda:SendDurableExecutionCallbackFailure", DURABLE_EXECUTIONS),
        ("sqs:SendMessage", "queue"),  # the event source mapping's on-failure destination
        ("dynamodb:GetItem", TABLE),  # a gone connection's item, to drop its subscriptions
        ("secretsmanager:GetSecretValue", SECRET),  # the callback URL in a transition's token fields
        ("execute-api:ManageConnections", CONNECTIONS),  # a transition, to each subscribed connection
        ("events:PutEvents", EVENT_BUS),  # lifecycle events (granted only while EventBusName is not empty)
    },
    "SweepFunction": {
        ("dynamodb:GetItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:Query", "index/DueIndex"),
        ("dynamodb:Query", TABLE),  # inline resume of a token it timed out: its waiters
        ("dynamodb:DeleteItem", TABLE),
        ("states:SendTaskFailure", STATE_MACHINES),  # Waitpoint.TimedOut
        ("lambda:SendDurableExecutionCallbackFailure", DURABLE_EXECUTIONS),  # and to a durable waiter
    },
    "ConsoleFunction": set(),  # static files only: the browser calls the token API with the operator's key
    # Exercised by tests/durable/test_example_function.py (a durable function does not run on moto).
    "ExampleDurableFunction": {
        ("lambda:CheckpointDurableExecution", FUNCTIONS),  # the durable SDK, on its own execution
        ("lambda:GetDurableExecutionState", FUNCTIONS),
        ("lambda:InvokeFunction", "function/CreateTokenFunction"),
        ("lambda:InvokeFunction", "function/WaitForTokenFunction"),  # the attach
    },
    "RealtimeFunction": {
        ("dynamodb:GetItem", TABLE),  # API keys, connections, tokens (a token subscription answers its state)
        ("dynamodb:PutItem", TABLE),  # connection and subscription items
        ("dynamodb:UpdateItem", TABLE),  # the connection's list of subscriptions
        ("dynamodb:DeleteItem", TABLE),  # unsubscribe, $disconnect
        ("secretsmanager:GetSecretValue", SECRET),  # public access tokens, callback URLs
        ("execute-api:ManageConnections", CONNECTIONS),  # a connection refused authentication: told, then closed
    },
    "NoRouteFunction": set(),  # the $default route: a JSON 404/405 from a table in its code, no AWS call
}
# Checked by tests/durable/test_example_function.py instead of the moto run below.
OBSERVED_ELSEWHERE = {"ExampleDurableFunction"}
# Resources that stay wildcards: SendTaskSuccess/SendTaskFailure name a task token, not a resource, so the
# narrowest form is "this account's state machines"; output objects get a fresh key per write
# (outputs/<token>/<random>), so the narrowest form is the outputs/ prefix of the one bucket; a durable
# function's role cannot name the function itself (a dependency cycle), so its checkpoints get this account's
# functions; connection ids are minted per connection, so the narrowest form is the connections of the one
# WebSocket API's one stage; a durable callback id names no function (the callback APIs are authorised on the
# durable execution it belongs to, and the service resumes any durable function of the account that attached
# one), so the narrowest form is this account's durable executions: not its functions, not another account's.
ALLOWED_WILDCARDS = {STATE_MACHINES, OUTPUTS, FUNCTIONS, CONNECTIONS, DURABLE_EXECUTIONS}


def _resource(value: Any) -> str:
    """A statement's resource as the short names above."""
    text = json.dumps(value)
    if value == {"Fn::GetAtt": ["TokensTable", "Arn"]}:
        return TABLE
    if "TokensTable.Arn}/index/" in text:
        return "index/" + text.split("/index/")[1].rstrip('"}')
    if "stateMachine:*" in text:
        return STATE_MACHINES
    if value == {"Fn::Sub": "${OutputsBucket.Arn}/outputs/*"}:
        return OUTPUTS
    if value == {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"}:
        return FUNCTIONS
    durable = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*:*/durable-execution/*"
    if value == {"Fn::Sub": durable}:
        return DURABLE_EXECUTIONS
    if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][1] == "Arn" and value["Fn::GetAtt"][0].endswith("Function"):
        return f"function/{value['Fn::GetAtt'][0]}"
    if value == {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"}:
        return EVENT_BUS
    stage = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/${WebSocketStageName}"
    if value in ({"Fn::Sub": f"{stage}/POST/@connections/*"}, {"Fn::Sub": f"{stage}/DELETE/@connections/*"}):
        return CONNECTIONS
    return text


def granted(function: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the template grants a function, SAM policy templates expanded."""
    pairs: set[tuple[str, str]] = set()
    for declared in TEMPLATE.resources[function]["Properties"].get("Policies", []):
        policy = declared
        if set(declared) == {"Fn::If"}:  # a grant behind a condition: reviewed as if the condition holds
            condition, policy, otherwise = declared["Fn::If"]
            assert condition in TEMPLATE.conditions and otherwise == {"Ref": "AWS::NoValue"}, condition
        for statement in policy.get("Statement", []):
            assert statement["Effect"] == "Allow", statement
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            pairs |= {(a, _resource(r)) for a in actions for r in resources}
        if "AWSSecretsManagerGetSecretValuePolicy" in policy:
            assert policy["AWSSecretsManagerGetSecretValuePolicy"] == {"SecretArn": {"Ref": "SigningSecret"}}
            pairs.add(("secretsmanager:GetSecretValue", SECRET))
        if "SQSSendMessagePolicy" in policy:
            assert policy["SQSSendMessagePolicy"] == {"QueueName": {"Fn::GetAtt": ["ResumeFailuresQueue", "QueueName"]}}
            pairs.add(("sqs:SendMessage", "queue"))
        unknown = set(policy) - {"Statement", "AWSSecretsManagerGetSecretValuePolicy", "SQSSendMessagePolicy"}
        assert not unknown, f"{function}: review the policy template {unknown} and teach this test about it"
    return pairs


def test_no_wildcard_actions_anywhere() -> None:
    for name, resource in TEMPLATE.resources.items():
        for policy in resource.get("Properties", {}).get("Policies", []) or []:
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any("*" in a for a in actions), (name, actions)


def test_wildcard_resources_only_where_nothing_narrower_exists_and_say_so() -> None:
    lines = TEMPLATE_PATH.read_text().splitlines()
    for function in REVIEWED:
        for action, resource in granted(function):
            assert resource != "*" and not resource.endswith('"*"'), (function, action)
            if "*" in resource:
                assert resource in ALLOWED_WILDCARDS, (function, action, resource)
    for number, line in enumerate(lines, 1):
        if "Resource" in line and "*" in line.split("#")[0]:
            assert "#" in line and "narrower" in line.split("#", 1)[1], f"template.yaml:{number}: say why a wildcard"


@pytest.mark.parametrize("function", sorted(REVIEWED))
def test_each_function_is_granted_exactly_the_reviewed_permissions(function: str) -> None:
    assert granted(function) == REVIEWED[function]


def test_every_function_is_reviewed() -> None:
    assert {f.logical_id for f in TEMPLATE.functions()} == set(REVIEWED)


# --- what the code really uses ---------------------------------------------------------------------------

_TRANSACT = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def needed(service: str, operation: str, body: dict[str, Any]) -> set[tuple[str, str]]:
    """The IAM (action, resource) pairs one AWS request needs."""
    if service == "dynamodb" and operation == "TransactWriteItems":
        return {(_TRANSACT[kind], TABLE) for item in body["TransactItems"] for kind in item}
    if service == "dynamodb":
        return {(f"dynamodb:{operation}", f"index/{body['IndexName']}" if "IndexName" in body else TABLE)}
    if service == "secrets-manager":
        return {(f"secretsmanager:{operation}", SECRET)}
    if service == "sfn":
        return {(f"states:{operation}", STATE_MACHINES)}
    if service == "s3":
        assert body.get("Key", "").startswith("outputs/"), body
        return {(f"s3:{operation}", OUTPUTS)}
    if service == "lambda" and operation.startswith("SendDurableExecutionCallback"):
        return {(f"lambda:{operation}", DURABLE_EXECUTIONS)}
    if service == "eventbridge":
        assert operation == "PutEvents" and {e["EventBusName"] for e in body["Entries"]} == {"default"}, body
        return {("events:PutEvents", EVENT_BUS)}
    if service == "apigatewaymanagementapi":  # PostToConnection, DeleteConnection, GetConnection
        return {("execute-api:ManageConnections", CONNECTIONS)}
    raise AssertionError(f"an unexpected AWS call: {service}.{operation}")


def _exercise(stack: Stack) -> None:
    faults, key = stack.faults, stack.key

    def call(function: str, event: dict[str, Any], status: int | None = 200) -> Any:
        runtime.reset()  # a cold container each time: the key and secret reads are part of what is used
        faults.label = function
        try:
            result = stack.invoke(function, event)
        finally:
            faults.label = None
        if status is not None:
            assert result["statusCode"] == status, result
        return result

    def body(result: dict[str, Any]) -> Any:
        return json.loads(result["body"])

    plain = body(call("ApiFunction", events.create(key, {"timeout": "1h"})))
    tagged = body(call("ApiFunction", events.create(key, {"tags": ["a", "b"], "idempotencyKey": "k1"})))
    call("ApiFunction", events.create(key, {"idempotencyKey": "k1"}))
    call("ApiFunction", events.retrieve(key, plain["id"]))
    call("ApiFunction", events.preflight(plain["id"]), 204)
    for params in (
        {},
        {"filter[status]": "WAITING"},
        {"filter[status]": "COMPLETED"},
        {"filter[status]": "TIMED_OUT"},
        {"filter[status]": "WAITING,TIMED_OUT"},
        {"filter[tags]": "a"},
        {"filter[idempotencyKey]": "k1"},
        {"page[size]": "1"},
    ):
        page = body(call("ApiFunction", events.list_tokens(key, **params)))
    assert page["pagination"].get("next")
    call("ApiFunction", events.list_tokens(key, **{"page[size]": "1", "page[after]": page["pagination"]["next"]}))
    made = call("CreateTokenFunction", {"environment": "dev", "tags": ["wf"], "idempotencyKey": "e1"}, None)
    call("CreateTokenFunction", {"environment": "dev"}, None)
    call("WaitForTokenFunction", {"taskToken": TASK + "-tagged", "waitpointId": tagged["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "tagged", "waitpointId": tagged["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "none", "waitpointId": "waitpoint_" + "x" * 25}, None)
    call("WaitForTokenFunction", {"taskToken": TASK + "-made", "waitpointId": made["id"]}, None)
    call("WaitForTokenFunction", {"taskToken": TASK + "-none", "waitpointId": "waitpoint_" + "x" * 25}, None)
    ws = events.websocket  # two subscribers for the stream's fan-out: one there, one gone (dropped)
    for connection in ("c8", "c9"):
        call("RealtimeFunction", ws("auth", connection, {"action": "auth", "token": key}))
        call("RealtimeFunction", ws("subscribe", connection, {"action": "subscribe", "tag": "a"}))
    faults.gone_connections.add("c9")
    call("ApiFunction", events.complete(key, tagged["id"], {"data": {"ok": True}}))
    keys = runtime.get_service().signing_keys.get()
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "made", "waitpointId": made["id"]}, None)
    call("CallbackFunction", events.callback(made["id"], keys.callback_hash(made["id"]), {"ok": 1}))
    call("WaitForTokenFunction", {"taskToken": TASK + "-final", "waitpointId": made["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "final", "waitpointId": made["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "final", "waitpointId": made["id"]}, None)  # a replay
    call("ApiFunction", events.complete(plain["id"] and plain["publicAccessToken"], plain["id"]))
    operated = body(call("ApiFunction", events.create(key, {"timeout": "1h", "tags": ["ops"]})))
    call("ApiFunction", events.extend(key, operated["id"], {"timeout": "2h"}))  # a transaction with its tag item
    call("ApiFunction", events.force_timeout(key, operated["id"]))
    bare = body(call("ApiFunction", events.create(key, {"timeout": "1h"})))
    call("ApiFunction", events.extend(key, bare["id"], {"timeout": "3h"}))
    late = body(call("ApiFunction", events.create(key, {"timeout": "3s", "tags": ["late"]})))
    call("WaitForTokenFunction", {"taskToken": TASK + "-late", "waitpointId": late["id"]}, None)  # attached in time
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "late", "waitpointId": late["id"]}, None)
    timeout_at = datetime.fromisoformat(body(call("ApiFunction", events.retrieve(key, late["id"])))["timeoutAt"])
    time.sleep(max(0.0, (timeout_at - datetime.now(UTC)).total_seconds()) + 0.1)  # `late` times out
    call("SweepFunction", {}, None)
    assert body(call("ApiFunction", events.retrieve(key, late["id"])))["status"] == "TIMED_OUT"
    large = body(call("ApiFunction", events.create(key, {"timeout": "1h"})))  # outputs over 256 KiB live in S3
    call("WaitForTokenFunction", {"taskToken": TASK + "-large", "waitpointId": large["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "large", "waitpointId": large["id"]}, None)
    call("ApiFunction", events.complete(key, large["id"], {"data": "L" * 300_000}))  # too large: fails its waiter
    huge = body(call("ApiFunction", events.create(key, {"timeout": "1h"})))
    call("WaitForTokenFunction", {"taskToken": TASK + "-huge", "waitpointId": huge["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "huge", "waitpointId": huge["id"]}, None)
    call("CallbackFunction", events.callback(huge["id"], keys.callback_hash(huge["id"]), {"big": "H" * 300_000}))
    call("ApiFunction", events.retrieve(key, large["id"]))
    call("ApiFunction", events.complete(key, large["id"], {"data": "losing" * 60_000}))  # deletes its upload
    call("CallbackFunction", events.callback(large["id"], keys.callback_hash(large["id"]), {"late": "C" * 300_000}))
    _exercise_approval(call, key, keys)
    # The stream consumer is the safety net: what a completion with its inline resume off (or cut short) left.
    netted = body(call("ApiFunction", events.create(key, {"timeout": "1h"})))
    netted_large = body(call("ApiFunction", events.create(key, {"timeout": "1h"})))
    call("WaitForTokenFunction", {"taskToken": TASK + "-netted", "waitpointId": netted["id"]}, None)
    call("WaitForTokenFunction", {"taskToken": TASK + "-netted-large", "waitpointId": netted_large["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "netted", "waitpointId": netted["id"]}, None)
    call("WaitForTokenFunction", {"callbackId": CALLBACK + "nettedlarge", "waitpointId": netted_large["id"]}, None)
    inline = os.environ["WAITPOINTS_INLINE_RESUME_MS"]
    os.environ["WAITPOINTS_INLINE_RESUME_MS"] = "0"
    try:
        call("ApiFunction", events.complete(key, netted["id"], {"data": {"ok": True}}))
        call("ApiFunction", events.complete(key, netted_large["id"], {"data": "N" * 300_000}))
    finally:
        os.environ["WAITPOINTS_INLINE_RESUME_MS"] = inline
    call("StreamFunction", {"Records": stack.bridge.deliver_stream()}, None)
    _exercise_realtime(call, key, plain, tagged)


def _exercise_approval(call: Any, key: str, keys: Any) -> None:
    """Every path of the approval page: show it (GET, HEAD), a validation error, approve, reject, a final page,
    a bad hash (no AWS call at all), and an API complete checked against a schema."""
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer"}}}
    made = [
        json.loads(call("ApiFunction", events.create(key, {"schema": schema, "approval": {"title": "t"}}))["body"])
        for _ in range(3)
    ]
    for token in made:
        approval_hash = keys.approval_hash(token["id"])
        call("ApprovalFunction", events.approval(token["id"], approval_hash))
        call("ApprovalFunction", events.approval(token["id"], approval_hash, method="HEAD"))
    first, second, third = made
    for token in (first, second):  # a workflow and a durable function wait on each: the decision resumes them
        waits_on = {"waitpointId": token["id"]}
        call("WaitForTokenFunction", {"taskToken": f"{TASK}-page-{token['id']}", **waits_on}, None)
        call("WaitForTokenFunction", {"callbackId": f"{CALLBACK}page{token['id'][-8:]}", **waits_on}, None)
    call(
        "ApprovalFunction",
        events.approval(first["id"], keys.approval_hash(first["id"]), form="action=approve&field:n=x"),
        422,
    )
    call(
        "ApprovalFunction",
        events.approval(first["id"], keys.approval_hash(first["id"]), form="action=approve&field:ok=on"),
        303,
    )
    call(
        "ApprovalFunction",
        events.approval(second["id"], keys.approval_hash(second["id"]), form="action=reject&reason=no"),
        303,
    )
    call("ApprovalFunction", events.approval(second["id"], keys.approval_hash(second["id"])))  # the final page
    call("ApprovalFunction", events.approval(first["id"], "0" * 64), 404)
    call("ApiFunction", events.complete(key, third["id"], {"data": {"n": "x"}}), 422)
    call("ApiFunction", events.complete(key, third["id"], {"data": {"n": 1}}))
    call("ApiFunction", events.reject(key, made[0]["id"], {"reason": "late"}))


def _exercise_realtime(call: Any, key: str, plain: dict[str, Any], tagged: dict[str, Any]) -> None:
    """Every path of the realtime function: connect, authenticate (a key, an access token, a bad one: told and
    closed), subscribe to a token and a tag, unsubscribe, ping, disconnect."""
    ws = events.websocket
    call("RealtimeFunction", ws("$connect", "c1"))
    call("RealtimeFunction", ws("auth", "c1", {"action": "auth", "token": key}))
    call("RealtimeFunction", ws("subscribe", "c1", {"action": "subscribe", "tokenId": tagged["id"]}))
    call("RealtimeFunction", ws("subscribe", "c1", {"action": "subscribe", "tag": "a"}))
    call("RealtimeFunction", ws("unsubscribe", "c1", {"action": "unsubscribe", "tag": "a"}))
    call("RealtimeFunction", ws("$default", "c1", {"action": "ping"}))
    call("RealtimeFunction", ws("auth", "c2", {"action": "auth", "token": plain["publicAccessToken"]}))
    call("RealtimeFunction", ws("subscribe", "c2", {"action": "subscribe", "tokenId": plain["id"]}))
    call("RealtimeFunction", ws("auth", "c3", {"action": "auth", "token": "wp_dev_" + "x" * 43}))  # refused: closed
    call("RealtimeFunction", ws("$disconnect", "c1"))
    call("RealtimeFunction", ws("$disconnect", "c2"))


def test_the_code_uses_every_permission_granted_and_no_other(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # The stream consumer's @connections endpoint, as the template gives it (moto answers there).
    monkeypatch.setenv("WAITPOINTS_WS_MANAGEMENT_URL", "https://abcdef1234.execute-api.us-east-1.amazonaws.com/live")
    monkeypatch.setenv("WAITPOINTS_EVENT_BUS", "default")  # the template's default: the stream function publishes
    # Each inline resume finishes within its request, so its calls count for the function that made them.
    monkeypatch.setenv("WAITPOINTS_INLINE_RESUME_MS", "30000")
    _exercise(stack)
    used: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for function, service, operation, body in stack.faults.calls:
        used[function] |= needed(service, operation, body)
    for function, allowed in REVIEWED.items():
        if function in OBSERVED_ELSEWHERE:
            continue
        granted_but_unused = allowed - used[function] - {("sqs:SendMessage", "queue")}  # sent by Lambda itself
        assert used[function] <= allowed, f"{function} needs {used[function] - allowed}, not granted"
        assert not granted_but_unused, f"{function} is granted {granted_but_unused} but never uses it"
