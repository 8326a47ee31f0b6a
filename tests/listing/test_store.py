"""Listing on in-process moto: the writes that keep the list indexes right, lazy timeouts, TTL, the period
window, and sync_tag_items. (Every filter walked against a model: test_walks.py.)"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_core import CreateTokenRequest, Principal, TokenStatus, Waitpoint, WaitpointService
from waitpoints_core.dynamodb.codecs import ENTER_TIMED_OUT, LEAVE_WAITING, shard_of, tag_items, token_key
from waitpoints_core.ids import new_token_id
from waitpoints_http.list_query import parse_list_query

from .conftest import TABLE, Meter, freeze_clock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from waitpoints_core.dynamodb import DynamoDBStore

W, C, T = TokenStatus.WAITING, TokenStatus.COMPLETED, TokenStatus.TIMED_OUT
NOW = 1_800_000_000_000
MINUTE = 60_000


def get(ddb: Any, key: dict[str, Any]) -> dict[str, Any]:
    return dict(ddb.get_item(TableName=TABLE, Key=key).get("Item") or {})


def make(
    env: str = "dev",
    created: int = NOW - MINUTE,
    timeout: int = NOW + 60 * MINUTE,
    tags: tuple[str, ...] = (),
    key: str | None = None,
    ttl: int = NOW // 1000 + 86_400,
) -> Waitpoint:
    return Waitpoint(
        id=new_token_id(),
        env=env,
        status=W,
        created_at=created,
        timeout_at=timeout,
        expires_at=ttl,
        tags=list(tags),
        idempotency_key=key,
        idempotency_key_expires_at=created + MINUTE if key else None,
    )


def sweep(ddb: Any, token: Waitpoint) -> None:
    """What the timeout sweep does to a token, with the shared update actions."""
    ddb.update_item(
        TableName=TABLE,
        Key=token_key(token.id),
        UpdateExpression=f"SET #status = :t, completedAt = timeoutAt, outputIsError = :true, {ENTER_TIMED_OUT} "
        f"REMOVE {LEAVE_WAITING}",
        ConditionExpression="#status = :w",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":t": {"S": "TIMED_OUT"}, ":w": {"S": "WAITING"}, ":true": {"BOOL": True}},
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    now = [NOW]
    freeze_clock(monkeypatch, lambda: now[0])
    yield now


# --- writes ------------------------------------------------------------------------------------------------


def test_create_with_tags_and_key_writes_token_claim_and_tag_items_in_one_transaction(
    service: WaitpointService, ddb: Any, meter: Meter, shards: int
) -> None:
    created = service.tokens.create("dev", CreateTokenRequest(tags=["a", "b", "a"], idempotencyKey="k1"))
    assert meter.calls == {"TransactWriteItems": 1}
    item = get(ddb, token_key(created.id))
    list_sk = item["listSk"]["S"]
    assert list_sk == f"{int(item['createdAt']['N']):013d}#{created.id}"
    shard = shard_of(created.id, shards)
    suffix = f"#{shard}" if shard else ""  # shard 0 is spelled as before sharding
    assert item["listPk"] == {"S": f"LIST#dev{suffix}"} and item["waitingSk"]["S"] == list_sk
    assert item["duePk"] == {"S": f"DUE#dev{suffix}"}
    assert item["idemPk"]["S"].startswith("IDEMK#dev#") and len(item["idemPk"]["S"]) == len("IDEMK#dev#") + 64
    token = service.tokens.retrieve("dev", created.id)
    tags = [get(ddb, {"pk": t["pk"], "sk": t["sk"]}) for t in tag_items(token, shards)]
    assert len(tags) == 2 and all(t["id"] == {"S": created.id} and t["sk"]["S"] == list_sk for t in tags)
    assert all("output" not in t and "listPk" not in t and "waitingSk" not in t for t in tags)


def test_create_without_tags_or_key_is_one_put(service: WaitpointService, meter: Meter) -> None:
    service.tokens.create("dev", CreateTokenRequest())
    assert meter.calls == {"PutItem": 1}


def test_a_cached_create_writes_no_tag_items(service: WaitpointService) -> None:
    first = service.tokens.create("dev", CreateTokenRequest(tags="first", idempotencyKey="same"))
    again = service.tokens.create("dev", CreateTokenRequest(tags="second", idempotencyKey="same"))
    assert again.is_cached and again.id == first.id
    assert service.listing.list_tokens("dev", parse_list_query({"filter[tags]": "second"})).tokens == []
    assert [t.id for t in service.listing.list_tokens("dev", parse_list_query({"filter[tags]": "first"})).tokens] == [
        first.id
    ]


def test_complete_moves_the_token_from_waiting_to_completed_in_its_one_update(
    service: WaitpointService, ddb: Any, meter: Meter
) -> None:
    created = service.tokens.create("dev", CreateTokenRequest())
    meter.calls.clear()
    service.tokens.complete(Principal("dev"), created.id, {"ok": 1})
    assert meter.calls == {"UpdateItem": 1}
    item = get(ddb, token_key(created.id))
    assert item["completedSk"] == item["listSk"] and "waitingSk" not in item and "duePk" not in item


def test_the_sweep_actions_move_a_token_to_timed_out_once(
    service: WaitpointService, store: DynamoDBStore, ddb: Any, clock: list[int]
) -> None:
    token = make(timeout=NOW - 1)
    store.insert_token(token)
    before = service.listing.list_tokens("dev", parse_list_query({"filter[status]": "TIMED_OUT"}))
    sweep(ddb, token)
    after = service.listing.list_tokens("dev", parse_list_query({"filter[status]": "TIMED_OUT"}))
    assert [t.id for t in before.tokens] == [t.id for t in after.tokens] == [token.id]
    assert after.tokens[0].completed_at == token.timeout_at
    assert service.listing.list_tokens("dev", parse_list_query({"filter[status]": "WAITING"})).tokens == []


# --- pages ----------------------------------------------------------------------------------------------


def test_an_empty_page_after_a_cursor_still_links_back(
    service: WaitpointService, store: DynamoDBStore, clock: list[int]
) -> None:
    token = make()
    store.insert_token(token)
    first = service.listing.list_tokens("dev", parse_list_query({"page[size]": "1"}))
    assert first.next is None and first.previous is None
    back = service.listing.list_tokens(
        "dev", parse_list_query({"page[size]": "1", "filter[createdAt][from]": str(NOW - 1)})
    )
    assert back.tokens == []


def test_a_period_is_frozen_at_the_first_page(
    service: WaitpointService, store: DynamoDBStore, clock: list[int]
) -> None:
    tokens = [make(created=NOW - m * MINUTE) for m in (10, 20, 50)]
    for token in tokens:
        store.insert_token(token)
    first = service.listing.list_tokens("dev", parse_list_query({"filter[createdAt][period]": "1h", "page[size]": "2"}))
    clock[0] = NOW + 30 * MINUTE  # a fresh `period=1h` would now start after the oldest token
    rest = service.listing.list_tokens(
        "dev", parse_list_query({"filter[createdAt][period]": "1h", "page[size]": "2", "page[after]": first.next or ""})
    )
    assert [t.id for t in first.tokens + rest.tokens] == [t.id for t in tokens]


def test_expired_tokens_are_not_listed(service: WaitpointService, store: DynamoDBStore, clock: list[int]) -> None:
    live, expired = make(tags=("t",)), make(tags=("t",), ttl=NOW // 1000 - 1)
    store.insert_token(live)
    store.insert_token(expired)
    for params in ({}, {"filter[tags]": "t"}, {"filter[status]": "WAITING"}):
        assert [t.id for t in service.listing.list_tokens("dev", parse_list_query(params)).tokens] == [live.id]


def test_lazy_timeout_in_every_source(service: WaitpointService, store: DynamoDBStore, clock: list[int]) -> None:
    token = make(timeout=NOW + 1000, tags=("lazy",), key="lazy")
    store.insert_token(token)
    for params in ({}, {"filter[tags]": "lazy"}, {"filter[idempotencyKey]": "lazy"}):
        clock[0] = NOW
        assert service.listing.list_tokens("dev", parse_list_query(params)).tokens[0].status is W
        assert (
            service.listing.list_tokens("dev", parse_list_query({**params, "filter[status]": "TIMED_OUT"})).tokens == []
        )
        clock[0] = NOW + 1000
        seen = service.listing.list_tokens("dev", parse_list_query(params)).tokens[0]
        assert seen.status is T and seen.completed_at == token.timeout_at and seen.output_is_error
        assert (
            service.listing.list_tokens("dev", parse_list_query({**params, "filter[status]": "WAITING"})).tokens == []
        )
        assert [
            t.id
            for t in service.listing.list_tokens(
                "dev", parse_list_query({**params, "filter[status]": "TIMED_OUT"})
            ).tokens
        ] == [token.id]


# --- sync_tag_items ----------------------------------------------------------------------------------------


def test_sync_tag_items_brings_tag_items_up_to_date_idempotently(
    service: WaitpointService, store: DynamoDBStore, ddb: Any, clock: list[int]
) -> None:
    token = make(tags=("s1", "s2"))
    store.insert_token(token)
    store.complete_token(token.id, "dev", None, NOW, NOW // 1000 + 3600)
    by_tag = parse_list_query({"filter[tags]": "s1"})
    assert service.listing.list_tokens("dev", by_tag).tokens[0].status is W  # stale until the stream consumer runs
    completed = store.get_token(token.id)
    assert completed is not None
    assert store.sync_tag_items(completed) == 2
    listed = service.listing.list_tokens("dev", by_tag).tokens[0]
    assert (listed.status, listed.completed_at, listed.expires_at) == (C, NOW, NOW // 1000 + 3600)
    assert service.listing.list_tokens(
        "dev", parse_list_query({"filter[tags]": "s2", "filter[status]": "COMPLETED"})
    ).tokens
    assert store.sync_tag_items(completed) == 0  # a replayed record changes nothing
    service.workflows.sync_tag_items(completed)
    assert service.listing.list_tokens("dev", by_tag).tokens[0].status is C


def test_sync_tag_items_ignores_waiting_tokens_and_missing_tag_items(store: DynamoDBStore, meter: Meter) -> None:
    token = make(tags=("never-written",))
    assert store.sync_tag_items(token) == 0 and meter.calls == {}
    final = dataclasses.replace(token, status=C, completed_at=NOW)
    assert store.sync_tag_items(final) == 0  # conditional: no tag item is created
    assert meter.calls == {"UpdateItem": 1}


def test_sync_tag_items_for_a_swept_token(
    service: WaitpointService, store: DynamoDBStore, ddb: Any, clock: list[int], shards: int
) -> None:
    token = make(timeout=NOW - 5, tags=("swept",))
    store.insert_token(token)
    sweep(ddb, token)
    swept = store.get_token(token.id)
    assert swept is not None and store.sync_tag_items(swept) == 1
    (tag_item,) = tag_items(token, shards)
    item = get(ddb, {"pk": tag_item["pk"], "sk": tag_item["sk"]})
    assert item["status"] == {"S": "TIMED_OUT"} and item["completedAt"] == {"N": str(token.timeout_at)}
    assert item["outputIsError"] == {"BOOL": True}


def test_tag_items_carry_no_index_keys() -> None:
    """A tag item is found through its own partition only; in an index it would read as a token."""
    from waitpoints_core.dynamodb.codecs import tag_items
    from waitpoints_core.models import TokenStatus, Waitpoint

    token = Waitpoint(
        id="waitpoint_" + "t" * 25,
        env="dev",
        status=TokenStatus.WAITING,
        created_at=1,
        timeout_at=2,
        expires_at=3,
        tags=["a", "b"],
        idempotency_key="k",
        idempotency_key_expires_at=4,
    )
    index_keys = {"listPk", "listSk", "waitingSk", "completedSk", "timedOutSk", "duePk", "idemPk"}
    for item in tag_items(token):
        assert not index_keys & set(item), item
