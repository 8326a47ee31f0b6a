"""An environment's list shards (docs/scale.md): `make shards` lists them, `make shards ENV=<name> N=<count>`
raises them, without downtime.

A token's shard is fixed when it is created (it is in its own keys), so a reader that queries shards 0..R-1 sees
every token written with any N <= R. Raising N is therefore two steps, both done here:
1. readers first: the read count becomes the new N; the write count stays. Every container picks the new read
   count up within WAITPOINTS_AUTH_CACHE_SECONDS (the layout is cached as long as keys are, 60 s); until then the
   new shards are merely empty, so nothing can be missed;
2. after that wait, writers: the write count becomes N, and new tokens spread over all N shards.
No token moves and no cursor changes (a cursor is a list position, the same in every shard), so no backfill and no
retention period is needed. N never goes down: a token written to shard 40 must stay visible until its TTL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from waitpoints_core.dynamodb.codecs import MAX_SHARDS
from waitpoints_core.dynamodb.shards import LAYOUT_CACHE_SECONDS

from .api_keys import store
from .stacks import AdminError, target_args


def cache_seconds() -> float:
    return float(os.environ.get("WAITPOINTS_AUTH_CACHE_SECONDS", LAYOUT_CACHE_SECONDS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make shards", description=__doc__)
    parser.add_argument("--env", help="the environment to reshard (without it: list every environment's shards)")
    parser.add_argument("--shards", type=int, help=f"the new shard count, 1 to {MAX_SHARDS}, not below the current")
    parser.add_argument("--wait", type=float, default=None, help="seconds between the two steps (default: the cache)")
    target_args(parser)
    args = parser.parse_args(argv)
    try:
        return reshard(args)
    except AdminError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code


def reshard(args: argparse.Namespace) -> int:
    tokens = store(args.stack, args.state_dir)
    layouts = tokens.read_shard_layouts()
    if not args.env:
        for env, (write, read) in sorted(layouts.items()):
            note = "" if write == read else "  (raising: readers already query the new count)"
            print(f"{env:<32} write {write:>3}  read {read:>3}{note}")
        return 0
    if args.env not in layouts:
        print(f"error: no environment {args.env} (environments exist once keyed: make key ENV=...)", file=sys.stderr)
        return 1
    write, read = layouts[args.env]
    target = args.shards
    if target is None or not max(write, 1) <= target <= MAX_SHARDS or target < read:
        print(
            f"error: {args.env} has write {write}, read {read}; N must be between {max(write, read)} and "
            f"{MAX_SHARDS} (shards are never lowered: a token stays in its shard until its TTL)",
            file=sys.stderr,
        )
        return 2
    if read < target:
        tokens.set_shard_layout(args.env, write, target)
        print(f"step 1: readers of {args.env} now query {target} shards", file=sys.stderr)
    wait = cache_seconds() + 5 if args.wait is None else args.wait
    if write < target:
        print(f"waiting {wait:g} s for every warm container to read the new count…", file=sys.stderr)
        time.sleep(wait)
        tokens.set_shard_layout(args.env, target, target)
    print(f"{args.env}: {target} shards (write {target}, read {target})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
