"""GET /api/v1/waitpoints/tokens over real HTTP: every filter, every 400, walks forward and back, isolation.

The stack is shared by the whole session, so each test looks only at tokens it can tell apart: its own tags or
idempotency keys, or a fresh environment of its own (minted through the emulated AWS; skipped on a deployed stack).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.services.auth import mint_api_key

from .helpers import TOKENS, complete, create, error_of, no_nulls, parse_iso

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from .conftest import Stack

POOL = 8


def create_many(api: httpx.Client, count: int, **body: Any) -> list[str]:
    with ThreadPoolExecutor(POOL) as pool:
        return list(pool.map(lambda _: create(api, **body)["id"], range(count)))


def complete_all(api: httpx.Client, ids: list[str]) -> None:
    with ThreadPoolExecutor(POOL) as pool:
        assert set(pool.map(lambda i: complete(api, i, {"data": {"done": i}}).status_code, ids)) <= {200}


def page(api: httpx.Client, **params: Any) -> dict[str, Any]:
    response = api.get(TOKENS, params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "pagination"} and set(body["pagination"]) <= {"next", "previous"}
    assert no_nulls(body)
    return dict(body)


def walk(api: httpx.Client, params: dict[str, str], size: int) -> list[dict[str, Any]]:
    """Follow `next` from the first page; check the newest-first order and the `previous` links on the way."""
    pages = [page(api, **params, **{"page[size]": size})]
    while "next" in pages[-1]["pagination"]:
        pages.append(page(api, **params, **{"page[size]": size, "page[after]": pages[-1]["pagination"]["next"]}))
        assert "previous" in pages[-1]["pagination"]
    assert "previous" not in pages[0]["pagination"]
    assert all(len(p["data"]) == size for p in pages[:-1])
    items = [t for p in pages for t in p["data"]]
    created = [parse_iso(t["createdAt"]) for t in items]
    assert created == sorted(created, reverse=True)
    return pages


def ids(pages: list[dict[str, Any]]) -> list[str]:
    return [t["id"] for p in pages for t in p["data"]]


def walk_back(api: httpx.Client, params: dict[str, str], size: int, last: dict[str, Any]) -> list[dict[str, Any]]:
    pages = [last]
    while "previous" in pages[-1]["pagination"]:
        pages.append(page(api, **params, **{"page[size]": size, "page[before]": pages[-1]["pagination"]["previous"]}))
        assert "next" in pages[-1]["pagination"]
    return pages[::-1]


def mint(stack: Stack, prefix: str) -> httpx.Client:
    if stack.aws_endpoint is None or stack.table_name is None:
        pytest.skip("needs the local stack's emulated AWS to mint a key for a fresh environment")
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return stack.client(mint_api_key(DynamoDBStore(ddb, stack.table_name), f"{prefix}-{uuid.uuid4().hex[:8]}"))


@dataclass
class Population:
    """A fresh environment: early, middle and late batches, some completed, some lazily TIMED_OUT."""

    api: httpx.Client
    tag: str  # on every token
    red: str  # on about a third
    blue: str  # on about a sixth, some also red
    early: list[str] = field(default_factory=list)
    middle: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    completed: set[str] = field(default_factory=set)
    timed_out: set[str] = field(default_factory=set)

    @property
    def all(self) -> set[str]:
        return {*self.early, *self.middle, *self.late}

    @property
    def waiting(self) -> set[str]:
        return self.all - self.completed - self.timed_out


@pytest.fixture(scope="session")  # not module: a worker that interleaves another module would build it again
def population(stack: Stack) -> Iterator[Population]:
    run = uuid.uuid4().hex[:8]
    with mint(stack, "list") as api:
        pop = Population(api, f"all-{run}", f"red-{run}", f"blue-{run}")
        pop.early = create_many(api, 40, tags=[pop.tag], timeout="1h")
        time.sleep(0.01)
        middle_red = create_many(api, 80, tags=[pop.tag, pop.red], timeout="1h")
        middle_both = create_many(api, 20, tags=[pop.tag, pop.red, pop.blue], timeout="1h")
        middle_blue = create_many(api, 20, tags=[pop.tag, pop.blue], timeout="1h")
        middle_plain = create_many(api, 60, tags=pop.tag, timeout="1h")
        pop.middle = middle_red + middle_both + middle_blue + middle_plain
        time.sleep(0.01)
        late_short = create_many(api, 30, tags=[pop.tag, pop.red], timeout="1s")
        pop.late = late_short + create_many(api, 30, tags=[pop.tag], timeout="1h")
        pop.completed = set(middle_red[:40] + middle_blue[:10] + pop.early[:20])
        complete_all(api, sorted(pop.completed))
        pop.timed_out = set(late_short)
        time.sleep(1.2)  # the 1s tokens are now past their timeout
        # The stream consumer copies completions into the tag items, behind every earlier test's stream records.
        deadline = time.monotonic() + 180
        while set(ids(walk(api, {"filter[tags]": pop.tag, "filter[status]": "COMPLETED"}, 100))) != pop.completed:
            assert time.monotonic() < deadline, "the stream consumer never synced the tag items"
            time.sleep(0.1)
        yield pop


def test_items_have_the_list_shape(population: Population) -> None:
    api = population.api
    first = page(api, **{"page[size]": 100, "filter[tags]": population.red})
    assert first["pagination"] == {"next": first["pagination"]["next"]}
    for item in first["data"]:
        assert {"id", "url", "status", "tags", "createdAt", "timeoutAt"} <= set(item)
        assert set(item) <= {"id", "url", "status", "tags", "createdAt", "timeoutAt", "completedAt"}
        assert item["url"].endswith(f"{TOKENS}/{item['id']}/callback/" + item["url"].rsplit("/", 1)[1])
        assert population.red in item["tags"]
        assert ("completedAt" in item) == (item["status"] != "WAITING")
    timed_out = [t for t in first["data"] if t["id"] in population.timed_out]
    assert timed_out and all(t["status"] == "TIMED_OUT" and t["completedAt"] == t["timeoutAt"] for t in timed_out)
    assert page(api, **{"filter[tags]": f"nothing-{uuid.uuid4().hex}"}) == {"data": [], "pagination": {}}


def test_idempotency_key_fields_and_filter_see_current_and_expired_keys(api: httpx.Client) -> None:
    key = f"list-key-{uuid.uuid4().hex}"
    first = create(api, idempotencyKey=key, idempotencyKeyTTL="1s")
    time.sleep(1.1)
    second = create(api, idempotencyKey=key, idempotencyKeyTTL="1s", tags="with-key")
    assert second["id"] != first["id"]
    pages = walk(api, {"filter[idempotencyKey]": key}, 1)
    assert ids(pages) == [second["id"], first["id"]]
    assert ids(walk_back(api, {"filter[idempotencyKey]": key}, 1, pages[-1])) == ids(pages)
    item = pages[0]["data"][0]
    assert item["idempotencyKey"] == key and parse_iso(item["idempotencyKeyExpiresAt"]) > parse_iso(item["createdAt"])
    combined = walk(api, {"filter[idempotencyKey]": key, "filter[tags]": "with-key"}, 25)
    assert ids(combined) == [second["id"]]
    complete(api, first["id"], {})
    assert ids(walk(api, {"filter[idempotencyKey]": key, "filter[status]": "COMPLETED"}, 25)) == [first["id"]]
    assert walk(api, {"filter[idempotencyKey]": f"{key}-other"}, 25)[0]["data"] == []


FILTERS: dict[str, Any] = {
    "none": ({}, lambda p: p.all),
    "WAITING": ({"filter[status]": "WAITING"}, lambda p: p.waiting),
    "COMPLETED": ({"filter[status]": "COMPLETED"}, lambda p: p.completed),
    "TIMED_OUT": ({"filter[status]": "TIMED_OUT"}, lambda p: p.timed_out),
    "WAITING,TIMED_OUT": ({"filter[status]": "WAITING,TIMED_OUT"}, lambda p: p.waiting | p.timed_out),
    "COMPLETED,TIMED_OUT": ({"filter[status]": "TIMED_OUT,COMPLETED"}, lambda p: p.completed | p.timed_out),
    "all statuses": ({"filter[status]": "WAITING,COMPLETED,TIMED_OUT"}, lambda p: p.all),
    "tag": ("red", None),
    "two tags": ("red,blue", None),
    "blue": ("blue", None),
    "time range": ("middle", lambda p: set(p.middle)),
    "period": ({"filter[createdAt][period]": "1h"}, lambda p: p.all),
}


def tag_filter(pop: Population, which: str) -> dict[str, str]:
    return {"filter[tags]": ",".join(getattr(pop, name) for name in which.split(","))}


def resolve(pop: Population, name: str) -> tuple[dict[str, str], set[str] | None]:
    params, expected = FILTERS[name]
    if name in ("tag", "two tags", "blue"):
        return tag_filter(pop, params), None
    if name == "time range":
        items = [t for t in walk(pop.api, {}, 100)[0]["data"]] + [
            t for p in walk(pop.api, {}, 100)[1:] for t in p["data"]
        ]
        created = {t["id"]: t["createdAt"] for t in items}
        middle = sorted(created[i] for i in pop.middle)
        start_ms = int(parse_iso(middle[0]).timestamp() * 1000)
        return {
            "filter[createdAt][from]": middle[0],
            "filter[createdAt][to]": str(int(parse_iso(middle[-1]).timestamp() * 1000)),
        }, set(pop.middle) if start_ms else None
    return params, expected(pop)


@pytest.mark.parametrize("name", list(FILTERS))
def test_walking_forward_and_back_visits_every_match_once(population: Population, name: str) -> None:
    params, expected = resolve(population, name)
    pages = walk(population.api, params, 25)
    seen = ids(pages)
    assert len(seen) == len(set(seen))
    if expected is not None:
        assert set(seen) == expected
    else:  # a tag filter: the tokens carrying any of the tags, checked through their own `tags`
        wanted = set(params["filter[tags]"].split(","))
        every = [t for p in walk(population.api, {}, 100) for t in p["data"]]
        assert set(seen) == {t["id"] for t in every if wanted & set(t["tags"])}
    statuses = {t["id"]: t["status"] for p in pages for t in p["data"]}
    for token_id, status in statuses.items():
        if token_id in population.timed_out:
            assert status == "TIMED_OUT"
        elif token_id in population.completed:
            assert status == "COMPLETED"
        else:
            assert status == "WAITING"
    back = walk_back(population.api, params, 25, pages[-1])
    assert [[t["id"] for t in p["data"]] for p in back] == [[t["id"] for t in p["data"]] for p in pages]


@pytest.mark.parametrize(("name", "size"), [("none", 100), ("tag", 100), ("TIMED_OUT", 1), ("blue", 1)])
def test_page_sizes_1_and_100(population: Population, name: str, size: int) -> None:
    params, _ = resolve(population, name)
    assert ids(walk(population.api, params, size)) == ids(walk(population.api, params, 25))


def test_combined_filters(population: Population) -> None:
    pop = population
    red = set(ids(walk(pop.api, {"filter[tags]": pop.red}, 100)))
    assert set(ids(walk(pop.api, {"filter[tags]": pop.red, "filter[status]": "TIMED_OUT"}, 10))) == pop.timed_out
    waiting_red = set(ids(walk(pop.api, {"filter[tags]": pop.red, "filter[status]": "WAITING"}, 10)))
    assert pop.timed_out.isdisjoint(waiting_red) and waiting_red <= red
    assert set(ids(walk(pop.api, {"filter[tags]": pop.red, "filter[status]": "COMPLETED"}, 10))) == pop.completed & red
    recent = set(ids(walk(pop.api, {"filter[status]": "WAITING", "filter[createdAt][period]": "1h"}, 50)))
    assert recent == pop.waiting


def test_walking_is_stable_while_tokens_are_created_and_completed(stack: Stack) -> None:
    tag = f"stable-{uuid.uuid4().hex[:8]}"
    with mint(stack, "walk") as api:
        existing = create_many(api, 100, tags=[tag])
        for params in ({}, {"filter[tags]": tag}):
            seen: list[str] = []
            after: str | None = None
            created: list[str] = []
            for round_ in range(100):
                body = page(api, **params, **{"page[size]": 9, "page[after]": after})
                seen += [t["id"] for t in body["data"]]
                # Meanwhile: new matching tokens, and completions of visited and unvisited ones.
                created += create_many(api, 3, tags=[tag])
                complete_all(api, [existing[(round_ * 7 + k) % len(existing)] for k in range(2)])
                after = body["pagination"].get("next")
                if after is None:
                    break
            assert sorted(seen) == sorted(existing)  # each once; none of those created during the walk
            existing += created


def test_environments_are_isolated(population: Population, other_api: httpx.Client) -> None:
    pop = population
    assert page(other_api, **{"filter[tags]": pop.tag})["data"] == []
    theirs = {t["id"] for p in walk(other_api, {}, 100) for t in p["data"]}
    assert theirs.isdisjoint(pop.all)
    cursor = page(pop.api, **{"page[size]": 5})["pagination"]["next"]
    assert error_of(other_api.get(TOKENS, params={"page[size]": 5, "page[after]": cursor}), 400).startswith(
        "page[after]: "
    )
    back = page(pop.api, **{"page[size]": 5, "page[after]": cursor})["pagination"]["previous"]
    assert error_of(other_api.get(TOKENS, params={"page[size]": 5, "page[before]": back}), 400).startswith(
        "page[before]: "
    )


def _edited(cursor: str) -> str:
    return cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"page[size]": "0"}, "page[size]"),
        ({"page[size]": "101"}, "page[size]"),
        ({"page[size]": "ten"}, "page[size]"),
        ({"page[size]": ""}, "page[size]"),
        ({"page[size]": "2.5"}, "page[size]"),
        ({"filter[status]": "waiting"}, "filter[status]"),
        ({"filter[status]": "WAITING,DONE"}, "filter[status]"),
        ({"filter[status]": "WAITING,"}, "filter[status]"),
        ({"filter[tags]": "a,,b"}, "filter[tags]"),
        ({"filter[tags]": "t" * 129}, "filter[tags]"),
        ({"filter[tags]": ",".join(str(i) for i in range(11))}, "filter[tags]"),
        ({"filter[idempotencyKey]": "k" * 2049}, "filter[idempotencyKey]"),
        ({"filter[createdAt][from]": "yesterday"}, "filter[createdAt][from]"),
        ({"filter[createdAt][to]": "2024-02-30T00:00:00Z"}, "filter[createdAt][to]"),
        ({"filter[createdAt][period]": "1 hour"}, "filter[createdAt][period]"),
        ({"filter[createdAt][period]": "0s"}, "filter[createdAt][period]"),
        ({"page[after]": "not-a-cursor"}, "page[after]"),
        ({"page[before]": "not-a-cursor"}, "page[before]"),
        ({"page[after]": ""}, "page[after]"),
        ({"page[after]": "eyJiIjoiMSJ9.AAAA"}, "page[after]"),
    ],
)
def test_every_invalid_value_is_a_400_naming_the_parameter(
    api: httpx.Client, params: dict[str, str], name: str
) -> None:
    assert error_of(api.get(TOKENS, params=params), 400).startswith(f"{name}: ")


def test_edited_misplaced_and_refiltered_cursors_are_400(api: httpx.Client) -> None:
    tag = f"cursor-{uuid.uuid4().hex[:8]}"
    create_many(api, 4, tags=[tag])
    first = page(api, **{"page[size]": 1, "filter[tags]": tag})
    nxt = first["pagination"]["next"]
    prev = page(api, **{"page[size]": 1, "filter[tags]": tag, "page[after]": nxt})["pagination"]["previous"]
    cases = [
        ({"page[after]": _edited(nxt), "filter[tags]": tag}, "page[after]"),
        ({"page[after]": nxt[:-1], "filter[tags]": tag}, "page[after]"),
        ({"page[after]": nxt + "A", "filter[tags]": tag}, "page[after]"),
        ({"page[before]": _edited(prev), "filter[tags]": tag}, "page[before]"),
        ({"page[after]": nxt, "filter[tags]": f"{tag}-other"}, "page[after]"),
        ({"page[after]": nxt}, "page[after]"),
        ({"page[after]": nxt, "filter[tags]": tag, "filter[status]": "WAITING"}, "page[after]"),
        ({"page[after]": prev, "filter[tags]": tag}, "page[after]"),
        ({"page[before]": nxt, "filter[tags]": tag}, "page[before]"),
    ]
    for params, name in cases:
        assert error_of(api.get(TOKENS, params={"page[size]": 1, **params}), 400).startswith(f"{name}: "), params


def test_a_repeated_parameter_keeps_its_last_value(api: httpx.Client) -> None:
    tag = f"repeat-{uuid.uuid4().hex[:8]}"
    (token_id,) = create_many(api, 1, tags=[tag])
    response = api.get(f"{TOKENS}?filter[tags]=nothing&filter[tags]={tag}&page[size]=0&page[size]=5")
    assert response.status_code == 200 and [t["id"] for t in response.json()["data"]] == [token_id]


def test_listing_needs_a_secret_key(api: httpx.Client, anonymous: httpx.Client) -> None:
    error_of(anonymous.get(TOKENS), 401)
    pat = create(api)["publicAccessToken"]
    error_of(anonymous.get(TOKENS, headers={"Authorization": f"Bearer {pat}"}), 401)
    assert error_of(anonymous.get(TOKENS, params={"page[size]": "0"}), 401)  # authentication comes first
