"""The local stack's fixes to moto: concurrent transactions all apply, and a cancelled one leaves nothing behind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.dynamodb.codecs import tag_items
from waitpoints_local import moto_fixes

from tests.listing.conftest import TABLE, moto_table
from tests.listing.test_store import NOW, make

if TYPE_CHECKING:
    import pytest


def test_concurrent_transactions_apply_and_a_cancelled_one_rolls_back_only_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_fixes.install()
    with moto_table(monkeypatch) as ddb:
        store = DynamoDBStore(ddb, TABLE)
        tokens = [make(tags=("a", f"t{i}"), key=f"k{i}") for i in range(48)]
        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(store.insert_token, tokens)) == [t.id for t in tokens]
        assert all(store.get_token(t.id) for t in tokens)
        stream = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        assert stream

        first, second = make(key="same", tags=("c",)), make(created=NOW - 59_999, key="same", tags=("d",))
        assert store.insert_token(first) == first.id
        assert store.insert_token(second) == first.id  # the key is live: the transaction is cancelled
        assert store.get_token(second.id) is None
        (tag_item,) = tag_items(second)
        assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": tag_item["pk"], "sk": tag_item["sk"]})
        assert all(store.get_token(t.id) for t in (*tokens, first))


def test_plain_value_sorts_keep_moto_order() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    values = [DynamoType({"N": n}) for n in ("10", "9", "-1", "2.5")] + [DynamoType({"S": s}) for s in ("b", "a", "B")]
    numbers, strings = values[:4], values[4:]
    assert sorted(numbers, key=moto_fixes.plain) == sorted(numbers)
    assert sorted(strings, key=moto_fixes.plain) == sorted(strings)
