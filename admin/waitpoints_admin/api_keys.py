"""Secret API keys of a deployment: `make key`, `make keys`, `make revoke-key`, and
`waitpoints keys create|list|revoke`.

Without --stack it works on the running local stack (found through .waitpoints/local.env); with --stack
on that deployed stack, with the caller's AWS credentials. Creating prints only the key.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import boto3
from waitpoints_core import InvalidInput
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.services.auth import mint_api_key

from .stacks import MAKE_STACK, AdminError, TargetError, local_values, stack_table_name, target_args

if TYPE_CHECKING:
    from pathlib import Path

    from waitpoints_core.ports import ApiKeyInfo as ApiKey

CACHE_NOTE = "warm functions may accept it for up to WAITPOINTS_AUTH_CACHE_SECONDS (60 s)"


def store(stack: str | None, state_dir: Path, name_a_stack: str = MAKE_STACK) -> DynamoDBStore:
    """The key store of a deployed stack, or of the running local stack."""
    table = stack_table_name(stack) if stack else local_values(state_dir, name_a_stack)["WAITPOINTS_TABLE_NAME"]
    return DynamoDBStore(boto3.client("dynamodb"), table)


def create(keys: DynamoDBStore, env: str) -> str:
    """Mint a key for `env` and return it (it is stored only as its SHA-256)."""
    try:
        return mint_api_key(keys, env)
    except InvalidInput as error:
        raise TargetError(error.message) from None


def listed(keys: DynamoDBStore) -> list[ApiKey]:
    return sorted(keys.api_keys(), key=lambda k: (k.env, k.created_at))


def row(key: ApiKey) -> str:
    return f"{key.key_id}  {key.env:<16} {key.hint:<24} {_iso(key.created_at)}"


def revoke(keys: DynamoDBStore, key_id: str, list_hint: str = "make keys") -> str:
    """Revoke the key with `key_id`; return what to tell the operator."""
    revoked = keys.revoke_api_key(key_id)
    if revoked is None:
        raise AdminError(f"no key with id {key_id} (see {list_hint})")
    return f"revoked {revoked.key_id} ({revoked.env}, {revoked.hint}); {CACHE_NOTE}"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def shard_count(text: str) -> int:
    """--shards: a new environment's list shards, 1 to MAX_SHARDS (docs/scale.md, "Choosing N")."""
    from waitpoints_core.dynamodb.codecs import MAX_SHARDS

    if not text.isdigit() or not 1 <= int(text) <= MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_SHARDS}, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make key", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--env", default="dev", help="create a key for this environment: 1 to 32 of a-z, 0-9, '-'")
    action.add_argument("--list", action="store_true", help="list the keys (id, environment, hint, created)")
    action.add_argument("--revoke", metavar="KEY_ID", help="revoke the key with this id (see --list)")
    parser.add_argument("--shards", type=shard_count, help="a new environment's list shards (default: the table's)")
    target_args(parser)
    args = parser.parse_args(argv)
    if args.revoke is not None and not args.revoke.strip():  # make revoke-key without KEY_ID=
        print("error: which key? make revoke-key KEY_ID=<id from make keys> [STACK=<stack>]", file=sys.stderr)
        return 2
    try:
        keys = store(args.stack, args.state_dir)
        if args.list:
            for key in listed(keys):
                print(row(key))
        elif args.revoke:
            print(revoke(keys, args.revoke), file=sys.stderr)
        else:
            keys.default_shards = args.shards
            print(create(keys, args.env))
    except AdminError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
