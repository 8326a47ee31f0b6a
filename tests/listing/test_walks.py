"""Every filter walked page by page, forwards and backwards, against a model computed in Python: newest first,
each match exactly once, only Query. One dataset on in-process moto for the whole module (read only)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from waitpoints_core import InvalidInput, TokenPage, TokenStatus, Waitpoint, WaitpointService
from waitpoints_core.bodies import output_from_value
from waitpoints_core.models import rejection_error
from waitpoints_http.list_query import parse_list_query

from .conftest import SHARD_COUNTS, Meter, freeze_clock, make_service, moto_table
from .test_store import MINUTE, NOW, make, sweep

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class World:
    service: WaitpointService
    meter: Meter
    tokens: list[Waitpoint]  # as seen at NOW


@pytest.fixture(scope="module", params=SHARD_COUNTS, ids=lambda n: f"shards={n}")
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch, moto_table(patch) as ddb:
        freeze_clock(patch, lambda: NOW)
        service = make_service(ddb, request.param)
        store = service.store
        rng = random.Random(7)
        specs = []
        for i in range(36):
            env = "dev" if i < 30 else "prod"
            created = NOW - rng.randint(1, 600) * MINUTE if i % 7 else NOW - 10 * MINUTE  # some share one ms
            kind = i % 6  # 0, 1: waiting; 2: completed; 3: overdue (lazily TIMED_OUT); 4: swept TIMED_OUT; 5: rejected
            timeout = NOW - rng.randint(1, 5) * 1000 if kind in (3, 4) else NOW + 30 * MINUTE
            tags = tuple(rng.sample(["red", "green", "blue", "x,y"], rng.randint(0, 2)))
            specs.append((created, kind, make(env, created, timeout, tags, key=f"key-{i % 3}" if i % 2 == 0 else None)))
        seen: list[Waitpoint] = []
        for _, kind, token in sorted(specs, key=lambda spec: spec[0]):  # created in time order, as in life
            env = token.env
            if store.insert_token(token) != token.id:
                continue  # the key was live: nothing written (keys are shared by tokens whose keys expired)
            if kind == 2:
                store.complete_token(token.id, env, None, NOW - 1, NOW // 1000 + 86_400)
            if kind == 4:
                sweep(ddb, token)
            if kind == 5:
                store.reject_token(
                    token.id, env, output_from_value(rejection_error("no")), NOW - 1, NOW // 1000 + 86_400
                )
            final = store.get_token(token.id)
            assert final is not None
            service.workflows.sync_tag_items(final)  # what the stream consumer does
            seen.append(final.seen_at(NOW))
        yield World(service, Meter(ddb), seen)


def model(world: World, env: str, params: dict[str, str]) -> list[str]:
    filters = parse_list_query(params).filters
    low, high = filters.window(NOW)
    wanted = [
        t
        for t in world.tokens
        if t.env == env
        and (not filters.status_subset or t.status in filters.status_subset)
        and (not filters.tags or set(filters.tags) & set(t.tags))
        and (filters.idempotency_key is None or t.idempotency_key == filters.idempotency_key)
        and (low is None or t.created_at >= low)
        and (high is None or t.created_at <= high)
    ]
    return [t.id for t in sorted(wanted, key=lambda t: (t.created_at, t.id), reverse=True)]


def walk(service: WaitpointService, env: str, params: dict[str, str], size: int) -> list[TokenPage]:
    pages, after = [], None
    for _ in range(1000):
        query = {**params, "page[size]": str(size), **({"page[after]": after} if after else {})}
        pages.append(service.listing.list_tokens(env, parse_list_query(query)))
        after = pages[-1].next
        if after is None:
            return pages
    raise AssertionError("the walk does not end")


FILTERS = [
    {},
    {"filter[status]": "WAITING"},
    {"filter[status]": "COMPLETED"},
    {"filter[status]": "TIMED_OUT"},
    {"filter[status]": "WAITING,COMPLETED"},
    {"filter[status]": "WAITING,TIMED_OUT"},
    {"filter[status]": "COMPLETED,TIMED_OUT"},
    {"filter[status]": "TIMED_OUT,COMPLETED,WAITING"},
    {"filter[status]": "REJECTED"},
    {"filter[status]": "COMPLETED,REJECTED"},
    {"filter[tags]": "red"},
    {"filter[tags]": "red,blue"},
    {"filter[tags]": "x"},
    {"filter[tags]": "nothing"},
    {"filter[idempotencyKey]": "key-0"},
    {"filter[idempotencyKey]": "key-1", "filter[status]": "WAITING"},
    {"filter[idempotencyKey]": "key-2", "filter[tags]": "green"},
    {"filter[createdAt][period]": "3h"},
    {"filter[createdAt][from]": str(NOW - 300 * MINUTE), "filter[createdAt][to]": str(NOW - 100 * MINUTE)},
    {"filter[createdAt][from]": str(NOW - 10 * MINUTE), "filter[createdAt][to]": str(NOW - 10 * MINUTE)},
    {"filter[status]": "TIMED_OUT", "filter[createdAt][period]": "5h"},
    {"filter[status]": "WAITING", "filter[tags]": "green,blue"},
    {"filter[status]": "TIMED_OUT", "filter[tags]": "red"},
    {"filter[tags]": "green", "filter[createdAt][period]": "4h"},
    {"filter[createdAt][from]": str(NOW), "filter[createdAt][to]": str(NOW - 1)},
]
SIZES = [(p, s) for p in FILTERS for s in (3, 100)] + [(p, 1) for p in FILTERS[:4] + FILTERS[8:10] + FILTERS[12:13]]


def name(params: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "none"


def test_the_dataset_has_every_status_and_shared_tags(world: World) -> None:
    assert {t.status for t in world.tokens} == set(TokenStatus)
    assert len(model(world, "dev", {"filter[tags]": "red"})) >= 5
    assert len(model(world, "dev", {"filter[idempotencyKey]": "key-0"})) >= 2
    assert len({t.created_at for t in world.tokens}) < len(world.tokens)  # ties broken by id


@pytest.mark.parametrize(("params", "size"), SIZES, ids=[f"{s}-{name(p)}" for p, s in SIZES])
def test_walking_next_visits_every_match_once_newest_first_with_queries_only(
    world: World, params: dict[str, str], size: int
) -> None:
    world.meter.calls.clear()
    pages = walk(world.service, "dev", params, size)
    assert [t.id for page in pages for t in page.tokens] == model(world, "dev", params)
    assert set(world.meter.calls) <= {"Query"}
    assert all(len(p.tokens) == size for p in pages[:-1]) and len(pages[-1].tokens) <= size
    assert pages[0].previous is None and all(p.previous for p in pages[1:])
    statuses = {t.id: t.status for t in world.tokens}
    assert all(t.status == statuses[t.id] for page in pages for t in page.tokens)


@pytest.mark.parametrize("params", FILTERS[:16], ids=name)
def test_walking_previous_from_the_last_page_gives_the_same_pages(world: World, params: dict[str, str]) -> None:
    forward = walk(world.service, "dev", params, 4)
    backward = [forward[-1]]
    while backward[-1].previous:
        query = {**params, "page[size]": "4", "page[before]": backward[-1].previous}
        backward.append(world.service.listing.list_tokens("dev", parse_list_query(query)))
    assert [[t.id for t in p.tokens] for p in reversed(backward)] == [[t.id for t in p.tokens] for p in forward]
    for earlier, later in itertools.pairwise(reversed(backward)):  # pages reached backwards link forwards again
        query = {**params, "page[size]": "4", "page[after]": earlier.next or ""}
        assert [t.id for t in world.service.listing.list_tokens("dev", parse_list_query(query)).tokens] == [
            t.id for t in later.tokens
        ]


def test_other_environments_see_only_their_own(world: World) -> None:
    assert [t.id for page in walk(world.service, "prod", {}, 100) for t in page.tokens] == model(world, "prod", {})
    assert walk(world.service, "staging", {}, 100)[0].tokens == []
    dev = walk(world.service, "dev", {}, 5)[0]
    with pytest.raises(InvalidInput, match=r"^page\[after\]: this cursor was made for other filters or another env"):
        world.service.listing.list_tokens("prod", parse_list_query({"page[size]": "5", "page[after]": dev.next or ""}))


def test_a_cursor_only_works_with_its_filters(world: World) -> None:
    service = world.service
    page = service.listing.list_tokens("dev", parse_list_query({"filter[tags]": "red", "page[size]": "2"}))
    for other in ({"filter[tags]": "blue"}, {}, {"filter[tags]": "red", "filter[status]": "WAITING"}):
        with pytest.raises(InvalidInput, match=r"^page\[after\]: "):
            service.listing.list_tokens(
                "dev", parse_list_query({**other, "page[size]": "2", "page[after]": page.next or ""})
            )
    resized = {"filter[tags]": "red", "page[size]": "7", "page[after]": page.next or ""}  # the size may change
    assert [t.id for t in service.listing.list_tokens("dev", parse_list_query(resized)).tokens] == model(
        world, "dev", {"filter[tags]": "red"}
    )[2:9]


def test_before_wins_over_after(world: World) -> None:
    service = world.service
    first = service.listing.list_tokens("dev", parse_list_query({"page[size]": "3"}))
    second = service.listing.list_tokens("dev", parse_list_query({"page[size]": "3", "page[after]": first.next or ""}))
    both = service.listing.list_tokens(
        "dev",
        parse_list_query({"page[size]": "3", "page[after]": second.next or "", "page[before]": second.previous or ""}),
    )
    assert [t.id for t in both.tokens] == [t.id for t in first.tokens]
