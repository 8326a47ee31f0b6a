"""Raising an environment's shards without downtime (waitpoints_admin.shards): readers first, then writers; no
token moves, every token written before, during and after stays listed once, in order, with working cursors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from waitpoints_admin import api_keys
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.dynamodb.codecs import DEFAULT_SHARDS, MAX_SHARDS, shard_of
from waitpoints_core.services.auth import mint_api_key
from waitpoints_http.list_query import parse_list_query

from .conftest import TABLE, make_service, sharded_store
from .test_store import MINUTE, NOW, make

if TYPE_CHECKING:
    from waitpoints_core import WaitpointService


def walk(service: WaitpointService, size: int = 4) -> list[str]:
    ids, after = [], None
    while True:
        query = {"page[size]": str(size), **({"page[after]": after} if after else {})}
        page = service.listing.list_tokens("dev", parse_list_query(query))
        ids += [t.id for t in page.tokens]
        after = page.next
        if after is None:
            return ids


def test_raising_shards_keeps_every_token_listed_through_both_steps(ddb: Any) -> None:
    old = make_service(ddb, 1)  # an environment from before sharding: N = 1, keys as they always were
    written = []

    def write(service: WaitpointService, minute: int) -> None:
        token = make(created=NOW - minute * MINUTE)
        service.store.insert_token(token)
        written.append(token)

    for minute in range(40, 30, -1):
        write(old, minute)
    cursor_before = old.listing.list_tokens("dev", parse_list_query({"page[size]": "3"})).next
    store = sharded_store(ddb, 1)
    store.set_shard_layout("dev", 1, 7)  # step 1: readers query 7 shards, writers still write to 1
    step1 = make_service(ddb, 1)
    for minute in range(30, 20, -1):
        write(step1, minute)
    store.set_shard_layout("dev", 7, 7)  # step 2: writers spread over 7
    step2 = make_service(ddb, 1)
    assert step2.store.shard_layout("dev") == (7, 7)
    for minute in range(20, 0, -1):
        write(step2, minute)
    assert len({shard_of(t.id, 7) for t in written[20:]}) > 1  # the new tokens did spread
    expected = [t.id for t in sorted(written, key=lambda t: (t.created_at, t.id), reverse=True)]
    assert walk(step1) == expected  # a reader that saw step 1 sees tokens of step 2 (read count 7 already)
    assert walk(step2) == expected
    # a cursor issued before the change still works after it
    page = step2.listing.list_tokens("dev", parse_list_query({"page[size]": "3", "page[after]": cursor_before or ""}))
    first_ten = [t.id for t in sorted(written[:10], key=lambda t: (t.created_at, t.id), reverse=True)]
    assert [t.id for t in page.tokens] == first_ten[3:6]


def test_shards_never_go_down_and_readers_never_lag_writers(ddb: Any) -> None:
    store = sharded_store(ddb, 7)
    with pytest.raises(ValueError, match="write"):
        store.set_shard_layout("dev", 8, 7)  # writers ahead of readers
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        store.set_shard_layout("dev", 3, 3)  # lowering: a token in shard 5 would vanish
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        store.set_shard_layout("nowhere", 1, 1)  # not an environment


def test_new_environments_take_the_tables_default_then_the_codes(ddb: Any) -> None:
    store = DynamoDBStore(ddb, TABLE)
    mint_api_key(store, "before")  # nothing recorded for the table: the default for AWS
    store.set_new_environment_shards(5)  # what the local stack does at start
    mint_api_key(store, "after")
    store.default_shards = 2  # `make key ENV=pinned SHARDS=2`
    mint_api_key(store, "pinned")
    layouts = store.read_shard_layouts()
    assert (layouts["before"], layouts["after"], layouts["pinned"]) == ((DEFAULT_SHARDS,) * 2, (5, 5), (2, 2))
    mint_api_key(store, "after")  # a second key keeps the environment's layout
    assert store.read_shard_layouts()["after"] == (5, 5)
    for wrong in (0, MAX_SHARDS + 1):
        with pytest.raises(ValueError, match="shards"):
            store.set_new_environment_shards(wrong)


@pytest.mark.parametrize("text", ["0", "-1", "x", str(MAX_SHARDS + 1)])
def test_make_key_refuses_a_shard_count_out_of_range(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        api_keys.main(["--env", "x", "--shards", text])
    assert exited.value.code == 2 and f"a whole number from 1 to {MAX_SHARDS}" in capsys.readouterr().err
