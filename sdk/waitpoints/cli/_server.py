"""Finding the server's code (``waitpoints_core``, ``waitpoints_local``) for ``keys`` and ``dev``.

The SDK installs without the server. These two commands work in a clone of the repository: from the
clone's directory (or below it), or from an editable install of it (``pip install -e '.[cli]'``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from types import ModuleType


def _is_repo(path: Path) -> bool:
    return (path / "template.yaml").is_file() and (path / "local" / "waitpoints_local").is_dir()


def find_repo() -> Path | None:
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents, Path(__file__).resolve().parents[3]):
        if _is_repo(candidate):
            return candidate
    return None


def use_server_code(command: str) -> None:
    """Make ``waitpoints_local`` importable (here and in the processes it starts), or fail with a hint."""
    if importlib.util.find_spec("waitpoints_local") is not None and importlib.util.find_spec("functions"):
        return
    repo = find_repo()
    if repo is None:
        raise click.ClickException(
            f"'waitpoints {command}' needs the waitpoints repository (template.yaml, local/, layers/): "
            "run it inside a clone, or install the clone with pip install -e '.[cli]'"
        )
    paths = [str(repo / "layers" / "core"), str(repo / "local"), str(repo)]
    sys.path[:0] = [p for p in paths if p not in sys.path]
    current = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + ([current] if current else []))


def import_server_module(name: str, command: str) -> ModuleType:
    """Import a module of the server's code, explaining a missing dependency instead of a traceback."""
    use_server_code(command)
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise click.ClickException(
            f"'waitpoints {command}' needs the repository's development dependencies ({error.name} is missing): "
            "run 'make run' once, or pip install -r requirements-dev.txt -c constraints.txt"
        ) from None
