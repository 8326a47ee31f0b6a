"""Secret API keys of a deployment: `make key`, `make keys`, `make revoke-key`.

Without --stack it works on the running local stack (found through .waitpoints/local.env); with --stack
on that deployed stack, with the caller's AWS credentials. Creating prints only the key.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

import boto3
from waitpoints_core import InvalidInput
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.services.auth import mint_api_key

from .stacks import local_values, stack_table_name, target_args


def store_for(args: argparse.Namespace) -> DynamoDBStore:
    table = stack_table_name(args.stack) if args.stack else local_values(args.state_dir)["WAITPOINTS_TABLE_NAME"]
    return DynamoDBStore(boto3.client("dynamodb"), table)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make key", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--env", default="dev", help="create a key for this environment: 1 to 32 of a-z, 0-9, '-'")
    action.add_argument("--list", action="store_true", help="list the keys (id, environment, hint, created)")
    action.add_argument("--revoke", metavar="KEY_ID", help="revoke the key with this id (see --list)")
    target_args(parser)
    args = parser.parse_args(argv)
    if args.revoke is not None and not args.revoke.strip():  # make revoke-key without KEY_ID=
        print("error: which key? make revoke-key KEY_ID=<id from make keys> [STACK=<stack>]", file=sys.stderr)
        return 2
    store = store_for(args)
    if args.list:
        rows: list[Any] = sorted(store.api_keys(), key=lambda k: (k.env, k.created_at))
        for key in rows:
            print(f"{key.key_id}  {key.env:<16} {key.hint:<24} {_iso(key.created_at)}")
        return 0
    if args.revoke:
        revoked = store.revoke_api_key(args.revoke)
        if revoked is None:
            print(f"error: no key with id {args.revoke} (see make keys)", file=sys.stderr)
            return 1
        print(
            f"revoked {revoked.key_id} ({revoked.env}, {revoked.hint}); warm functions may accept it for up to "
            "WAITPOINTS_AUTH_CACHE_SECONDS (60 s)",
            file=sys.stderr,
        )
        return 0
    try:
        print(mint_api_key(store, args.env))
    except InvalidInput as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
