"""`make key ENV=<name> [STACK=<stack>]`: mint a secret API key and print only the key.

Without --stack it writes into the running local stack (found through .waitpoints/local.env); with
--stack it writes into that deployed stack's table, with the caller's AWS credentials.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import boto3
from waitpoints_core import DynamoDBStore, InvalidInput, mint_api_key

from .emulator import fake_aws_environment


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def stack_table_name(stack: str) -> str:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "TableName":
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack} has no TableName output; is it a waitpoints stack?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make key", description=__doc__)
    parser.add_argument("--env", default="dev", help="environment name: 1 to 32 of a-z, 0-9, '-' (default dev)")
    parser.add_argument("--stack", help="a deployed CloudFormation stack name (default: the local stack)")
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("WAITPOINTS_STATE_DIR", ".waitpoints")))
    args = parser.parse_args(argv)
    if args.stack:
        client, table = boto3.client("dynamodb"), stack_table_name(args.stack)
    else:
        env_file = args.state_dir / "local.env"
        if not env_file.exists():
            print(f"error: {env_file} not found; start the local stack with 'make run' or pass STACK=<name>",
                  file=sys.stderr)
            return 1
        local = read_env_file(env_file)
        os.environ.update(fake_aws_environment(local["AWS_ENDPOINT_URL"]))
        client, table = boto3.client("dynamodb"), local["WAITPOINTS_TABLE_NAME"]
    try:
        print(mint_api_key(DynamoDBStore(client, table), args.env))
    except InvalidInput as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
