"""The ``waitpoints`` command. It needs the ``cli`` extra: ``pip install 'waitpoints[cli]'`` (click and rich)."""

from __future__ import annotations

import sys

INSTALL_HINT = (
    "The waitpoints command needs the 'cli' extra (click and rich):\n"
    "    pip install 'waitpoints[cli]'\n"
    "or, in a clone of the repository:  make test   (or: .venv/bin/pip install -e '.[cli]')"
)


def main() -> None:
    """Run the CLI; exit with its status code (see ``waitpoints --help``)."""
    try:
        from .app import run
    except ImportError as error:  # click or rich is missing
        if error.name not in ("click", "rich") and not str(error.name or "").startswith(("click.", "rich.")):
            raise
        print(f"error: {error.name} is not installed.\n{INSTALL_HINT}", file=sys.stderr)
        sys.exit(1)
    sys.exit(run(sys.argv[1:]))


__all__ = ["INSTALL_HINT", "main"]
