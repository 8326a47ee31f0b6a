"""``waitpoints dev``: the local stack, the same one ``make run`` starts."""

from __future__ import annotations

from pathlib import Path

import click

from ._server import import_server_module


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
    """Run the whole service locally on an embedded AWS emulation, until Ctrl-C.

    Prints the API URL and a dev secret key, and writes both to <state-dir>/local.env, which the other
    commands read when --api-url and --secret-key are not given.
    """
    local_stack = import_server_module("waitpoints_local.__main__", "dev")

    code: int = local_stack.main(["--port", str(port), "--host", host, "--state-dir", str(state_dir)])
    if code:
        click.get_current_context().exit(code)
