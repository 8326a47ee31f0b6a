"""Lifecycle events through the real stream handler to moto's EventBridge, where a rule on the default bus targets
an SQS queue: every transition arrives, none for another stack; a failing PutEvents is retried and loses nothing,
and resumes a record already sent are not sent again."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import boto3
from waitpoints_core import Principal, get_service

from tests.security import events

from .conftest import STACK
from .test_operations import _attach, body, create

if TYPE_CHECKING:
    from .conftest import Ops


def _transitions(ops: Ops) -> dict[str, str]:
    """A batch of tokens through every transition: token id → the event its end should make."""
    keys = get_service().signing_keys.get()
    ends: dict[str, str] = {}
    for i in range(3):
        token = create(ops, timeout="1h", tags=["billing" if i % 2 else "ops"])
        ops.invoke("ApiFunction", events.complete(ops.key, token["id"], {"data": {"n": i}}))
        ends[token["id"]] = "Waitpoint Token Completed"
    token = create(ops, timeout="1h")
    ops.invoke("CallbackFunction", events.callback(token["id"], keys.callback_hash(token["id"]), {"ok": 1}))
    ends[token["id"]] = "Waitpoint Token Completed"
    token = create(ops, timeout="1h")
    get_service().tokens.reject(Principal("dev"), token["id"], "no")
    ends[token["id"]] = "Waitpoint Token Rejected"
    token = create(ops, timeout="1h")
    ops.invoke("ApiFunction", events.force_timeout(ops.key, token["id"]))
    ends[token["id"]] = "Waitpoint Token Timed Out"
    token = create(ops, timeout="1h")
    ops.invoke("ApiFunction", events.extend(ops.key, token["id"], {"timeout": "2h"}))  # no event: still waiting
    ends[token["id"]] = ""
    return ends


def _by_token(received: list[dict[str, Any]]) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for event in received:
        seen.setdefault(event["detail"]["id"], []).append(event["detail-type"])
    return seen


def test_every_transition_arrives_in_order_and_none_for_another_stack(ops: Ops) -> None:
    ends = _transitions(ops)
    boto3.client("events").put_events(  # another stack on the same bus: the rule matches this stack only
        Entries=[
            {
                "Source": "waitpoints",
                "DetailType": "Waitpoint Token Completed",
                "Detail": json.dumps({"id": "waitpoint_" + "o" * 25, "stack": "another-stack", "tags": ["billing"]}),
            }
        ]
    )
    response = ops.bridge.invoke_stream(ops.bridge.deliver_stream())
    assert response.get("batchItemFailures", []) == []
    received = ops.received()
    seen = _by_token(received)
    assert set(seen) == set(ends)  # nothing else: not the other stack's event
    for token_id, end in ends.items():
        assert seen[token_id] == ["Waitpoint Token Created", *([end] if end else [])], token_id
    for event in received:
        detail = event["detail"]
        assert event["source"] == "waitpoints" and detail["stack"] == STACK and detail["environment"] == "dev"
        assert {"id", "status", "tags", "createdAt", "timeoutAt"} <= set(detail)
        assert "output" not in detail  # EventsIncludeOutput is off by default
        if event["detail-type"] != "Waitpoint Token Created":
            assert detail["audit"]["door"] in {"secret_key", "callback_url"} and "completedAt" in detail
            assert ops.key not in json.dumps(detail)


def test_a_failing_put_events_is_retried_and_nothing_is_lost_or_resumed_twice(ops: Ops) -> None:
    tokens = [create(ops, timeout="1h", tags=["t"])["id"] for _ in range(4)]
    tasks = {t: _attach(ops, t, "w") for t in tokens}
    for token_id in tokens:
        ops.invoke("ApiFunction", events.complete(ops.key, token_id, {"data": token_id}))
    records = ops.bridge.deliver_stream()
    assert len(records) == 12  # four creates, four attaches (each flags its token), four completions
    ops.events.failing = 3  # a throttle, a refused entry, a throttle (botocore retries throttles itself: 3 attempts)
    attempts = 0
    while records:
        attempts += 1
        assert attempts < 10
        response = ops.bridge.invoke_stream(records)
        failures = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
        if not failures:
            break
        # Lambda retries from the first failed record: everything from it onwards comes again.
        first = min(failures, key=int)
        records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= int(first)]
    assert ops.events.failed == 3 and attempts >= 2
    seen = _by_token(ops.received())
    for token_id in tokens:  # at least once each, and in order
        kinds = seen[token_id]
        assert set(kinds) == {"Waitpoint Token Created", "Waitpoint Token Completed"}
        assert kinds.index("Waitpoint Token Created") < len(kinds) - 1 - kinds[::-1].index("Waitpoint Token Completed")
        assert kinds[-1] == "Waitpoint Token Completed"
    told = Counter(c["taskToken"] for c in ops.bridge.sfn.calls)
    assert all(told[tasks[t]] == 1 for t in tokens), told  # each workflow resumed exactly once


def test_small_outputs_ride_along_only_when_the_stack_allows(ops: Ops, monkeypatch: Any) -> None:
    from waitpoints_core import runtime

    monkeypatch.setenv("WAITPOINTS_EVENTS_OUTPUT", "true")
    runtime.get_service.cache_clear()
    small, large = create(ops)["id"], create(ops)["id"]
    ops.invoke("ApiFunction", events.complete(ops.key, small, {"data": {"ok": True}}))
    ops.invoke("ApiFunction", events.complete(ops.key, large, {"data": "x" * 9000}))
    assert body(ops.invoke("ApiFunction", events.retrieve(ops.key, large)))["status"] == "COMPLETED"
    ops.bridge.invoke_stream(ops.bridge.deliver_stream())
    completed = {e["detail"]["id"]: e["detail"] for e in ops.received() if e["detail-type"].endswith("Completed")}
    assert (
        json.loads(completed[small]["output"]) == {"ok": True} and completed[small]["outputType"] == "application/json"
    )
    assert "output" not in completed[large]  # over 8 KiB: retrieve it instead
