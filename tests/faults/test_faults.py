"""With 30% of AWS calls failing (throttling, 5xx, connection resets, timeouts before and after the write):

- every API and callback request gets 200 or 503 with Retry-After and a JSON error; never a 500;
- botocore makes at most 3 attempts per call, backing off at most 2 s;
- an idempotent create retried until it succeeds yields exactly one token;
- every completion is applied once: the token holds the first completion's data, a later one changes nothing;
- every waiting workflow is resumed exactly once, with that data, once the faults stop.
"""

from __future__ import annotations

import json
import traceback
from collections import Counter
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import boto3
from waitpoints_core import runtime
from waitpoints_core.errors import Unavailable

from tests.conftest import read_event
from tests.handlers.support import body_of, headers_of, with_auth, with_hash, with_id, with_json

from .harness import KINDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from .conftest import Stack

TOKENS = 30
CLIENT_ATTEMPTS = 40  # a client retrying on 503; at 30% faults and 3 botocore attempts, far more than enough


class Outcomes:
    """Every answer a client received, checked as it arrives."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.requests = 0

    def check(self, response: dict[str, Any]) -> None:
        self.requests += 1
        self.statuses[response["statusCode"]] += 1
        assert response["statusCode"] in (200, 503), response
        assert "Traceback" not in response.get("body", ""), response
        if response["statusCode"] == 503:
            assert headers_of(response)["retry-after"] == "1", response
            body = body_of(response)
            assert set(body) == {"error"} and isinstance(body["error"], str), body


def http(stack: Stack, function: str, event: dict[str, Any]) -> dict[str, Any]:
    """What API Gateway answers: an exception escaping the handler is a 500."""
    try:
        return dict(stack.invoke(function, event))
    except Exception:
        return {"statusCode": 500, "body": traceback.format_exc()}


def until_ok(
    stack: Stack, outcomes: Outcomes, function: str, make_event: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    for attempt in range(CLIENT_ATTEMPTS):
        if attempt % 4 == 3:
            runtime.reset()  # a new container: its first request reads the API key and the signing secret again
        with stack.faults.faults():
            response = http(stack, function, make_event())
        outcomes.check(response)
        if response["statusCode"] == 200:
            return response
    raise AssertionError(f"no success in {CLIENT_ATTEMPTS} attempts")


def invoke_retrying(stack: Stack, function: str, payload: dict[str, Any]) -> Any:
    """A Step Functions task with `Retry` on the function's `Unavailable` error."""
    for _ in range(CLIENT_ATTEMPTS):
        try:
            with stack.faults.faults():
                return stack.invoke(function, payload)
        except Unavailable:
            continue
    raise AssertionError(f"{function} never succeeded")


def drain_stream(stack: Stack, faulty_rounds: int) -> int:
    """The event source mapping: a batch is retried from its first failed record (the whole batch when every
    record failed); the first `faulty_rounds` deliveries run with faults. Returns how many deliveries it took."""
    pending = stack.bridge.deliver_stream()
    rounds = 0
    while pending:
        rounds += 1
        assert rounds < 60, "the stream consumer never caught up"
        with stack.faults.faults() if rounds <= faulty_rounds else nullcontext():
            try:
                failures = stack.invoke("StreamFunction", {"Records": pending})["batchItemFailures"]
            except Exception:
                continue
        if not failures:
            pending = []
        else:
            first = failures[0]["itemIdentifier"]
            pending = [r for r in pending if r["dynamodb"]["SequenceNumber"] >= first]
    return rounds


def test_thirty_percent_faults_lose_nothing_and_apply_nothing_twice(stack: Stack) -> None:
    outcomes = Outcomes()
    created: dict[int, set[str]] = {i: set() for i in range(TOKENS)}

    # Create: each client retries its idempotent create until it gets a 200, and sometimes once more.
    ids: dict[int, str] = {}
    for i in range(TOKENS):

        def create(i: int = i) -> dict[str, Any]:
            body = {"idempotencyKey": f"order-{i}", "timeout": "1h", "tags": [f"t{i % 4}"]}
            return with_json(with_auth(read_event("api_create_token"), stack.key), body)

        for _ in range(1 + i % 2):
            created[i].add(body_of(until_ok(stack, outcomes, "ApiFunction", create))["id"])
        (ids[i],) = created[i]
    assert len(set(ids.values())) == TOKENS

    # A workflow waits on each token.
    for i, token_id in ids.items():
        invoke_retrying(stack, "WaitForTokenFunction", {"taskToken": f"task-{i}", "waitpointId": token_id})

    # Complete: by callback URL, by the API, or both (the callback first: its data must win).
    expected: dict[int, dict[str, Any]] = {}
    keys = runtime.get_service().signing_keys.get()
    for i, token_id in ids.items():
        by_callback, by_api = {"i": i, "by": "callback"}, {"i": i, "by": "api"}
        senders = (
            [("callback", by_callback)]
            if i % 3 == 0
            else [("api", by_api)]
            if i % 3 == 1
            else [("callback", by_callback), ("api", by_api)]
        )
        expected[i] = senders[0][1]
        for sender, data in senders:
            if sender == "callback":

                def event(data: dict[str, Any] = data, token_id: str = token_id) -> dict[str, Any]:
                    e = with_hash(with_id(read_event("callback_json"), token_id), keys.callback_hash(token_id))
                    return with_json(e, data)

                until_ok(stack, outcomes, "CallbackFunction", event)
            else:

                def event(data: dict[str, Any] = data, token_id: str = token_id) -> dict[str, Any]:
                    e = with_id(with_auth(read_event("api_complete_token"), stack.key), token_id)
                    return with_json(e, {"data": data})

                until_ok(stack, outcomes, "ApiFunction", event)

    # Read back, under faults too.
    for i, token_id in ids.items():

        def retrieve(token_id: str = token_id) -> dict[str, Any]:
            return with_id(with_auth(read_event("api_retrieve_token"), stack.key), token_id)

        token = body_of(until_ok(stack, outcomes, "ApiFunction", retrieve))
        assert token["status"] == "COMPLETED" and json.loads(token["output"]) == expected[i], (i, token)

    # The stream consumer: 8 deliveries under faults, then the faults stop.
    rounds = drain_stream(stack, faulty_rounds=8)

    # Nothing lost, nothing twice.
    faults = stack.faults
    for i in range(TOKENS):
        (call,) = faults.sfn_accepted[f"task-{i}"]
        assert call["operation"] == "SendTaskSuccess" and json.loads(call["output"]) == expected[i], (i, call)
    assert set(faults.sfn_accepted) == {f"task-{i}" for i in range(TOKENS)}
    scan = boto3.client("dynamodb").scan(
        TableName=stack.table, FilterExpression="sk = :t", ExpressionAttributeValues={":t": {"S": "TOKEN"}}
    )
    assert scan["Count"] == TOKENS, "a retried idempotent create made a second token"
    waiters = boto3.client("dynamodb").scan(
        TableName=stack.table,
        FilterExpression="begins_with(sk, :w)",
        ExpressionAttributeValues={":w": {"S": "WAITER#"}},
    )
    assert waiters["Count"] == 0, "a waiter was never resumed"

    # Retries are bounded, and the faults really happened (so this test can fail).
    assert faults.max_attempts_header == {"3"}
    assert max(faults.attempts_by_call.values()) <= 3
    assert faults.sleeps and max(faults.sleeps) <= 2.0
    assert set(faults.injected) == set(KINDS), faults.injected
    assert outcomes.statuses[503] > 0 and outcomes.statuses[500] == 0
    services = {name.split(".")[0] for name in faults.attempts}
    assert {"dynamodb", "secrets-manager", "sfn"} <= services
    print(
        f"\nfaults: {outcomes.requests} requests → {dict(outcomes.statuses)}; injected {dict(faults.injected)}; "
        f"{sum(faults.attempts.values())} AWS attempts; stream deliveries {rounds}; "
        f"duplicate SendTask* refused {sum(faults.sfn_refused.values())}"
    )


def test_plain_creates_under_faults_never_answer_500(stack: Stack) -> None:
    """No idempotency key and no tags: one conditional PutItem. A retry of a PutItem whose answer was lost
    finds its own item; that must still be a 200 (or a 503), not an unhandled ConditionalCheckFailed."""
    outcomes = Outcomes()
    for _ in range(40):
        until_ok(
            stack,
            outcomes,
            "ApiFunction",
            lambda: with_json(with_auth(read_event("api_create_token"), stack.key), {"timeout": "1h"}),
        )
    assert stack.faults.injected["lost"] > 0 and outcomes.statuses[500] == 0


def test_secrets_manager_failing_past_the_retries_is_503(stack: Stack) -> None:
    stack.faults.rate, stack.faults.services = 1.0, ("secrets-manager",)
    outcomes = Outcomes()
    runtime.reset()
    with stack.faults.faults():
        response = http(stack, "ApiFunction", with_json(with_auth(read_event("api_create_token"), stack.key), {}))
        callback = http(
            stack,
            "CallbackFunction",
            with_hash(with_id(read_event("callback_json"), "waitpoint_" + "a" * 25), "0" * 64),
        )
    outcomes.check(response)
    outcomes.check(callback)
    assert response["statusCode"] == callback["statusCode"] == 503
    assert stack.faults.attempts["secrets-manager.GetSecretValue"] == 6  # 3 attempts for each request
