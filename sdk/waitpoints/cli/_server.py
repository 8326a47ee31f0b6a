"""The clone's commands: ``dev``, ``keys`` and ``signing-keys`` run the server's own code, so they are not in the SDK.

They live in ``waitpoints_admin.cli``, in a clone of the repository. When that package can be imported (an editable
install of the clone, ``pip install -e '.[cli]'``, which ``make run`` does, or its folders on ``PYTHONPATH``), its
commands are added to ``waitpoints``; otherwise each is a stand-in that says what it needs and exits 2. Nothing
here imports the server's packages by name (import-linter: the SDK speaks HTTP only) or edits ``sys.path``.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

CLONE_PACKAGE = "waitpoints_admin.cli"
CLONE_COMMANDS = {
    "dev": "Run the local stack (needs a clone of the repository).",
    "keys": "Secret API keys: create, list, revoke (needs a clone of the repository).",
    "signing-keys": "Rotate and retire signing keys (needs a clone of the repository).",
}
NEEDS_CLONE = (
    "'waitpoints {name}' runs the server's own code, which the waitpoints package does not ship: "
    "in a clone of the repository run 'make run' once (it installs the clone with pip install -e '.[cli]'), "
    "then use .venv/bin/waitpoints {name} ...; the make targets do the same (make help)."
)


class NeedsClone(click.ClickException):
    exit_code = 2


def _stand_in(name: str, summary: str) -> click.Command:
    def explain(**_: Any) -> None:
        raise NeedsClone(NEEDS_CLONE.format(name=name))

    return click.Command(
        name,
        callback=explain,
        help=summary + "\n\n" + NEEDS_CLONE.format(name=name),
        short_help=summary,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=True,
    )


def clone_commands() -> list[click.Command]:
    """The clone's commands when its code is importable, else stand-ins that say what they need."""
    if importlib.util.find_spec(CLONE_PACKAGE.split(".", maxsplit=1)[0]) is not None:
        try:
            module = importlib.import_module(CLONE_PACKAGE)
        except ImportError:  # the clone without its dependencies (make run installs them)
            pass
        else:
            return list(module.COMMANDS)
    return [_stand_in(name, summary) for name, summary in CLONE_COMMANDS.items()]
