"""Listing: the Query-only engine behind the token list (docs/listing.md, docs/scale.md).

One source per index or tag partition (and per shard) for the most selective filter, merged in list order.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..aws.errors import aws_errors
from ..listing import KeyRange, ListFilters, key_above, key_below, list_sort_key
from ..models import TokenStatus, Waitpoint
from . import codecs
from .shards import ShardLayouts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_MAX_FETCH = 1000
_PARALLEL_QUERIES = 16  # botocore clients are thread-safe; the HTTP pool holds 10 connections by default
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor  # noqa: PLW0603 - one pool per container, made on the first sharded page
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=_PARALLEL_QUERIES, thread_name_prefix="list-shard")
    return _executor


class ListingQueries(ShardLayouts):
    def list_tokens(
        self, env: str, filters: ListFilters, keys: KeyRange, forward: bool, limit: int, now_ms: int
    ) -> list[Waitpoint]:
        """Up to `limit` tokens of `env` matching `filters` inside `keys`, newest first when `forward` (else
        oldest first). Only Query on keys: one source per index or tag partition and shard, merged in list order."""
        if keys.empty:
            return []
        shards = self.read_shards(env)
        sources, backlog = self._plan(env, filters, keys, forward, now_ms, shards)
        wanted = _predicate(filters, now_ms)
        if len(sources) == 1 and not backlog:  # one partition: one lazy Query stream, no merge
            found: dict[str, Waitpoint] = {}
            for token in self._read(sources[0], keys, forward, limit, lambda: limit - len(found)):
                if token.id not in found and wanted(token):
                    found[token.id] = token
                    if len(found) >= limit:
                        break
            return list(found.values())
        return _Merge(self, sources, keys, forward, limit, now_ms, wanted, backlog).run()

    def _plan(
        self, env: str, filters: ListFilters, keys: KeyRange, forward: bool, now_ms: int, shards: int
    ) -> tuple[list[_Source], list[Waitpoint]]:
        """The sources for the most selective filter: idempotency key > tags > status > time range (the time
        range and the cursor are a key condition on every source), each in every shard. The rest is checked by
        `_predicate`."""
        statuses = filters.status_subset
        status_filter = _status_filter(statuses, now_ms)
        if filters.idempotency_key is not None:  # a key has a handful of tokens: never sharded
            idem_pk = ("idemPk", codecs.idempotency_index_pk(env, filters.idempotency_key))
            return [_Source(codecs.IDEMPOTENCY_KEY_INDEX, idem_pk, "listSk", *status_filter)], []
        if filters.tags:
            return [
                _Source(None, ("pk", codecs.tag_pk(env, tag, shard)), "sk", *status_filter, group=g)
                for g, tag in enumerate(filters.tags)
                for shard in range(shards)
            ], []
        list_pks = [("listPk", codecs.list_pk(env, shard)) for shard in range(shards)]
        if not statuses:
            return [_Source(codecs.ALL_INDEX, pk, "listSk") for pk in list_pks], []
        waiting, timed_out = TokenStatus.WAITING in statuses, TokenStatus.TIMED_OUT in statuses
        sources = []
        if waiting:
            # With TIMED_OUT also wanted, WaitingIndex's overdue tokens are wanted too: no filter, no backlog.
            due_filter: tuple[Any, ...] = () if timed_out else ("timeoutAt > :now", {":now": {"N": str(now_ms)}}, {})
            sources += [_Source(codecs.WAITING_INDEX, pk, "waitingSk", *due_filter, group=0) for pk in list_pks]
        ended = statuses & {TokenStatus.COMPLETED, TokenStatus.REJECTED}
        if ended:  # CompletedIndex holds both; with only one wanted, a filter keeps the reads to it
            only = () if len(ended) == 2 else _status_filter(ended, now_ms)
            sources += [_Source(codecs.COMPLETED_INDEX, pk, "completedSk", *only, group=1) for pk in list_pks]
        backlog: list[Waitpoint] = []
        if timed_out:
            sources += [_Source(codecs.TIMED_OUT_INDEX, pk, "timedOutSk", group=2) for pk in list_pks]
            if not waiting:
                backlog = self._overdue(env, keys, forward, now_ms, shards)
        return sources, backlog

    def _request(self, source: _Source, low: str | None, high: str | None, forward: bool) -> dict[str, Any]:
        """The Query for `source` between the inclusive list-key bounds `low` and `high` (None: open)."""
        names = {"#pk": source.key[0], **source.names}
        values = {":pk": {"S": source.key[1]}, **source.values}
        condition = "#pk = :pk"
        if low is not None and high is not None:
            condition += " AND #sk BETWEEN :low AND :high"
        elif low is not None or high is not None:
            condition += " AND #sk >= :low" if low is not None else " AND #sk <= :high"
        if "#sk" in condition:
            names["#sk"] = source.sort
        values.update({k: {"S": v} for k, v in ((":low", low), (":high", high)) if v is not None})
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
        return request

    def _query(self, request: dict[str, Any], limit: int) -> dict[str, Any]:
        with aws_errors():
            page: dict[str, Any] = self._ddb.query(**request, Limit=limit)
        return page

    def _query_parallel(self, requests: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
        """Several Queries at once (a round of a sharded merge costs one round trip, not one per shard)."""
        if len(requests) <= 1:
            return [self._query(request, limit) for request in requests]
        return list(_pool().map(lambda request: self._query(request, limit), requests))

    def _read(
        self, source: _Source, keys: KeyRange, forward: bool, first_limit: int, remaining: Callable[[], int]
    ) -> Iterator[Waitpoint]:
        """One source, lazily: each Query reads about what the page still needs, scaled by the share of
        items the source's filter let through so far."""
        request = self._request(source, keys.low, keys.high, forward)
        limit, scanned, kept = first_limit, 0, 0
        while True:
            page = self._query(request, limit)
            scanned, kept = scanned + page["ScannedCount"], kept + page["Count"]
            for item in page["Items"]:
                yield codecs.item_to_token(item)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            need = max(remaining(), 1)
            limit = min(_MAX_FETCH, max(need, math.ceil(need * scanned / max(kept, 1))))

    def _overdue(self, env: str, keys: KeyRange, forward: bool, now_ms: int, shards: int) -> list[Waitpoint]:
        """WAITING tokens past their timeout (TIMED_OUT as seen now) that the sweep has not rewritten yet.

        Read whole from every DueIndex shard and sorted here: the backlog is bounded by the sweep's lag, not by
        the table.
        """
        found = []
        for shard in range(shards):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": codecs.DUE_INDEX,
                "KeyConditionExpression": "duePk = :due AND timeoutAt BETWEEN :earliest AND :now",
                "ExpressionAttributeValues": {
                    ":due": {"S": codecs.due_pk(env, shard)},
                    ":earliest": {"N": str(keys.earliest_ms)},
                    ":now": {"N": str(now_ms)},
                },
            }
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


class _Stream:
    """One source's read position in a merge. Everything on the near side of `bound` (newer than it for a forward
    page, older for a backward one) has been read; `bound` itself is an inclusive list-key bound of what is not."""

    def __init__(self, source: _Source, bound: str | None) -> None:
        self.source, self.bound, self.done = source, bound, False
        self.start = bound
        self.kept = 0  # wanted items read


class _Merge:
    """A page from many sources (shards x statuses or tags) in list order, reading about what the page returns.

    Each source is one partition, sorted by the list key. A page merges them, but every source must be read as far
    as the page reaches, or an item could be missing from the merge. Reading each source's share (⌈n/S⌉ items) costs
    at least S items, far more than n when S (the shards) exceeds n. So the merge reads by time window instead:
    a first Query on one shard per kind of source estimates how many matching items a millisecond holds; then each
    round asks every source for the items of one window (the key condition bounds it, so an empty shard costs a
    request but reads nothing), sized to hold about what the page still needs. After each round the items up to
    the slowest source's position are final and are emitted in order; the loop ends when the page is full or
    every source is read to the range's end. Items read ≈ what the page returns; requests ≈ S per round, 2 to 4
    rounds.
    """

    def __init__(
        self,
        queries: ListingQueries,
        sources: list[_Source],
        keys: KeyRange,
        forward: bool,
        limit: int,
        now_ms: int,
        wanted: Callable[[Waitpoint], bool],
        backlog: list[Waitpoint],
    ) -> None:
        self.queries, self.keys, self.forward, self.limit, self.now = queries, keys, forward, limit, now_ms
        self.wanted = wanted
        self.streams = [_Stream(s, keys.high if forward else keys.low) for s in sources]
        self.pending = [(_list_position(t), t) for t in backlog]
        self.found: dict[str, Waitpoint] = {}
        self.rounds = 0
        self.top = now_ms  # where an open-ended forward range starts (raised to the newest item a probe saw)

    # Positions along the page's direction as milliseconds; `_ahead(a, b)`: a comes before b in the page.
    def _ms(self, bound: str | None) -> float:
        if bound is None:
            return float(self.top) if self.forward else 0.0
        return float(int(bound[:13])) if bound[:13].isdigit() else (0.0 if bound < "0" else float(self.now))

    def run(self) -> list[Waitpoint]:
        groups: dict[int, _Stream] = {}
        for stream in self.streams:
            groups.setdefault(stream.source.group, stream)
        probe_limit = max(2, math.ceil(self.limit / len(self.streams)) + 1)
        self._round(list(groups.values()), None, probe_limit)
        if self.pending:  # another container's clock may run ahead of ours
            self.top = max(self.top, *(int(position[:13]) for position, _ in self.pending))
        while len(self.found) < self.limit and not all(s.done for s in self.streams):
            need = self.limit - len(self.found)
            live = [s for s in self.streams if not s.done]
            frontier = self._frontier()
            kept = sum(s.kept for s in self.streams)
            covered = sum(self._covered(s) for s in self.streams)
            rate = len(self.streams) * max(kept, 1) / max(covered, 1.0)  # wanted items per ms, all sources
            share = 1.0 if kept >= 16 else 0.8 if kept >= 8 else 0.5  # a thin estimate asks for less
            # Past a few rounds the window doubles each round: a sparse range ends in a few more requests.
            width = max(1.0, share * need / rate) * 2 ** max(0, self.rounds - 4)
            edge = self._ms(frontier) - width if self.forward else self._ms(frontier) + width
            per_source = max(2, math.ceil(2 * need / len(live)) + 1)
            self._round(live, int(edge), per_source)
        return list(self.found.values())[: self.limit]

    def _covered(self, stream: _Stream) -> float:
        """How many ms of the range `stream` has read: all of it once done, else from its start to its bound."""
        if stream.done:
            high = self._ms(self.keys.high) if self.keys.high is not None else float(self.now)
            low = self._ms(self.keys.low) if self.keys.low is not None else 0.0
            return max(high - low, 1.0)
        return abs(self._ms(stream.start) - self._ms(stream.bound)) if stream.bound != stream.start else 0.0

    def _frontier(self) -> str | None:
        live = [s.bound for s in self.streams if not s.done]
        if not live:
            return None
        if any(b is None for b in live):
            return None
        return max(live) if self.forward else min(live)  # type: ignore[type-var]

    def _round(self, streams: list[_Stream], edge: int | None, limit: int) -> None:
        """Read each stream up to the window's far edge (ms; None: to the range's end), at most `limit` items."""
        self.rounds += 1
        keys, forward = self.keys, self.forward
        far: str | None = None
        if edge is not None and (0 < edge if forward else edge < 10**13 - 1):
            far = f"{edge:013d}#" if forward else f"{edge:013d}#~"
        jobs = []
        for stream in streams:
            if forward:
                low = keys.low if far is None or (keys.low is not None and keys.low >= far) else far
                high = stream.bound
                if low is not None and high is not None and low > high:
                    continue  # already read past this window
            else:
                high = keys.high if far is None or (keys.high is not None and keys.high <= far) else far
                low = stream.bound
                if low is not None and high is not None and low > high:
                    continue
            to_end = (low == keys.low) if forward else (high == keys.high)
            jobs.append((stream, self.queries._request(stream.source, low, high, forward), to_end))
        pages = self.queries._query_parallel([request for _, request, _ in jobs], limit)
        for (stream, _, to_end), page in zip(jobs, pages, strict=True):
            for item in page["Items"]:
                token = codecs.item_to_token(item)
                if self.wanted(token):
                    stream.kept += 1
                    self.pending.append((_list_position(token), token))
            last = page.get("LastEvaluatedKey")
            if last is not None:
                position = last[stream.source.sort]["S"]
                stream.bound = key_below(position) if forward else key_above(position)
            elif to_end:
                stream.done = True
            else:
                assert edge is not None
                stream.bound = f"{edge - 1:013d}#~" if forward else f"{edge + 1:013d}#"
        self._emit()

    def _emit(self) -> None:
        """Move the pending items no unread item can precede into the page, in list order."""
        frontier = self._frontier()
        if frontier is None and not all(s.done for s in self.streams):
            return
        self.pending.sort(key=lambda pair: pair[0], reverse=self.forward)
        cut = 0
        for position, token in self.pending:
            if frontier is not None and (position <= frontier if self.forward else position >= frontier):
                break
            cut += 1
            if token.id not in self.found:
                self.found[token.id] = token
                if len(self.found) >= self.limit:
                    break
        del self.pending[:cut]


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
        *,
        group: int = 0,
    ) -> None:
        self.index, self.key, self.sort, self.group = index, key, sort, group
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
