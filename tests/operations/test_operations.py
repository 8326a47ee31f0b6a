"""Force-timeout and extend through the real API handler; the audit record each door leaves; both operator
actions racing complete, reject and the sweep: one outcome, and each waiting workflow told exactly once."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from waitpoints_core import Principal, get_service
from waitpoints_core.dynamodb import DynamoDBStore

from tests.security import events

if TYPE_CHECKING:
    from .conftest import Ops

TASK = "AQCEAAAAKgAAAAMAAAAAAAAAA"


def body(result: dict[str, Any]) -> Any:
    return json.loads(result["body"])


def create(ops: Ops, **fields: Any) -> dict[str, Any]:
    result = ops.invoke("ApiFunction", events.create(ops.key, fields or {"timeout": "1h"}))
    assert result["statusCode"] == 200, result
    return dict(body(result))


def retrieve(ops: Ops, token_id: str) -> dict[str, Any]:
    return dict(body(ops.invoke("ApiFunction", events.retrieve(ops.key, token_id))))


def stored(ops: Ops, token_id: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(
        TableName=ops.bridge.table, Key={"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}}
    )
    return dict(item["Item"])


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def test_force_timeout_ends_a_waiting_token_now_and_only_with_a_secret_key(ops: Ops) -> None:
    token = create(ops, timeout="1h", tags=["ops"])
    refused = ops.invoke("ApiFunction", events.force_timeout(token["publicAccessToken"], token["id"]))
    assert refused["statusCode"] == 403 and "secret key" in body(refused)["error"]
    before = time.time()
    result = ops.invoke("ApiFunction", events.force_timeout(ops.key, token["id"]))
    assert result["statusCode"] == 200 and body(result) == {"success": True, "timedOut": True}
    after = retrieve(ops, token["id"])
    assert after["status"] == "TIMED_OUT" and after["outputIsError"] is True
    assert (
        before - 1
        < time.mktime(time.strptime(after["timeoutAt"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        < time.time() + 1
    )
    assert after["audit"]["door"] == "secret_key" and after["audit"]["action"] == "force_timeout"
    assert after["audit"]["keyId"] == key_id(ops.key)
    again = ops.invoke("ApiFunction", events.force_timeout(ops.key, token["id"]))
    assert body(again) == {"success": True, "timedOut": False}  # the first writer won
    # The timed-out listing and its tag partition both show it.
    listed = body(ops.invoke("ApiFunction", events.list_tokens(ops.key, **{"filter[status]": "TIMED_OUT"})))
    assert token["id"] in [t["id"] for t in listed["data"]]
    by_tag = body(ops.invoke("ApiFunction", events.list_tokens(ops.key, **{"filter[tags]": "ops"})))
    ops.bridge.invoke_stream(ops.bridge.deliver_stream())  # the stream brings the tag item up to date
    by_tag = body(ops.invoke("ApiFunction", events.list_tokens(ops.key, **{"filter[tags]": "ops"})))
    assert [t["status"] for t in by_tag["data"] if t["id"] == token["id"]] == ["TIMED_OUT"]
    other = _mint(ops, "other-env")
    assert ops.invoke("ApiFunction", events.force_timeout(other, token["id"]))["statusCode"] == 404
    unknown = ops.invoke("ApiFunction", events.force_timeout(ops.key, "waitpoint_" + "x" * 25))
    assert unknown["statusCode"] == 404


def _mint(ops: Ops, env: str) -> str:
    from waitpoints_core.services.auth import mint_api_key

    return mint_api_key(DynamoDBStore(boto3.client("dynamodb"), ops.bridge.table), env)


def test_extend_moves_the_deadline_in_the_token_its_tag_items_and_the_due_index(ops: Ops) -> None:
    token = create(ops, timeout="1s", tags=["slow", "ops"])
    result = ops.invoke("ApiFunction", events.extend(ops.key, token["id"], {"timeout": "2h"}))
    assert result["statusCode"] == 200, result
    new = body(result)["timeoutAt"]
    assert retrieve(ops, token["id"])["timeoutAt"] == new
    time.sleep(1.2)  # past the old deadline: lazy reads, listings by tag and the sweep all honour the new one
    assert retrieve(ops, token["id"])["status"] == "WAITING"
    for tag in ("slow", "ops"):
        page = body(ops.invoke("ApiFunction", events.list_tokens(ops.key, **{"filter[tags]": tag})))
        assert [(t["status"], t["timeoutAt"]) for t in page["data"]] == [("WAITING", new)]
    waiting = body(ops.invoke("ApiFunction", events.list_tokens(ops.key, **{"filter[status]": "WAITING"})))
    assert token["id"] in [t["id"] for t in waiting["data"]]
    assert ops.invoke("SweepFunction", {}) == {"timedOut": 0}
    item = stored(ops, token["id"])
    assert item["status"]["S"] == "WAITING" and item["duePk"]["S"].split("#")[:2] == ["DUE", "dev"]  # its shard
    assert int(item["ttl"]["N"]) > time.time() + 29 * 86400  # retention counts from the new deadline
    # Refusals: not later, too far, not a time, an access token, a final token.
    for timeout, message in (
        ("1m", "later than the token's current timeoutAt"),
        ("400d", "at most 365 days"),
        ("soon", "neither a duration"),
        (1000, "must be in the future"),
    ):
        refused = ops.invoke("ApiFunction", events.extend(ops.key, token["id"], {"timeout": timeout}))
        assert refused["statusCode"] == 400 and message in body(refused)["error"], refused
    assert ops.invoke("ApiFunction", events.extend(ops.key, token["id"], {}))["statusCode"] == 400
    by_token = ops.invoke("ApiFunction", events.extend(token["publicAccessToken"], token["id"], {"timeout": "3h"}))
    assert by_token["statusCode"] == 403
    epoch = int(time.time() * 1000) + 3 * 3600_000
    assert body(ops.invoke("ApiFunction", events.extend(ops.key, token["id"], {"timeout": epoch})))["success"]
    ops.invoke("ApiFunction", events.complete(ops.key, token["id"], {"data": 1}))
    final = ops.invoke("ApiFunction", events.extend(ops.key, token["id"], {"timeout": "5h"}))
    assert final["statusCode"] == 409 and "no longer waiting" in body(final)["error"]


def test_each_door_leaves_its_own_record_and_no_secret(ops: Ops) -> None:
    keys = get_service().signing_keys.get()
    doors: dict[str, str] = {}
    token = create(ops)
    doors["secret_key"] = token["id"]
    event = events.complete(ops.key, token["id"], {"data": {"ok": True}})
    event["requestContext"]["http"]["userAgent"] = "ua/" + "x" * 1000 + "\n"
    ops.invoke("ApiFunction", event)
    token = create(ops)
    doors["console"] = token["id"]
    event = events.complete(ops.key, token["id"], {"data": 2})
    event["headers"]["x-waitpoints-door"] = "console"
    ops.invoke("ApiFunction", event)
    token = create(ops)
    doors["public_access_token"] = token["id"]
    ops.invoke("ApiFunction", events.complete(token["publicAccessToken"], token["id"], {"data": 3}))
    token = create(ops)
    doors["callback_url"] = token["id"]
    ops.invoke("CallbackFunction", events.callback(token["id"], keys.callback_hash(token["id"]), {"ok": 4}))
    token = create(ops, timeout="1s")
    doors["sweep"] = token["id"]
    token = create(ops)
    doors["force_timeout"] = token["id"]
    ops.invoke("ApiFunction", events.force_timeout(ops.key, token["id"]))
    token = create(ops)
    doors["approval_page"] = token["id"]  # the hook the approval page calls: an Actor of its door
    from waitpoints_core import Actor, Door

    get_service().tokens.complete(
        Principal("dev"),
        token["id"],
        {"approved": True},
        actor=Actor(Door.APPROVAL_PAGE, None, "198.51.100.7", "Firefox"),
    )
    token = create(ops)
    doors["reject"] = token["id"]
    get_service().tokens.reject(Principal("dev", key_id=key_id(ops.key)), token["id"], "no budget")
    time.sleep(1.1)
    lazy = retrieve(ops, doors["sweep"])["audit"]  # read before the sweep: the same record it will write
    assert ops.invoke("SweepFunction", {})["timedOut"] == 1
    audits = {door: retrieve(ops, token_id)["audit"] for door, token_id in doors.items()}
    assert audits["sweep"] == lazy and lazy["door"] == "sweep" and lazy["action"] == "timeout"
    assert lazy["at"] == retrieve(ops, doors["sweep"])["timeoutAt"]
    expected = {
        "secret_key": ("secret_key", "complete", key_id(ops.key)),
        "console": ("console", "complete", key_id(ops.key)),
        "public_access_token": ("public_access_token", "complete", None),
        "callback_url": ("callback_url", "complete", None),
        "force_timeout": ("secret_key", "force_timeout", key_id(ops.key)),
        "approval_page": ("approval_page", "complete", None),
        "reject": ("secret_key", "reject", key_id(ops.key)),
        "sweep": ("sweep", "timeout", None),
    }
    for door, (name, action, kid) in expected.items():
        audit = audits[door]
        assert (audit["door"], audit["action"], audit.get("keyId")) == (name, action, kid), (door, audit)
        assert audit["at"].endswith("Z")
    for door in ("secret_key", "console", "public_access_token", "callback_url", "force_timeout"):
        assert audits[door]["sourceIp"] == "203.0.113.10", door  # the sample events' caller
    assert audits["secret_key"]["userAgent"] == ("ua/" + "x" * 1000)[:256]  # clipped, control characters dropped
    assert audits["approval_page"]["userAgent"] == "Firefox"
    assert "sourceIp" not in audits["sweep"]
    # No credential in any record, stored or returned.
    tokens_items = json.dumps([stored(ops, t) for t in doors.values()], default=str)
    public = [retrieve(ops, t) for t in doors.values()]
    for secret in (ops.key, keys.callback_hash(doors["callback_url"]), hashlib.sha256(ops.key.encode()).hexdigest()):
        assert secret not in tokens_items and secret not in json.dumps([a for a in audits.values()])
    assert all("publicAccessToken" not in json.dumps(p.get("audit")) for p in public)


def _attach(ops: Ops, token_id: str, name: str) -> str:
    task = f"{TASK}-{name}-{token_id}"
    ops.invoke("WaitForTokenFunction", {"taskToken": task, "waitpointId": token_id})
    return task


RACERS = ("complete", "reject", "force_timeout", "extend", "sweep")


def _run(ops: Ops, racer: str, token_id: str, deadline_ms: int) -> None:
    tokens, principal = get_service().tokens, Principal("dev", key_id="0" * 16)
    if racer == "complete":
        tokens.complete(principal, token_id, {"by": "racer"})
    elif racer == "reject":
        tokens.reject(principal, token_id, "racer")
    elif racer == "force_timeout":
        tokens.force_timeout(principal, token_id)
    elif racer == "extend":
        try:
            tokens.extend(principal, token_id, "2h")
        except Exception:
            pass
    else:  # the sweep's write, with the deadline it read from the due index
        store = get_service().store
        store.time_out_token(token_id, deadline_ms, int(time.time() * 1000), 2_000_000_000)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("force_timeout", "complete"),
        ("complete", "force_timeout"),
        ("force_timeout", "reject"),
        ("reject", "force_timeout"),
        ("extend", "complete"),
        ("complete", "extend"),
        ("extend", "sweep"),
        ("sweep", "extend"),
        ("force_timeout", "extend"),
        ("extend", "force_timeout"),
    ],
)
def test_operator_actions_racing_others_have_one_outcome_and_tell_each_waiter_once(
    ops: Ops, first: str, second: str
) -> None:
    tokens = []
    for round_ in range(4):  # in order, both ways, and at once from two threads (twice)
        deadline = "1s" if "sweep" in (first, second) else "1h"
        token = create(ops, timeout=deadline)
        tasks = [_attach(ops, token["id"], f"w{i}") for i in range(2)]
        deadline_ms = int(stored(ops, token["id"])["timeoutAt"]["N"])
        if "sweep" in (first, second):
            time.sleep(max(0.0, deadline_ms / 1000 - time.time() - 0.3))  # the extend lands just before the deadline
        if round_ < 2:
            for racer in (first, second) if round_ == 0 else (second, first):
                if racer == "sweep":
                    time.sleep(max(0.0, deadline_ms / 1000 - time.time() + 0.05))
                _run(ops, racer, token["id"], deadline_ms)
        else:
            barrier = threading.Barrier(2, timeout=60)

            def race(
                racer: str, token_id: str = token["id"], at: int = deadline_ms, start: threading.Barrier = barrier
            ) -> None:
                start.wait()
                if racer == "sweep":
                    time.sleep(max(0.0, at / 1000 - time.time() + 0.05))
                _run(ops, racer, token_id, at)

            threads = [threading.Thread(target=race, args=(r,)) for r in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        tokens.append((token["id"], tasks))
    records = ops.bridge.deliver_stream()
    for _ in range(2):  # the stream, then a replay of the same batch (at least once): nobody is told twice
        response = ops.bridge.invoke_stream(records)
        assert response.get("batchItemFailures", []) == []
    calls = ops.bridge.sfn.calls
    for token_id, tasks in tokens:
        final = retrieve(ops, token_id)
        told = [c for c in calls if c["taskToken"] in tasks]
        if final["status"] == "WAITING":  # extend won and the other lost: nobody is told yet
            assert told == [] and "extend" in (first, second)
            continue
        assert sorted(c["taskToken"] for c in told) == sorted(tasks), (first, second, told)  # each exactly once
        outcome = {(c["operation"], c.get("error")) for c in told}
        assert len(outcome) == 1, outcome  # one outcome
        ((operation, error),) = outcome
        expected = {
            ("COMPLETED", False): ("SendTaskSuccess", None),
            ("COMPLETED", True): ("SendTaskFailure", "Waitpoint.Rejected"),
            ("TIMED_OUT", True): ("SendTaskFailure", "Waitpoint.TimedOut"),
        }[(final["status"], final.get("rejected", False) or final["status"] == "TIMED_OUT")]
        assert (operation, error) == expected, (first, second, final)
        assert final["audit"]["action"] in {"complete", "reject", "force_timeout", "timeout"}
