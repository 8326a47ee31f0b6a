"""`make bench-scale`: what one busy environment does to DynamoDB's partitions, before and after sharding.

A simulated minute at 10,000 creates/s and 10,000 completions/s in one environment (every token carries one hot
tag; 30 % an idempotency key), built with the adapter's real key functions and item codecs (`token_to_item`,
`tag_items`, the index keys and projections of template.yaml), counted with DynamoDB's write-unit rules: a unit
per KB of the larger image on the table (twice in a transaction), a unit per KB for each index entry put, changed
or removed. It reports the write units per second on the busiest partition of the table and of each index, with
N = 1 (the layout before sharding) and with the default N; the read units a list page and a sweep cycle cost
(queried on an in-memory table of 10^6 tokens with the adapter's own Query code, `bench.memtable`); and the same
traffic at 100,000 creates/s spread over 1,000 environments, against the account's default quotas.
Writes `.waitpoints/bench-scale.json` and prints the tables.

    python -m bench.scale_sim [--tokens 1000000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from waitpoints_core import TokenStatus, Waitpoint
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.dynamodb.codecs import DEFAULT_SHARDS, tag_items, token_to_item
from waitpoints_core.ids import new_token_id
from waitpoints_core.listing import ListQuery
from waitpoints_http.list_query import parse_list_query

from .memtable import MemTable, template_indexes, write_units

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / ".waitpoints" / "bench-scale.json"
NOW = 1_800_000_000_000
HOT_TAG = "tenant:acme"
PARTITION_LIMIT = 1000  # WCU/s a partition takes
TARGET = 500  # half of it

# Default quotas per account and region (AWS documentation; raise them through Service Quotas):
QUOTAS = {
    "DynamoDB on-demand table throughput (WRU/s per table)": 40_000,
    "DynamoDB account throughput (WCU/s, all tables)": 80_000,
    "Lambda concurrent executions": 1_000,
    "API Gateway HTTP API requests/s (account, steady)": 10_000,
}


def _token(env: str, created: int, rng: random.Random, tags: bool = True) -> Waitpoint:
    key = f"job-{rng.getrandbits(40)}" if rng.random() < 0.3 else None
    return Waitpoint(
        id=new_token_id(),
        env=env,
        status=TokenStatus.WAITING,
        created_at=created,
        timeout_at=created + 3_600_000,
        expires_at=(created + 30 * 86_400_000) // 1000,
        tags=[HOT_TAG] if tags else [],
        idempotency_key=key,
        idempotency_key_expires_at=created + 86_400_000 if key else None,
    )


def _completed(token: Waitpoint, at: int) -> Waitpoint:
    return dataclasses.replace(
        token, status=TokenStatus.COMPLETED, completed_at=at, output='{"ok":true}', output_type="application/json"
    )


class Meter:
    """Write units per partition, per table and per index."""

    def __init__(self) -> None:
        self.indexes = template_indexes()
        self.units: dict[tuple[str, str], float] = defaultdict(float)  # (index or "table", partition) -> units

    def item(self, old: dict[str, Any] | None, new: dict[str, Any] | None, transactional: bool = False) -> None:
        table_pk = (new or old or {})["pk"]["S"]
        self.units[("table", table_pk)] += max(write_units(old), write_units(new)) * (2 if transactional else 1)
        for index in self.indexes[1:]:
            before = _entry(index, old)
            after = _entry(index, new)
            if before == after:
                continue
            if before is not None and after is not None and before[0] == after[0]:
                self.units[(str(index.name), after[0])] += write_units(after[1])  # changed in place
                continue
            if before is not None:
                self.units[(str(index.name), before[0])] += write_units(before[1])  # removed
            if after is not None:
                self.units[(str(index.name), after[0])] += write_units(after[1])  # added

    def busiest(self, seconds: float) -> dict[str, dict[str, Any]]:
        top: dict[str, tuple[float, str]] = {}
        for (where, partition), units in self.units.items():
            if units > top.get(where, (0.0, ""))[0]:
                top[where] = (units, partition)
        return {
            where: {"wcu_per_s": round(units / seconds, 1), "partition": partition}
            for where, (units, partition) in sorted(top.items())
        }

    def total(self, seconds: float) -> float:
        return sum(self.units.values()) / seconds


def _entry(index: Any, item: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    if not item or index.pk not in item or index.sk not in item:
        return None
    projected = {k: v for k, v in item.items() if index.projection is None or k in index.projection}
    return item[index.pk]["S"], projected


def simulate_writes(rate: int, envs: int, shards: int, seconds: int, rng: random.Random) -> dict[str, Any]:
    """`rate` creates/s and as many completions/s over `envs` environments, for `seconds`."""
    meter = Meter()
    env_names = [f"env{i}" for i in range(envs)] if envs > 1 else ["prod"]
    waiting: list[Waitpoint] = []
    # The minute before: tokens already waiting, so completions start at full rate.
    for i in range(rate):
        waiting.append(_token(env_names[i % envs], NOW - 1000 + i * 1000 // rate, rng))
    for second in range(seconds):
        base = NOW + second * 1000
        for i in range(rate):
            created = base + i * 1000 // rate
            token = _token(env_names[i % envs], created, rng)
            item = token_to_item(token, shards)
            tags = tag_items(token, shards)
            transactional = bool(tags) or token.idempotency_key is not None
            meter.item(None, item, transactional)
            for tag in tags:
                meter.item(None, tag, True)
            if token.idempotency_key is not None:
                meter.units[("table", f"IDEM#{token.env}#…")] += 2  # the key claim: its own partition per key
            waiting.append(token)
        for _ in range(rate):  # completions: the UpdateItem, then the stream consumer's tag-item update
            at = rng.randrange(len(waiting))  # any waiting token (swap-remove: O(1))
            waiting[at], waiting[-1] = waiting[-1], waiting[at]
            token = waiting.pop()
            done = _completed(token, base + 500)
            meter.item(token_to_item(token, shards), token_to_item(done, shards))
            for old_tag, new_tag in zip(tag_items(token, shards), tag_items(done, shards), strict=True):
                meter.item(old_tag, {**new_tag, "completedAt": {"N": str(base + 500)}})
    busiest = meter.busiest(seconds)
    # An idempotency key is its own partition (one per key): at most a few writes per key, whatever the rate.
    busiest.pop("table", None)
    table = max(
        ((u / seconds, p) for (w, p), u in meter.units.items() if w == "table" and not p.startswith("IDEM#")),
        default=(0.0, ""),
    )
    busiest["table"] = {"wcu_per_s": round(table[0], 1), "partition": table[1]}
    return {"busiest": busiest, "total_wcu_per_s": round(meter.total(seconds))}


# --- reads: list pages and a sweep cycle on 10^6 tokens -----------------------------------------------------------

FILTERS: list[tuple[str, dict[str, str]]] = [
    ("none", {}),
    ("status WAITING", {"filter[status]": "WAITING"}),
    ("status COMPLETED", {"filter[status]": "COMPLETED"}),
    ("status TIMED_OUT", {"filter[status]": "TIMED_OUT"}),
    ("one tag (hot: every token)", {"filter[tags]": HOT_TAG}),
    ("one tag (1 in 40)", {"filter[tags]": "tenant:7"}),
    (
        "time range (1 h)",
        {"filter[createdAt][from]": str(NOW - 7_200_000), "filter[createdAt][to]": str(NOW - 3_600_000)},
    ),
    ("period 1d", {"filter[createdAt][period]": "1d"}),
]


def load(tokens: int, shards: int, rng: random.Random) -> MemTable:
    """`tokens` tokens of one environment over the last 7 days: 60 % COMPLETED, 25 % WAITING, 15 % TIMED_OUT;
    every one tagged with the hot tag, and one of 40 tenant tags."""
    table = MemTable()
    span = 7 * 86_400_000
    items = []
    for i in range(tokens):
        created = NOW - span + i * span // tokens
        token = _token("prod", created, rng, tags=False)
        token.tags = [HOT_TAG, f"tenant:{rng.randint(1, 40)}"]
        roll = rng.random()
        if roll < 0.60:
            token = _completed(token, created + 1000)
        elif roll < 0.75:
            token = dataclasses.replace(
                token, status=TokenStatus.TIMED_OUT, timeout_at=created + 1000, completed_at=created + 1000
            )
        else:
            token.timeout_at = NOW + 3_600_000
        items.append(token_to_item(token, shards))
        items += tag_items(token, shards)
    table.bulk_load(items)
    return table


def walk(table: MemTable, shards: int, params: dict[str, str], pages: int) -> dict[str, Any]:
    from waitpoints_core.keyring import KeyRing
    from waitpoints_core.services import listing as listing_service
    from waitpoints_core.services.listing import ListingService
    from waitpoints_core.signing import SigningKeys

    listing_service.now_ms = lambda: NOW  # type: ignore[attr-defined]  # the data ends at NOW
    store = DynamoDBStore(table, "bench")
    store._layouts, store.layout_cache_seconds = {"prod": (shards, shards)}, float("inf")
    service = ListingService(store, KeyRing(lambda: SigningKeys("k1", {"k1": b"bench-scale-signing-key-0123456"})))
    before = dataclasses.replace(table.consumed)
    requests, returned, most = 0, 0, 0
    query: ListQuery = parse_list_query(params)
    for _ in range(pages):
        start = table.consumed.requests
        page = service.list_tokens("prod", query)
        requests += table.consumed.requests - start
        most = max(most, table.consumed.requests - start)
        returned += len(page.tokens)
        if not page.next:
            break
        query = parse_list_query({**params, "page[after]": page.next})
    scanned = table.consumed.scanned - before.scanned
    rcu = table.consumed.read_units - before.read_units
    return {
        "pages": pages,
        "returned": returned,
        "requests_per_page": round(requests / pages, 1),
        "max_requests": most,
        "read_per_returned": round(scanned / max(returned, 1), 2),
        "rcu_per_page": round(rcu / pages, 1),
    }


def sweep_cycle(table: MemTable, shards: int) -> dict[str, Any]:
    """One pass of the sweep with nothing due: a Query per due shard (what every minute costs)."""
    store = DynamoDBStore(table, "bench")
    store._layouts, store.layout_cache_seconds = {"prod": (shards, shards)}, float("inf")
    start_requests, start_rcu = table.consumed.requests, table.consumed.read_units
    for shard in range(store.due_shards("prod")):
        store.due_tokens("prod", NOW - 10 * 86_400_000, 100, shard)
    return {
        "requests": table.consumed.requests - start_requests,
        "rcu": round(table.consumed.read_units - start_rcu, 1),
    }


def multi_tenant(rate: int, envs: int, seconds: int, rng: random.Random) -> dict[str, Any]:
    writes = simulate_writes(rate, envs, DEFAULT_SHARDS, seconds, rng)
    per_second = rate * 2  # API requests: creates + completions (callbacks)
    lambda_ms = 25  # a handler's request on AWS: a few ms of our code plus one DynamoDB round trip or two
    needs = {
        "DynamoDB on-demand table throughput (WRU/s per table)": writes["total_wcu_per_s"],
        "DynamoDB account throughput (WCU/s, all tables)": writes["total_wcu_per_s"],
        "Lambda concurrent executions": math.ceil(per_second * lambda_ms / 1000 * 1.5),  # + stream consumer
        "API Gateway HTTP API requests/s (account, steady)": per_second,
    }
    rows = [
        {"limit": name, "default": QUOTAS[name], "needed": need, "ratio": round(need / QUOTAS[name], 2)}
        for name, need in needs.items()
    ]
    rows.sort(key=lambda row: row["ratio"], reverse=True)
    return {"rate": rate, "envs": envs, "busiest": writes["busiest"], "limits": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--pages", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(18)
    result: dict[str, Any] = {"rate": 10_000, "seconds": args.seconds, "writes": {}, "reads": {}}
    started = time.monotonic()
    for shards in (1, DEFAULT_SHARDS):
        result["writes"][str(shards)] = simulate_writes(10_000, 1, shards, args.seconds, rng)
        print(f"writes N={shards}: {time.monotonic() - started:.0f} s", flush=True)
    for shards in (1, DEFAULT_SHARDS):
        table = load(args.tokens, shards, rng)
        reads = {name: walk(table, shards, params, args.pages) for name, params in FILTERS}
        result["reads"][str(shards)] = {"filters": reads, "sweep_cycle": sweep_cycle(table, shards)}
        print(f"reads N={shards}: {time.monotonic() - started:.0f} s", flush=True)
        del table
    result["multi_tenant"] = multi_tenant(100_000, 1_000, min(args.seconds, 10), rng)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print_tables(result)


def print_tables(result: dict[str, Any]) -> None:
    before, after = result["writes"]["1"]["busiest"], result["writes"][str(DEFAULT_SHARDS)]["busiest"]
    print(
        f"\nBusiest partition, 10,000 creates/s + 10,000 completions/s in one environment (WCU/s, limit "
        f"{PARTITION_LIMIT}, target {TARGET}):\n"
    )
    print(f"| where | N = 1 | N = {DEFAULT_SHARDS} | busiest partition (N = {DEFAULT_SHARDS}) |")
    print("|---|---:|---:|---|")
    for where in sorted(set(before) | set(after)):
        b, a = before.get(where, {}), after.get(where, {})
        flag = "" if a.get("wcu_per_s", 0) <= TARGET else " **over**"
        print(
            f"| {where} | {b.get('wcu_per_s', 0):,.0f} | {a.get('wcu_per_s', 0):,.0f}{flag} | "
            f"`{a.get('partition', '')[:40]}` |"
        )
    print(
        f"\nList pages and a sweep cycle on {result['reads']['1']['filters']['none']['pages']} pages of 25, "
        "10^6 tokens (one environment):\n"
    )
    print("| filter | N | requests/page (max) | read/returned | RCU/page |")
    print("|---|---:|---|---:|---:|")
    for name, _ in FILTERS:
        for shards, reads in result["reads"].items():
            r = reads["filters"][name]
            print(
                f"| {name} | {shards} | {r['requests_per_page']} ({r['max_requests']}) | "
                f"{r['read_per_returned']:.2f} | {r['rcu_per_page']} |"
            )
    for shards, reads in result["reads"].items():
        s = reads["sweep_cycle"]
        print(f"| sweep cycle (nothing due) | {shards} | {s['requests']} | - | {s['rcu']} |")
    mt = result["multi_tenant"]
    print(
        f"\n{mt['rate']:,} creates/s (+ as many completions) over {mt['envs']:,} environments, N = "
        f"{DEFAULT_SHARDS}: busiest partition {max(v['wcu_per_s'] for v in mt['busiest'].values()):,.0f} WCU/s\n"
    )
    print("| limit (default quota) | default | needed | needed / default |")
    print("|---|---:|---:|---:|")
    for row in mt["limits"]:
        print(f"| {row['limit']} | {row['default']:,} | {row['needed']:,} | {row['ratio']:.2f}x |")
    print(f"\nwrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
