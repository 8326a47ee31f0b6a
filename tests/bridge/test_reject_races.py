"""Reject through every door (the API with the secret key, the API with the token's public access token, the
approval page) racing complete, the callback URL and the timeout: exactly one outcome wins, and every Step
Functions execution waiting on the token is resumed exactly once, with the winner's outcome (issue 15)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from waitpoints_core import CreateTokenRequest, TokenStatus, WaitForTokenRequest
from waitpoints_local.lambdas import LocalFunction

from tests.security import events

from .conftest import TEMPLATE

if TYPE_CHECKING:
    from .conftest import Bridge

ROUNDS = 12
DOORS = ("secret-key", "public-access-token", "approval-page")


def _functions() -> dict[str, LocalFunction]:
    wanted = ("ApiFunction", "ApprovalFunction", "CallbackFunction")
    return {f.logical_id: LocalFunction(f) for f in TEMPLATE.functions() if f.logical_id in wanted}


def test_reject_from_every_door_racing_complete_callback_and_timeout(bridge: Bridge) -> None:
    from waitpoints_core.services.auth import mint_api_key

    key = mint_api_key(bridge.service.store, "dev")
    functions = _functions()
    api, page, callback = (functions[n].invoke for n in ("ApiFunction", "ApprovalFunction", "CallbackFunction"))
    keys = bridge.service.signing_keys.get()
    warm = bridge.service.tokens.create("dev", CreateTokenRequest.model_validate({"approval": {"title": "Warm"}}))
    page(events.approval(warm.id, keys.approval_hash(warm.id)))  # warm containers: the race is not a cold start
    api(events.reject(key, warm.id, {}))
    callback(events.callback(warm.id, keys.callback_hash(warm.id), {}))
    start = int(time.time() * 1000) + 1000  # when the racers start; each token times out near it
    tokens = []
    for n in range(ROUNDS):
        timeout_at = start + (n % 6) * 60 - 20  # from 20 ms before the start to 280 ms after it
        request = CreateTokenRequest.model_validate({"timeout": timeout_at, "approval": {"title": "Race"}})
        created = bridge.service.tokens.create("dev", request)
        for waiter in range(2):
            task = f"task-{n}-{waiter}"
            bridge.service.workflows.wait_for_token(WaitForTokenRequest(taskToken=task, waitpointId=created.id))
        tokens.append(created)
    statuses: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()

    def record(name: str, response: dict[str, Any]) -> None:
        with lock:
            statuses[(name, response["statusCode"])] += 1

    racers = []
    for n, token in enumerate(tokens):
        door = DOORS[n % len(DOORS)]
        if door == "approval-page":
            form = urlencode({"action": "reject", "reason": f"no {n}"})
            reject_event = events.approval(token.id, keys.approval_hash(token.id), form=form)
            reject = lambda e=reject_event: record("reject-page", page(e))  # noqa: E731
        else:
            credential = key if door == "secret-key" else token.public_access_token
            reject_event = events.reject(credential, token.id, {"reason": f"no {n}", "data": {"round": n}})
            reject = lambda e=reject_event, d=door: record(f"reject-{d}", api(e))  # noqa: E731
        complete_event = events.complete(key, token.id, {"data": {"round": n}})
        callback_event = events.callback(token.id, keys.callback_hash(token.id), {"round": n, "via": "callback"})
        racers += [
            reject,
            lambda e=complete_event: record("complete", api(e)),
            lambda e=callback_event: record("callback", callback(e)),
        ]
    barrier = threading.Barrier(len(racers), timeout=60)

    def run(racer: Any) -> None:
        barrier.wait()
        racer()

    # Start every racer just as the tokens' timeouts come due, so the timeout is a contender too.
    time.sleep(max(0.0, start / 1000 - time.time()))
    threads = [threading.Thread(target=run, args=(racer,)) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.1)
    bridge.service.workflows.sweep_timeouts()
    assert bridge.invoke_stream(bridge.deliver_stream()) == {"batchItemFailures": []}

    assert {status for (_, status) in statuses} <= {200, 303}, statuses  # 303: the page, after a decision
    calls = Counter(call["taskToken"] for call in bridge.sfn.calls)
    assert calls == Counter({f"task-{n}-{w}": 1 for n in range(ROUNDS) for w in range(2)})  # exactly once each
    outcomes = bridge.sfn.outcomes()
    winners: Counter[str] = Counter()
    for n, token in enumerate(tokens):
        stored = bridge.service.store.get_token(token.id)
        assert stored is not None and stored.status is not TokenStatus.WAITING
        resumed = {json.dumps(outcomes[f"task-{n}-{w}"], sort_keys=True) for w in range(2)}
        assert len({json.loads(r)["operation"] for r in resumed}) == 1
        call = outcomes[f"task-{n}-0"]
        if stored.status is TokenStatus.REJECTED:
            winners["rejected"] += 1
            assert call["operation"] == "SendTaskFailure" and call["error"] == "Waitpoint.Rejected"
            assert json.loads(call["cause"])["reason"] == f"no {n}"
        elif stored.status is TokenStatus.TIMED_OUT:
            winners["timed out"] += 1
            assert call["operation"] == "SendTaskFailure" and call["error"] == "Waitpoint.TimedOut"
        else:
            winners["completed"] += 1
            assert call["operation"] == "SendTaskSuccess"
            assert json.loads(call["output"])["round"] == n
            assert json.loads(stored.output or "null") == json.loads(call["output"])
    assert sum(winners.values()) == ROUNDS, winners
