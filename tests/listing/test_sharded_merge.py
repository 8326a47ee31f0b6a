"""The sharded merge against an in-memory reference ordering: hypothesis draws lists of tokens (clustered and tied
creation times, every status, overlapping tags), loads them with the real codecs into `bench.memtable` (the
adapter's own Query requests, answered in memory), and walks every filter forwards, then back, with N = 1 and 7."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from waitpoints_core import TokenStatus, Waitpoint
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.dynamodb.codecs import tag_items, token_to_item
from waitpoints_core.keyring import KeyRing
from waitpoints_core.services import listing as service_listing
from waitpoints_core.services.listing import ListingService
from waitpoints_http.list_query import parse_list_query

from bench.memtable import MemTable

from .conftest import KEYS, SHARD_COUNTS
from .test_store import MINUTE, NOW

TAGS = ("red", "green", "blue")
FILTERS = [
    {},
    {"filter[status]": "WAITING"},
    {"filter[status]": "COMPLETED"},
    {"filter[status]": "TIMED_OUT"},
    {"filter[status]": "REJECTED"},
    {"filter[status]": "WAITING,TIMED_OUT"},
    {"filter[status]": "COMPLETED,REJECTED"},
    {"filter[tags]": "red"},
    {"filter[tags]": "red,blue"},
    {"filter[idempotencyKey]": "k0"},
    {"filter[createdAt][period]": "2h"},
    {"filter[createdAt][from]": str(NOW - 200 * MINUTE), "filter[createdAt][to]": str(NOW - 50 * MINUTE)},
    {"filter[status]": "WAITING", "filter[tags]": "green"},
]

spec = st.tuples(
    st.one_of(st.integers(1, 400), st.sampled_from([5, 6, 7])),  # minutes ago; a few shared (ties broken by id)
    st.sampled_from(["W", "C", "T", "O", "R"]),  # waiting, completed, swept timed out, overdue (lazy), rejected
    st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
    st.sampled_from([None, "k0", "k1"]),
)


def build(specs: list[tuple[int, str, list[str], str | None]], shards: int) -> tuple[MemTable, list[Waitpoint]]:
    table, seen = MemTable(), []
    for i, (ago, kind, tags, key) in enumerate(specs):
        created = NOW - ago * MINUTE
        token = Waitpoint(
            id=f"waitpoint_{i:025d}",
            env="dev",
            status=TokenStatus.WAITING,
            created_at=created,
            timeout_at=NOW - 1000 if kind in "TO" else NOW + 30 * MINUTE,
            expires_at=NOW // 1000 + 86_400,
            tags=tags,
            idempotency_key=key,
            idempotency_key_expires_at=created + MINUTE if key else None,
        )
        final = {"W": TokenStatus.WAITING, "O": TokenStatus.WAITING, "C": TokenStatus.COMPLETED}.get(kind)
        status = final or (TokenStatus.TIMED_OUT if kind == "T" else TokenStatus.REJECTED)
        token = dataclasses.replace(
            token,
            status=status,
            completed_at=None if status is TokenStatus.WAITING else NOW - 2000,
            output_is_error=status in (TokenStatus.TIMED_OUT, TokenStatus.REJECTED),
        )
        table.put(token_to_item(token, shards))
        for item in tag_items(token, shards):
            table.put(item)
        seen.append(token.seen_at(NOW))
    return table, seen


def reference(tokens: list[Waitpoint], params: dict[str, str]) -> list[str]:
    filters = parse_list_query(params).filters
    low, high = filters.window(NOW)
    return [
        t.id
        for t in sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)
        if (not filters.status_subset or t.status in filters.status_subset)
        and (not filters.tags or set(filters.tags) & set(t.tags))
        and (filters.idempotency_key is None or t.idempotency_key == filters.idempotency_key)
        and (low is None or t.created_at >= low)
        and (high is None or t.created_at <= high)
    ]


@pytest.mark.parametrize("shards", SHARD_COUNTS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(spec, max_size=60), size=st.sampled_from([1, 2, 5, 25]))
def test_every_filter_walks_in_reference_order_forwards_and_back(
    monkeypatch: pytest.MonkeyPatch, shards: int, specs: list[tuple[int, str, list[str], str | None]], size: int
) -> None:
    monkeypatch.setattr(service_listing, "now_ms", lambda: NOW)
    table, tokens = build(specs, shards)
    store = DynamoDBStore(table, "memory")
    store._layouts, store.layout_cache_seconds = {"dev": (shards, shards)}, float("inf")
    service = ListingService(store, KeyRing(lambda: KEYS))
    for params in FILTERS:
        expected = reference(tokens, params)
        pages, after = [], None
        while True:
            query = {**params, "page[size]": str(size), **({"page[after]": after} if after else {})}
            pages.append(service.list_tokens("dev", parse_list_query(query)))
            after = pages[-1].next
            if after is None:
                break
        assert [t.id for page in pages for t in page.tokens] == expected, params
        # and back from the last page, with page[before]
        back, before = [], pages[-1].previous
        while before is not None:
            query = {**params, "page[size]": str(size), "page[before]": before}
            page = service.list_tokens("dev", parse_list_query(query))
            back = [t.id for t in page.tokens] + back
            before = page.previous
        assert back + [t.id for t in pages[-1].tokens] == expected, params
        assert set(table.consumed.by_operation) <= {"Query"}
