"""DynamoDBStore against moto with the template's table: races, and items DynamoDB's TTL has not deleted yet."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from waitpoints_core import Action, Actor, Attachment, Completion, Door, NotFound, Output, Principal, get_service
from waitpoints_core.dynamodb.codecs import idempotency_key
from waitpoints_core.ids import new_token_id
from waitpoints_core.models import TokenStatus, Waitpoint
from waitpoints_core.ports import Waiter, WaiterKind
from waitpoints_local import moto_fixes

if TYPE_CHECKING:
    from collections.abc import Callable

    from .conftest import Deployment

T = TypeVar("T")
THREADS = 20
HOUR_MS = 3_600_000


def now() -> int:
    return int(time.time() * 1000)


def new_token(
    env: str = "dev", key: str | None = None, *, timeout_in_ms: int = HOUR_MS, ttl_in_s: int = 86_400
) -> Waitpoint:
    created = now()
    return Waitpoint(
        id=new_token_id(),
        env=env,
        status=TokenStatus.WAITING,
        created_at=created,
        timeout_at=created + timeout_in_ms,
        expires_at=created // 1000 + ttl_in_s,
        idempotency_key=key,
        idempotency_key_expires_at=created + HOUR_MS if key else None,
    )


def all_at_once(n: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(i)` on n threads released together by a barrier."""
    barrier = threading.Barrier(n, timeout=60)

    def run(i: int) -> T:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def atomic_requests() -> None:
    """Make moto apply each DynamoDB request atomically, as DynamoDB does (waitpoints_local.moto_fixes; the
    local stack uses the same fixes). The threads still race to be first, and the store still has to handle
    every loser correctly."""
    moto_fixes.install()


def token_items(aws: Deployment) -> list[dict[str, Any]]:
    items = aws.ddb.scan(TableName=aws.table)["Items"]
    return [i for i in items if i["sk"]["S"] == "TOKEN"]


# --- idempotency ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("atomic_requests")
def test_concurrent_creates_with_one_idempotency_key_make_one_token(aws: Deployment) -> None:
    candidates = [new_token(key="order-42") for _ in range(THREADS)]
    winners = all_at_once(THREADS, lambda i: aws.store.insert_token(candidates[i]))
    assert len(set(winners)) == 1
    assert winners[0] in {c.id for c in candidates}
    assert [i["pk"]["S"] for i in token_items(aws)] == [f"TOKEN#{winners[0]}"]


def test_idempotency_key_is_per_environment(aws: Deployment) -> None:
    dev, prod = new_token("dev", "k"), new_token("prod", "k")
    assert aws.store.insert_token(dev) == dev.id
    assert aws.store.insert_token(prod) == prod.id


def test_live_idempotency_key_returns_the_existing_token_and_writes_nothing(aws: Deployment) -> None:
    first, second = new_token(key="k"), new_token(key="k")
    assert aws.store.insert_token(first) == first.id
    assert aws.store.insert_token(second) == first.id
    assert aws.store.get_token(second.id) is None


def test_expired_idempotency_item_still_in_the_table_counts_as_absent(aws: Deployment) -> None:
    stale_target = new_token_id()
    past = now() - 1_000
    aws.ddb.put_item(
        TableName=aws.table,
        Item={
            **idempotency_key("dev", "order-42"),
            "tokenId": {"S": stale_target},
            "expiresAtMs": {"N": str(past)},
            "ttl": {"N": str(past // 1000 + 1)},
        },
    )
    fresh = new_token(key="order-42")
    assert aws.store.insert_token(fresh) == fresh.id
    assert aws.store.get_token(fresh.id) is not None
    claim = aws.ddb.get_item(TableName=aws.table, Key=idempotency_key("dev", "order-42"), ConsistentRead=True)["Item"]
    assert claim["tokenId"]["S"] == fresh.id
    assert int(claim["expiresAtMs"]["N"]) == fresh.idempotency_key_expires_at


# --- TTL not yet applied -------------------------------------------------------------------------------


def expired_token(aws: Deployment) -> Waitpoint:
    """A token whose TTL passed a minute ago, still present because DynamoDB deletes expired items lazily."""
    token = new_token(timeout_in_ms=-2 * HOUR_MS, ttl_in_s=-60)
    aws.store.insert_token(token)
    assert aws.item(token.id) is not None
    return token


def test_token_past_its_ttl_reads_as_not_found(aws: Deployment) -> None:
    token = expired_token(aws)
    with pytest.raises(NotFound):
        get_service().tokens.retrieve("dev", token.id)


def test_token_past_its_ttl_cannot_be_completed(aws: Deployment) -> None:
    token = expired_token(aws)
    assert (
        aws.store.complete_token(token.id, None, Output("late", "text/plain"), now(), now() // 1000 + 3600)
        is Completion.NOT_FOUND
    )
    with pytest.raises(NotFound):
        get_service().tokens.complete(Principal("dev"), token.id, {"late": True})
    assert aws.item(token.id) is not None
    assert "output" not in (aws.item(token.id) or {})


def test_waiting_token_past_its_ttl_but_before_its_timeout_cannot_be_completed(aws: Deployment) -> None:
    token = new_token(timeout_in_ms=HOUR_MS, ttl_in_s=-1)
    aws.store.insert_token(token)
    assert aws.store.complete_token(token.id, "dev", None, now(), now() // 1000 + 3600) is Completion.NOT_FOUND


# --- completion races ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("atomic_requests")
def test_concurrent_completions_have_exactly_one_winner_whose_data_is_stored(aws: Deployment) -> None:
    token = new_token()
    aws.store.insert_token(token)
    outputs = [Output(f'{{"writer":{i}}}', "application/json") for i in range(THREADS)]
    results = all_at_once(
        THREADS, lambda i: aws.store.complete_token(token.id, "dev", outputs[i], now(), now() // 1000 + 86_400)
    )
    assert results.count(Completion.WON) == 1
    assert results.count(Completion.ALREADY_FINAL) == THREADS - 1
    winner = results.index(Completion.WON)
    stored = aws.store.get_token(token.id)
    assert stored is not None
    assert stored.status is TokenStatus.COMPLETED
    assert (stored.output, stored.output_type) == (outputs[winner].text, outputs[winner].type)


# Every write that ends a token says whether workflows wait on it: attach flags the token in its transaction,
# the ending write removes the flag and reads it back (UPDATED_OLD). Only then does a door resume inline.
ENDINGS: dict[str, Callable[[Deployment, Waitpoint], Completion]] = {
    "complete": lambda aws, t: aws.store.complete_token(t.id, "dev", None, now(), now() // 1000 + 3600),
    "reject": lambda aws, t: aws.store.reject_token(
        t.id, "dev", Output('{"code":"WAITPOINT_REJECTED"}', "application/json"), now(), now() // 1000 + 3600
    ),
    "callback": lambda aws, t: aws.store.complete_if_unguarded(t.id, None, now(), now() // 1000 + 3600)[0],
    "force_timeout": lambda aws, t: aws.store.force_time_out_token(
        t.id, "dev", now(), now() // 1000 + 3600, Actor(Door.SECRET_KEY).did(Action.FORCE_TIMEOUT, now())
    )[0],
    # the sweep, as at the token's deadline (its write is conditional on the deadline, not on the clock)
    "sweep": lambda aws, t: aws.store.time_out_token(t.id, t.timeout_at, t.timeout_at, now() // 1000 + 3600),
}


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("waited_on", [False, True])
def test_the_ending_write_tells_whether_workflows_wait_on_the_token(
    aws: Deployment, ending: str, waited_on: bool
) -> None:
    token = new_token()
    aws.store.insert_token(token)
    if waited_on:
        assert aws.store.attach_waiter(token.id, "dev", "task-token-1", now())[0] is Attachment.ATTACHED
    outcome = ENDINGS[ending](aws, token)
    assert outcome is (Completion.WON_WAITED_ON if waited_on else Completion.WON) and outcome.won
    assert "hasWaiters" not in (aws.item(token.id) or {})  # taken by the ending write
    assert ENDINGS[ending](aws, token) is Completion.ALREADY_FINAL  # the second writer learns nothing of waiters


def test_one_query_reads_the_ended_token_and_the_waiters_still_to_resume(aws: Deployment) -> None:
    """What the inline resume reads after its write: the token as ended and its waiters, a resumed durable waiter
    (kept for replays) left out, in one request."""
    token = new_token()
    aws.store.insert_token(token)
    assert aws.store.token_with_waiters(token.id) == (token, [])
    for handle in ("task-token-1", "task-token-2"):
        aws.store.attach_waiter(token.id, "dev", handle, now())
    aws.store.attach_waiter(token.id, "dev", "callback-id", now(), WaiterKind.DURABLE)
    aws.store.mark_resumed(Waiter(token.id, "callback-id", WaiterKind.DURABLE), now())
    assert ENDINGS["complete"](aws, token) is Completion.WON_WAITED_ON

    ended, waiters = aws.store.token_with_waiters(token.id)

    assert ended is not None and ended.status is TokenStatus.COMPLETED
    assert ended == aws.store.get_token(token.id)
    assert sorted(w.handle for w in waiters) == ["task-token-1", "task-token-2"]
    assert aws.store.token_with_waiters(new_token_id()) == (None, [])


def test_completion_in_another_environment_is_not_found(aws: Deployment) -> None:
    token = new_token("dev")
    aws.store.insert_token(token)
    assert aws.store.complete_token(token.id, "prod", None, now(), now() // 1000 + 3600) is Completion.NOT_FOUND
    assert aws.store.complete_token(token.id, "dev", None, now(), now() // 1000 + 3600) is Completion.WON


def test_completion_of_a_missing_token_is_not_found_and_creates_nothing(aws: Deployment) -> None:
    missing = new_token_id()
    assert aws.store.complete_token(missing, None, None, now(), now() // 1000 + 3600) is Completion.NOT_FOUND
    assert aws.item(missing) is None


def test_completion_after_the_timeout_is_already_final(aws: Deployment) -> None:
    token = new_token(timeout_in_ms=-1)
    aws.store.insert_token(token)
    assert aws.store.complete_token(token.id, "dev", None, now(), now() // 1000 + 3600) is Completion.ALREADY_FINAL


def test_completion_extends_the_ttl_to_retention_from_now(aws: Deployment) -> None:
    token = new_token(ttl_in_s=60)
    aws.store.insert_token(token)
    expires_at = now() // 1000 + 30 * 86_400
    assert aws.store.complete_token(token.id, "dev", None, now(), expires_at) is Completion.WON
    stored = aws.store.get_token(token.id)
    assert stored is not None and stored.expires_at == expires_at
