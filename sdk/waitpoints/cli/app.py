"""The root ``waitpoints`` group, and ``run``: one place where errors become messages and exit codes."""

from __future__ import annotations

import click

from .. import WaitpointsError, __version__
from ._server import clone_commands
from .output import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, Output, describe_error, exit_code
from .tokens import tokens

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EPILOG = """\b
Exit codes: 0 success; 1 failure (message on stderr); 2 usage or configuration error;
3 'tokens wait' ended without a completion; 4 authentication or permission failure; 130 Ctrl-C.
"""


@click.group(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.version_option(__version__, "--version", prog_name="waitpoints")
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colour on or off (default: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it).",
)
@click.pass_context
def cli(ctx: click.Context, color: bool | None) -> None:
    """Waitpoint tokens from the terminal: create, inspect, complete and wait on tokens, mint keys, and run
    the local stack.

    \b
    Quick start:
      waitpoints dev                                   # terminal 1: the local stack
      waitpoints tokens create --timeout 1h --tag order:42
      waitpoints tokens complete <id> '{"status": "approved"}'
      waitpoints tokens wait <id>
    """
    ctx.obj = Output(color)


cli.add_command(tokens)
for command in clone_commands():  # dev, keys, signing-keys: from a clone of the repository (waitpoints_admin.cli)
    cli.add_command(command)


def color_choice(argv: list[str]) -> bool | None:
    """--color / --no-color as given (the last wins), so that errors reported outside a command obey it too."""
    choice: bool | None = None
    for arg in argv:
        if arg == "--":
            break
        if arg in ("--color", "--no-color"):
            choice = arg == "--color"
    return choice


def run(argv: list[str]) -> int:
    """Run the CLI with ``argv``; return the exit code. Every failure is reported here, once."""
    output = Output(color_choice(argv))
    try:
        result = cli.main(argv, prog_name="waitpoints", standalone_mode=False)
    except click.exceptions.Abort:
        output.error("interrupted")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        output.error("interrupted")
        return EXIT_INTERRUPTED
    except click.ClickException as error:  # usage errors: 2
        if isinstance(error, click.UsageError):
            error.show()  # with the usage line and the --help hint
        else:
            output.error(error.format_message())
        return error.exit_code
    except WaitpointsError as error:
        output.error(describe_error(error))
        return exit_code(error)
    except Exception as error:  # the last resort: a readable crash, exit 1
        output.crash(error)
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK
