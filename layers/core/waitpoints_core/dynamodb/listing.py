"""Listing: the Query-only engine behind the token list (docs/listing.md).

One source per index or tag partition for the most selective filter, merged in list order.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING, Any

from ..aws.errors import aws_errors
from ..listing import KeyRange, ListFilters, list_sort_key
from ..models import TokenStatus, Waitpoint
from . import codecs
from .table import Table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_MAX_FETCH = 1000


class ListingQueries(Table):
    def list_tokens(
        self, env: str, filters: ListFilters, keys: KeyRange, forward: bool, limit: int, now_ms: int
    ) -> list[Waitpoint]:
        """Up to `limit` tokens of `env` matching `filters` inside `keys`, newest first when `forward` (else
        oldest first). Only Query on keys: one source per index or tag partition, merged in list order."""
        if keys.empty:
            return []
        sources, backlog = self._plan(env, filters, keys, forward, now_ms)
        found: dict[str, Waitpoint] = {}

        def remaining() -> int:
            return limit - len(found)

        # Several sources share the page: each first reads its share, then what the page still needs.
        first_limit = max(1, math.ceil(limit / max(len(sources), 1)))
        streams = [self._read(source, keys, forward, first_limit, remaining) for source in sources]
        wanted = _predicate(filters, now_ms)
        merged = (
            streams[0]
            if len(streams) == 1 and not backlog
            else heapq.merge(*streams, iter(backlog), key=_list_position, reverse=forward)
        )
        for token in merged:
            if token.id not in found and wanted(token):
                found[token.id] = token
                if len(found) >= limit:
                    break
        return list(found.values())

    def _plan(
        self, env: str, filters: ListFilters, keys: KeyRange, forward: bool, now_ms: int
    ) -> tuple[list[_Source], list[Waitpoint]]:
        """The sources for the most selective filter: idempotency key > tags > status > time range (the time
        range and the cursor are a key condition on every source). The rest is checked by `_predicate`."""
        statuses = filters.status_subset
        status_filter = _status_filter(statuses, now_ms)
        list_pk = ("listPk", codecs.list_pk(env))
        if filters.idempotency_key is not None:
            idem_pk = ("idemPk", codecs.idempotency_index_pk(env, filters.idempotency_key))
            return [_Source(codecs.IDEMPOTENCY_KEY_INDEX, idem_pk, "listSk", *status_filter)], []
        if filters.tags:
            return [_Source(None, ("pk", codecs.tag_pk(env, tag)), "sk", *status_filter) for tag in filters.tags], []
        if not statuses:
            return [_Source(codecs.ALL_INDEX, list_pk, "listSk")], []
        waiting, timed_out = TokenStatus.WAITING in statuses, TokenStatus.TIMED_OUT in statuses
        sources = []
        if waiting:
            # With TIMED_OUT also wanted, WaitingIndex's overdue tokens are wanted too: no filter, no backlog.
            due_filter: tuple[Any, ...] = () if timed_out else ("timeoutAt > :now", {":now": {"N": str(now_ms)}}, {})
            sources.append(_Source(codecs.WAITING_INDEX, list_pk, "waitingSk", *due_filter))
        ended = statuses & {TokenStatus.COMPLETED, TokenStatus.REJECTED}
        if ended:  # CompletedIndex holds both; with only one wanted, a filter keeps the reads to it
            only = () if len(ended) == 2 else _status_filter(ended, now_ms)
            sources.append(_Source(codecs.COMPLETED_INDEX, list_pk, "completedSk", *only))
        backlog: list[Waitpoint] = []
        if timed_out:
            sources.append(_Source(codecs.TIMED_OUT_INDEX, list_pk, "timedOutSk"))
            if not waiting:
                backlog = self._overdue(env, keys, forward, now_ms)
        return sources, backlog

    def _read(
        self, source: _Source, keys: KeyRange, forward: bool, first_limit: int, remaining: Callable[[], int]
    ) -> Iterator[Waitpoint]:
        """One source, lazily: each Query reads about what the page still needs, scaled by the share of
        items the source's filter let through so far."""
        names = {"#pk": source.key[0], **source.names}
        values = {":pk": {"S": source.key[1]}, **source.values}
        condition = "#pk = :pk"
        if keys.low is not None and keys.high is not None:
            condition += " AND #sk BETWEEN :low AND :high"
        elif keys.low is not None or keys.high is not None:
            condition += " AND #sk >= :low" if keys.low is not None else " AND #sk <= :high"
        if "#sk" in condition:
            names["#sk"] = source.sort
        values.update({k: {"S": v} for k, v in ((":low", keys.low), (":high", keys.high)) if v is not None})
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ScanIndexForward": not forward,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if source.index:
            request["IndexName"] = source.index
        if source.filter:
            request["FilterExpression"] = source.filter
        limit, scanned, kept = first_limit, 0, 0
        while True:
            with aws_errors():
                page = self._ddb.query(**request, Limit=limit)
            scanned, kept = scanned + page["ScannedCount"], kept + page["Count"]
            for item in page["Items"]:
                yield codecs.item_to_token(item)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            need = max(remaining(), 1)
            limit = min(_MAX_FETCH, max(need, math.ceil(need * scanned / max(kept, 1))))

    def _overdue(self, env: str, keys: KeyRange, forward: bool, now_ms: int) -> list[Waitpoint]:
        """WAITING tokens past their timeout (TIMED_OUT as seen now) that the sweep has not rewritten yet.

        Read whole from DueIndex and sorted here: the backlog is bounded by the sweep's lag, not by the table.
        """
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": codecs.DUE_INDEX,
            "KeyConditionExpression": "duePk = :due AND timeoutAt BETWEEN :earliest AND :now",
            "ExpressionAttributeValues": {
                ":due": {"S": codecs.due_pk(env)},
                ":earliest": {"N": str(keys.earliest_ms)},
                ":now": {"N": str(now_ms)},
            },
        }
        found = []
        while True:
            with aws_errors():
                page = self._ddb.query(**request)
            found += [
                token for token in map(codecs.item_to_token, page["Items"]) if keys.contains(_list_position(token))
            ]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(found, key=_list_position, reverse=forward)


class _Source:
    """One Query target: an index (or the table, for tag partitions), its partition, its sort-key attribute,
    and an optional filter that saves transfer (the in-memory predicate stays the authority)."""

    def __init__(
        self,
        index: str | None,
        key: tuple[str, str],
        sort: str,
        filter_expression: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        self.index, self.key, self.sort = index, key, sort
        self.filter, self.values, self.names = filter_expression, values or {}, names or {}


def _status_filter(
    statuses: frozenset[TokenStatus], now_ms: int
) -> tuple[str, dict[str, Any], dict[str, str]] | tuple[()]:
    """A FilterExpression for statuses as seen now (a WAITING token past its timeout is TIMED_OUT)."""
    if not statuses:
        return ()
    clauses = {
        TokenStatus.WAITING: "(#status = :waiting AND timeoutAt > :now)",
        TokenStatus.COMPLETED: "#status = :completed",
        TokenStatus.REJECTED: "#status = :rejected",
        TokenStatus.TIMED_OUT: "(#status = :timedOut OR (#status = :waiting AND timeoutAt <= :now))",
    }
    expression = " OR ".join(clauses[s] for s in TokenStatus if s in statuses)
    candidates = {
        ":waiting": TokenStatus.WAITING,
        ":completed": TokenStatus.COMPLETED,
        ":rejected": TokenStatus.REJECTED,
        ":timedOut": TokenStatus.TIMED_OUT,
    }
    values: dict[str, Any] = {k: {"S": v.value} for k, v in candidates.items() if k in expression}
    if ":now" in expression:
        values[":now"] = {"N": str(now_ms)}
    return expression, values, {"#status": "status"}


def _predicate(filters: ListFilters, now_ms: int) -> Callable[[Waitpoint], bool]:
    statuses, tags = filters.status_subset, set(filters.tags)

    def wanted(token: Waitpoint) -> bool:
        if not token.exists_at(now_ms):
            return False
        if statuses and token.seen_at(now_ms).status not in statuses:
            return False
        return not tags or not tags.isdisjoint(token.tags)

    return wanted


def _list_position(token: Waitpoint) -> str:
    """Where a token sits in list order (its listSk), to merge sources and sort the overdue backlog by."""
    return list_sort_key(token.created_at, token.id)
