"""Fixes to moto's DynamoDB for one server shared by concurrent Lambda containers (the local stack).

Transactions:

moto's TransactWriteItems deep-copies every table it touches before each transaction and rolls back by putting
the copies back; moto itself takes no lock, and its server serves each request on a thread. So concurrent
creates (a transaction whenever a token has tags or an idempotency key) could be cancelled at random
("dictionary changed size during iteration" while copying), a rolled-back transaction could erase what other
requests wrote meanwhile, and every create copied the whole table.

Here every DynamoDB request runs under one lock (DynamoDB serializes transactions too), and a transaction
saves, and on failure restores, only the items it touches and the stream records it added.

Speed: on every Query moto sorts the whole table, then the index partition, comparing DynamoType objects (a
Python-level cast per comparison), which makes a list request cost about 100 ms on a table of a few thousand
items. Both sorts are replaced by the same order on plain values, cast once per item (bench/list_bench.py
checks that the orders are equal).

Step Functions: moto's SendTaskFailure drops the request's `cause` before it reaches the executor (which takes
one), so a Catch saw `Cause: null`; the fix passes it on when the backend accepts it.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.dynamodb import models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

_LOCK = threading.RLock()
_installed = False


class _KeepTables:
    """Stands in for the `copy` module inside moto's transaction: tables are not copied (we roll back by key)."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
    saved = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            key = op["Item"] if op_type == "Put" else op.get("Key", {})
            try:
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                current = table.get_item(hash_key, range_key)
            except Exception:
                continue
            saved.append((table, hash_key, range_key, copy.deepcopy(current)))
    return saved


def _restore(saved: list[tuple[Table, Any, Any, Any]], streams: dict[int, tuple[Table, int]]) -> None:
    for table, hash_key, range_key, item in reversed(saved):
        if table.range_key_attr:
            if item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    for table, length in streams.values():
        if table.stream_shard is not None:
            del table.stream_shard.items[length:]


def plain(value: DynamoType | None) -> tuple[int, Any]:
    """A DynamoType's sort order as a plain Python value (numbers compare as numbers)."""
    if value is None:
        return (0, "")
    return (1, value.cast_value if value.type == "N" else value.value)


def sorted_items(self: Table, hash_attrs: list[str], range_attrs: list[str | None], items: list[Item]) -> list[Item]:
    attrs = self._generate_attr_to_sort_by(hash_attrs, range_attrs)
    items.sort(key=lambda item: tuple(plain(item.attrs.get(a)) for a in attrs))
    return items


def all_items(self: Table) -> list[Item]:
    groups: list[Any] = list(self.items.values())  # {range key: item} per hash key, or the items themselves
    items: list[Item] = [i for g in groups for i in g.values()] if self.range_key_attr else groups
    return sorted(items, key=lambda item: (plain(item.hash_key), plain(item.range_key)))


def install() -> None:
    global _installed  # noqa: PLW0603 - patches moto once per process
    if _installed:
        return
    _installed = True
    call_action = DynamoHandler.call_action
    transact_write_items = DynamoDBBackend.transact_write_items

    def locked_call_action(self: DynamoHandler) -> Any:
        with _LOCK:
            return call_action(self)

    def transact_by_key(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            saved = _touched(self, transact_items)
            streams = {id(t): (t, len(t.stream_shard.items)) for t, *_ in saved if t.stream_shard is not None}
            ddb_models.copy = _KeepTables  # type: ignore[attr-defined, assignment]
            try:
                transact_write_items(self, transact_items)
            except Exception:
                _restore(saved, streams)
                raise
            finally:
                ddb_models.copy = copy  # type: ignore[attr-defined]

    _fix_send_task_failure()
    Table.sorted_items = sorted_items  # type: ignore[method-assign, assignment]
    Table.all_items = all_items  # type: ignore[method-assign]
    DynamoHandler.call_action = locked_call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_by_key  # type: ignore[method-assign]


def _fix_send_task_failure() -> None:
    import inspect

    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: StepFunctionResponse) -> Any:
        backend = self.stepfunction_backend
        kwargs = {"error": self._get_param("error")}
        if "cause" in inspect.signature(backend.send_task_failure).parameters:
            kwargs["cause"] = self._get_param("cause")
        backend.send_task_failure(self._get_param("taskToken"), **kwargs)
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]
