"""``waitpoints keys create``: mint a secret key into a deployed stack or the local stack."""

from __future__ import annotations

from pathlib import Path

import click

from ._server import import_server_module
from .output import EXIT_AUTH


class AWSAuthFailure(click.ClickException):
    """AWS refused the caller's credentials (exit 4)."""

    exit_code = EXIT_AUTH


@click.group()
def keys() -> None:
    """Secret API keys. Only the SHA-256 of a key is stored; the key is shown once."""


@keys.command()
@click.option(
    "--env",
    "env_name",
    required=True,
    metavar="NAME",
    help="The environment: 1 to 32 of a-z, 0-9 and '-' (dev, staging, prod...). Created by its first key.",
)
@click.option(
    "--stack",
    metavar="NAME",
    help="A deployed CloudFormation stack: mint into its table with your AWS credentials. "
    "Default: the running local stack.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WAITPOINTS_STATE_DIR",
    show_envvar=True,
    default=Path(".waitpoints"),
    show_default=True,
    help="Where the local stack wrote local.env.",
)
def create(env_name: str, stack: str | None, state_dir: Path) -> None:
    """Mint a secret key and print only the key, so that $(waitpoints keys create --env prod --stack s) captures it."""
    api_keys = import_server_module("waitpoints_admin.api_keys", "keys create")  # the code behind make key
    aws_errors = import_server_module("botocore.exceptions", "keys create")

    argv = ["--env", env_name, "--state-dir", str(state_dir)] + (["--stack", stack] if stack else [])
    try:
        code: int = api_keys.main(argv)
    except aws_errors.NoCredentialsError:
        raise click.ClickException(
            "no AWS credentials: configure them (aws configure, AWS_PROFILE...) to mint into a deployed stack"
        ) from None
    except aws_errors.ClientError as error:
        denied = error.response.get("Error", {}).get("Code") in (
            "AccessDenied",
            "AccessDeniedException",
            "UnrecognizedClientException",
            "ExpiredToken",
        )
        raise (AWSAuthFailure if denied else click.ClickException)(f"AWS refused: {error}") from None
    if code:
        click.get_current_context().exit(code)
