"""The clone's commands of ``waitpoints``: ``dev``, ``keys create|list|revoke``, ``signing-keys rotate|retire``.

They run the server's own code (the local stack, the key store, the signing secret), so they are not in the SDK's
wheel: the SDK's CLI adds them when this package can be imported, which an editable install of a clone gives
(``make run`` does one), and otherwise says what they need (``waitpoints.cli._server``). The make targets (``make
key``, ``keys``, ``revoke-key``, ``rotate-signing-key``, ``retire-signing-key``) call the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from waitpoints.cli.output import EXIT_AUTH, EXIT_USAGE, Output

# The key and signing modules (boto3, the core) are imported by the commands that use them: every `waitpoints`
# call loads this module, and `waitpoints tokens ...` should not pay for boto3.
F = TypeVar("F", bound=Callable[..., Any])
CLI_STACK = "--stack NAME"
AWS_DENIED = (
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
)


class AdminFailure(click.ClickException):
    """An admin refusal or failure (exit 1)."""

    exit_code = 1


class AdminConfigurationError(AdminFailure):
    """Where to act is unknown or unusable (exit 2)."""

    exit_code = EXIT_USAGE


class AWSAuthFailure(AdminFailure):
    """AWS refused the caller's credentials (exit 4)."""

    exit_code = EXIT_AUTH


def failure(message: str, exit_code: int = 1) -> AdminFailure:
    kind = {EXIT_USAGE: AdminConfigurationError, EXIT_AUTH: AWSAuthFailure}.get(exit_code, AdminFailure)
    return kind(message)


@contextmanager
def reported() -> Iterator[None]:
    """Admin and AWS errors as CLI errors, with the CLI's exit codes."""
    try:
        from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError
    except ImportError as error:
        raise failure(
            f"the repository's dependencies are missing ({error.name}): run 'make run' once in the clone", EXIT_USAGE
        ) from None

    from .stacks import AdminError

    try:
        yield
    except ImportError as error:  # a clone without its dependencies
        raise failure(
            f"the repository's dependencies are missing ({error.name}): run 'make run' once in the clone", EXIT_USAGE
        ) from None
    except AdminError as error:
        raise failure(error.message, error.exit_code) from None
    except NoCredentialsError:
        raise failure(
            "no AWS credentials: configure them (aws configure, AWS_PROFILE...) to act on a deployed stack", EXIT_USAGE
        ) from None
    except NoRegionError:
        raise failure("no AWS region: set AWS_REGION=<the stack's region>", EXIT_USAGE) from None
    except ClientError as error:
        denied = error.response.get("Error", {}).get("Code") in AWS_DENIED
        raise failure(f"AWS refused: {error}", EXIT_AUTH if denied else 1) from None


def target_options(command: F) -> F:
    """``--stack NAME`` and ``--state-dir``: a deployed stack, or the running local stack."""
    command = click.option(
        "--state-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="WAITPOINTS_STATE_DIR",
        show_envvar=True,
        default=Path(".waitpoints"),
        show_default=True,
        help="Where the local stack wrote local.env.",
    )(command)
    return click.option(
        "--stack",
        metavar="NAME",
        help="A deployed CloudFormation stack, with your AWS credentials (AWS_REGION: its region). "
        "Default: the running local stack.",
    )(command)


# --- waitpoints dev ---------------------------------------------------------------------------------------------


@click.command()
@click.option(
    "--port",
    type=int,
    envvar="WAITPOINTS_PORT",
    show_envvar=True,
    default=3000,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WAITPOINTS_STATE_DIR",
    show_envvar=True,
    default=Path(".waitpoints"),
    show_default=True,
    help="Where local.env (the API URL and a dev secret key) is written.",
)
def dev(port: int, host: str, state_dir: Path) -> None:
    """Run the whole service locally on an embedded AWS emulation, until Ctrl-C (the same as make run).

    Prints the API URL and a dev secret key, and writes both to <state-dir>/local.env, which the other
    commands read when --api-url and --secret-key are not given.
    """
    from waitpoints_local.__main__ import main

    code = main(["--port", str(port), "--host", host, "--state-dir", str(state_dir)])
    if code:
        click.get_current_context().exit(code)


# --- waitpoints keys --------------------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Secret API keys: create, list, revoke. Only the SHA-256 of a key is stored; the key is shown once."""


@keys.command()
@click.option(
    "--env",
    "env_name",
    required=True,
    metavar="NAME",
    help="The environment: 1 to 32 of a-z, 0-9 and '-' (dev, staging, prod...). Created by its first key.",
)
@target_options
def create(env_name: str, stack: str | None, state_dir: Path) -> None:
    """Mint a secret key and print only the key, so that $(waitpoints keys create --env prod --stack s) captures it."""
    with reported():
        from . import api_keys

        key = api_keys.create(api_keys.store(stack, state_dir, CLI_STACK), env_name)
    click.echo(key)


@keys.command(name="list")
@target_options
def list_(stack: str | None, state_dir: Path) -> None:
    """List the keys: id, environment, hint and creation time (never the keys themselves)."""
    with reported():
        from . import api_keys

        rows = api_keys.listed(api_keys.store(stack, state_dir, CLI_STACK))
    for key in rows:
        click.echo(api_keys.row(key))


@keys.command()
@click.argument("key_id", metavar="KEY_ID")
@target_options
@click.pass_obj
def revoke(out: Output, key_id: str, stack: str | None, state_dir: Path) -> None:
    """Revoke the key with KEY_ID (the first column of 'waitpoints keys list')."""
    with reported():
        from . import api_keys

        message = api_keys.revoke(api_keys.store(stack, state_dir, CLI_STACK), key_id, "waitpoints keys list")
    out.success(message)


# --- waitpoints signing-keys ------------------------------------------------------------------------------------


@click.group(name="signing-keys")
def signing_keys_group() -> None:
    """The keys that sign callback URLs and public access tokens: rotate, retire."""


@signing_keys_group.command()
@target_options
@click.pass_obj
def rotate(out: Output, stack: str | None, state_dir: Path) -> None:
    """Add a signing key that signs from now on; outstanding URLs and access tokens stay valid."""
    with reported():
        from . import signing_keys

        message = signing_keys.rotate(signing_keys.secret_arn(stack, state_dir, CLI_STACK))
    out.success(message)


@signing_keys_group.command()
@click.argument("kid", metavar="KID")
@click.option("--force", is_flag=True, help="Retire at once, even while warm functions may still sign with it.")
@target_options
@click.pass_obj
def retire(out: Output, kid: str, force: bool, stack: str | None, state_dir: Path) -> None:
    """Remove the old signing key KID (k1, k2...): what it signed stops working."""
    with reported():
        from . import signing_keys

        message = signing_keys.retire(signing_keys.secret_arn(stack, state_dir, CLI_STACK), kid, force, "--force")
    out.success(message)


COMMANDS: tuple[click.Command, ...] = (dev, keys, signing_keys_group)
