"""`make bench-list`: what listing costs in DynamoDB requests and items read, at 10,000 and 100,000 tokens.

Loads tokens into in-process moto (5 environments, a realistic mix of statuses and tags) with the storage
layer's own item builders (`token_to_item`, `tag_items`), then walks the first pages of each filter through
ListingService.list_tokens and counts, with botocore event hooks, every DynamoDB request and the ScannedCount of
every Query. Asserts that no Scan is ever issued. Not a timed test: the figures are requests and items, which do
not depend on the machine.

    python -m bench.list_bench [--sizes 10000,100000] [--pages 3]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from waitpoints_core import Settings, TokenStatus, Waitpoint, WaitpointService  # noqa: E402
from waitpoints_core.durations import DAY_MS  # noqa: E402
from waitpoints_core.dynamodb import DynamoDBStore  # noqa: E402
from waitpoints_core.dynamodb.codecs import tag_items, token_to_item  # noqa: E402
from waitpoints_core.ids import new_token_id  # noqa: E402
from waitpoints_core.keyring import KeyRing  # noqa: E402
from waitpoints_core.signing import SigningKeys  # noqa: E402
from waitpoints_http.list_query import parse_list_query  # noqa: E402
from waitpoints_local import moto_fixes  # noqa: E402
from waitpoints_local.emulator import create_table  # noqa: E402
from waitpoints_local.template import Template  # noqa: E402

TABLE = "waitpoints-bench"
ENVS = ("prod", "staging", "dev", "eu", "qa")
ENV_WEIGHTS = (0.40, 0.25, 0.15, 0.10, 0.10)
BACKLOG_PER_ENV = 3  # WAITING past timeoutAt, not rewritten yet: about a minute of the sweep's lag
STALLED_ENV, STALLED_BACKLOG = "qa", 200  # one environment whose sweep is behind, to show what that costs
KINDS = ("approval", "webhook", "job", "payment")


class Meter:
    """Counts DynamoDB requests by operation and the ScannedCount of queries, through botocore's event hooks."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.scanned = 0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after_query)

    def _before(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _after_query(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned += int(parsed.get("ScannedCount", 0))

    def reset(self) -> None:
        self.calls.clear()
        self.scanned = 0


@dataclass
class Loaded:
    now: int
    tags: dict[str, Counter[str]]  # env → tag → tokens
    keys: dict[str, list[str]]  # env → idempotency keys


def make_token(rng: random.Random, env: str, now: int, serial: int, status: str) -> Waitpoint:
    created = now - rng.randint(60_000, 30 * DAY_MS)
    tags = [f"tenant:{rng.randint(1, 40)}"] if rng.random() < 0.8 else []
    if rng.random() < 0.6:
        tags.append(f"kind:{rng.choice(KINDS)}")
    if rng.random() < 0.1:
        tags.append(f"order:{serial}")
    key = f"key-{env}-{serial}" if rng.random() < 0.3 else None
    fields: dict[str, Any] = {}
    if status == "WAITING":
        timeout = now + rng.randint(3_600_000, 30 * DAY_MS)
    elif status == "OVERDUE":  # still WAITING in the table; lists as TIMED_OUT
        timeout, status = now - rng.randint(1, 60_000), "WAITING"
        created = timeout - rng.randint(60_000, 7 * DAY_MS)
    elif status == "TIMED_OUT":
        timeout = created + rng.randint(60_000, min(now - created, 7 * DAY_MS))
        fields = {"completed_at": timeout, "output_is_error": True}
    else:
        timeout = created + rng.randint(60_000, 30 * DAY_MS)
        fields = {
            "completed_at": rng.randint(created, min(now, timeout) - 1),
            "output": '{"ok":true}',
            "output_type": "application/json",
        }
    return Waitpoint(
        id=new_token_id(),
        env=env,
        status=TokenStatus(status),
        created_at=created,
        timeout_at=timeout,
        expires_at=(max(timeout, now) + 30 * DAY_MS) // 1000,
        tags=tags,
        idempotency_key=key,
        idempotency_key_expires_at=created + 3_600_000 if key else None,
        **fields,
    )


_moto_sorted_items = Table.sorted_items
_moto_all_items = Table.all_items


def _all_items(self: Table) -> list[Item]:
    """moto_fixes.all_items, kept while the table does not change (nothing is written while the filters run)."""
    count = sum(len(hash_set) for hash_set in self.items.values())
    cached = getattr(self, "_bench_all_items", None)
    if cached is None or cached[0] != count:
        cached = (count, moto_fixes.all_items(self))
        self._bench_all_items = cached  # type: ignore[attr-defined]
    return list(cached[1])


def fast_moto() -> None:
    """Speed-ups of moto that change no result, so that 100,000 tokens fit in minutes:

    - moto_fixes (the local stack's): every Query sorts the table and the index partition on plain values, cast
      once per item, instead of comparing DynamoType objects (`check_same_order` proves the orders equal on the
      loaded data); here the table's order is also kept while nothing is written;
    - moto re-sums an item's size on every attribute it sets (quadratic per item): skipped while loading, every
      item here being far below the 400 KB limit.
    """
    moto_fixes.install()
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[assignment, method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]


class _Subset:
    """A stand-in table holding some of the items, to compare the two `all_items` on."""

    def __init__(self, table: Table, items: list[Item]) -> None:
        self.range_key_attr = table.range_key_attr
        self.items: dict[Any, dict[Any, Item]] = {}
        for item in items:
            self.items.setdefault(item.hash_key, {})[item.range_key] = item


def check_same_order(sample: int = 2000) -> None:
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TABLE)
    items = random.Random(sample).sample(table.all_items(), sample)
    assert [id(i) for i in moto_fixes.all_items(_Subset(table, items))] == [
        id(i) for i in _moto_all_items(_Subset(table, items))
    ]  # type: ignore[arg-type]
    for hash_attrs, range_attrs in (
        (["listPk", "pk"], ["listSk", "sk"]),
        (["duePk", "pk"], ["timeoutAt", "sk"]),
        (["pk"], ["sk"]),
    ):
        having = [i for i in items if all(a in i.attrs for a in hash_attrs + range_attrs)]
        ours = [id(i) for i in moto_fixes.sorted_items(table, hash_attrs, range_attrs, list(having))]
        assert ours == [id(i) for i in _moto_sorted_items(table, hash_attrs, range_attrs, list(having))], hash_attrs


def load(total: int, rng: random.Random) -> Loaded:
    """Put the items straight into moto's table (the put that BatchWriteItem ends in, without 10,000 HTTP-shaped
    round trips through botocore, which would take most of the 5 minutes at 100,000 tokens)."""
    now = int(time.time() * 1000)
    loaded = Loaded(now, {env: Counter() for env in ENVS}, {env: [] for env in ENVS})
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TABLE)

    plan: list[tuple[str, str]] = []
    for env, weight in zip(ENVS, ENV_WEIGHTS, strict=True):
        count = int(total * weight)
        backlog = STALLED_BACKLOG if env == STALLED_ENV else BACKLOG_PER_ENV
        statuses = rng.choices(("WAITING", "COMPLETED", "TIMED_OUT"), (25, 60, 15), k=count - backlog)
        plan += [(env, s) for s in statuses] + [(env, "OVERDUE")] * backlog
    for serial, (env, status) in enumerate(plan):
        token = make_token(rng, env, now, serial, status)
        loaded.tags[env].update(token.tags)
        if token.idempotency_key:
            loaded.keys[env].append(token.idempotency_key)
        for item in (token_to_item(token), *tag_items(token)):
            table.put_item(item, overwrite=True)
    return loaded


def scenarios(loaded: Loaded) -> list[tuple[str, str, dict[str, str]]]:
    env = ENVS[0]
    common = [t for t, _ in loaded.tags[env].most_common() if t.startswith("tenant:")]
    day = DAY_MS
    time_range = {
        "filter[createdAt][from]": str(loaded.now - 3 * day),
        "filter[createdAt][to]": str(loaded.now - 2 * day),
    }
    return [
        ("none", env, {}),
        ("status WAITING", env, {"filter[status]": "WAITING"}),
        ("status COMPLETED", env, {"filter[status]": "COMPLETED"}),
        ("status TIMED_OUT", env, {"filter[status]": "TIMED_OUT"}),
        ("one tag (tenant)", env, {"filter[tags]": common[0]}),
        ("one tag (kind)", env, {"filter[tags]": "kind:approval"}),
        ("idempotency key", env, {"filter[idempotencyKey]": loaded.keys[env][len(loaded.keys[env]) // 2]}),
        ("time range (1 day)", env, time_range),
        ("period 7d", env, {"filter[createdAt][period]": "7d"}),
        ("combo: WAITING,COMPLETED", env, {"filter[status]": "WAITING,COMPLETED"}),
        ("combo: WAITING,TIMED_OUT", env, {"filter[status]": "WAITING,TIMED_OUT"}),
        ("combo: two tags", env, {"filter[tags]": f"{common[0]},{common[1]}"}),
        ("combo: tag + WAITING", env, {"filter[tags]": common[0], "filter[status]": "WAITING"}),
        ("combo: COMPLETED + time range", env, {"filter[status]": "COMPLETED", **time_range}),
        ("combo: tag + period 7d", env, {"filter[tags]": "kind:approval", "filter[createdAt][period]": "7d"}),
        (f"TIMED_OUT, sweep {STALLED_BACKLOG} behind", STALLED_ENV, {"filter[status]": "TIMED_OUT"}),
    ]


def _no_resume() -> Any:
    raise AssertionError("listing resumes no workflow")


def walk(
    service: WaitpointService, meter: Meter, env: str, params: dict[str, str], pages: int, size: int
) -> tuple[int, list[int], int, int]:
    """(pages walked, requests of each page, items read, items returned)."""
    requests, scanned, returned, after, walked = [], 0, 0, None, 0
    for _ in range(pages):
        meter.reset()
        query = {**params, "page[size]": str(size), **({"page[after]": after} if after else {})}
        page = service.listing.list_tokens(env, parse_list_query(query))
        assert meter.calls["Scan"] == 0, "a Scan was issued"
        assert set(meter.calls) <= {"Query"}, meter.calls
        walked += 1
        requests.append(sum(meter.calls.values()))
        scanned += meter.scanned
        returned += len(page.tokens)
        if not page.next:
            break
        after = page.next
    return walked, requests, scanned, returned


def run(total: int, pages: int, size: int, seed: int) -> list[str]:
    rows = []
    with mock_aws():
        client = boto3.client("dynamodb")
        (props,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
        # The template's table, less its stream: reads do not touch it, and moto copies every write into it.
        create_table(client, TABLE, {k: v for k, v in props.items() if k != "StreamSpecification"})
        started = time.perf_counter()
        loaded = load(total, random.Random(seed))
        items = client.describe_table(TableName=TABLE)["Table"].get("ItemCount", 0)
        check_same_order()
        print(
            f"loaded {total:,} tokens ({items:,} items with tag items) in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        keys = KeyRing(lambda: SigningKeys("k1", {"k1": b"bench-signing-key-0123456789abcdef"}))
        service = WaitpointService(DynamoDBStore(client, TABLE), keys, Settings(TABLE, "bench"), _no_resume)
        meter = Meter(client)
        for name, env, params in scenarios(loaded):
            walked, requests, scanned, returned = walk(service, meter, env, params, pages, size)
            ratio = f"{scanned / returned:.2f}" if returned else "-"
            per_page = f"{sum(requests) / walked:.1f} (max {max(requests)})"
            rows.append(f"| {total:>7,} | {name:<30} | {walked} | {returned:>4} | {per_page:<11} | {ratio:>5} | no |")
            print(rows[-1], file=sys.stderr)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated token counts")
    parser.add_argument("--pages", type=int, default=3, help="pages walked per filter")
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    fast_moto()
    rows = []
    for total in (int(n) for n in args.sizes.split(",")):
        rows += run(total, args.pages, args.page_size, args.seed)
    print(
        f"\nPage size {args.page_size}; up to {args.pages} pages walked per filter; environment "
        f"'{ENVS[0]}' ({ENV_WEIGHTS[0]:.0%} of the tokens) unless named."
    )
    print("| tokens | filter | pages | returned | requests/page | read/returned | Scan |")
    print("|---:|---|---:|---:|---|---:|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
