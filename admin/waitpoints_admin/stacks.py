"""Where an admin command acts: the running local stack (found through its local.env) or, with `--stack`, a
deployed CloudFormation stack, with the caller's AWS credentials."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

MAKE_STACK = "STACK=<name>"  # how a make target names a deployed stack; the CLI passes "--stack NAME"


class AdminError(Exception):
    """A refusal or a failure an admin command reports as `error: <message>` (exit 1)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TargetError(AdminError):
    """Where to act is unknown or unusable: a configuration error (exit 2)."""

    exit_code = 2


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="a deployed CloudFormation stack name (default: the local stack)")
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("WAITPOINTS_STATE_DIR", ".waitpoints")))


def require_region(stack: str) -> None:
    """A deployed stack lives in one region: without one, say how to name it (not botocore's NoRegionError)."""
    import boto3

    if boto3.session.Session().region_name is None:
        raise TargetError(
            f"no AWS region for stack {stack}: set AWS_REGION=<the stack's region> (or a region in your AWS profile)"
        )


def stack_output(stack: str, name: str) -> str:
    import boto3

    require_region(stack)
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == name:
            return str(output["OutputValue"])
    raise TargetError(f"stack {stack} has no {name} output; is it a waitpoints stack?")


def stack_table_name(stack: str) -> str:
    return stack_output(stack, "TableName")


def local_values(state_dir: Path, name_a_stack: str = MAKE_STACK) -> dict[str, str]:
    """The running local stack's local.env, with this process pointed at its emulated AWS. `name_a_stack` is how
    the caller's syntax names a deployed stack instead, for the message when no local stack runs."""
    from waitpoints_local.emulator import fake_aws_environment

    env_file = state_dir / "local.env"
    if not env_file.exists():
        raise TargetError(f"{env_file} not found: start the local stack with 'make run', or pass {name_a_stack}")
    values = read_env_file(env_file)
    os.environ.update(fake_aws_environment(values["AWS_ENDPOINT_URL"]))
    return values
