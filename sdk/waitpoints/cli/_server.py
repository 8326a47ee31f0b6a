"""The server's code (``waitpoints_core``, ``waitpoints_local``, ``waitpoints_admin``) for ``keys`` and ``dev``.

The SDK installs without the server. These two commands need a clone of the repository on the import path:
an editable install of it (``pip install -e '.[cli]'``, as ``make`` does), or its folders on ``PYTHONPATH``
(as ``make`` sets it). Nothing here edits ``sys.path``: a missing module is explained instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from types import ModuleType

SERVER_DIRS = ("layers/core", "local", "admin", ".")


def _is_repo(path: Path) -> bool:
    return (path / "template.yaml").is_file() and (path / "local" / "waitpoints_local").is_dir()


def find_repo() -> Path | None:
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents, Path(__file__).resolve().parents[3]):
        if _is_repo(candidate):
            return candidate
    return None


def _missing_server_code(command: str, package: str) -> click.ClickException:
    repo = find_repo()
    if repo is None:
        return click.ClickException(
            f"'waitpoints {command}' needs the waitpoints repository (template.yaml, local/, layers/, admin/): "
            "install a clone with pip install -e '.[cli]'"
        )
    path = os.pathsep.join(str(repo / d) if d != "." else str(repo) for d in SERVER_DIRS)
    return click.ClickException(
        f"'waitpoints {command}' cannot import {package}: in {repo}, run pip install -e '.[cli]' "
        f"(or make, which does), or set PYTHONPATH={path}"
    )


def import_server_module(name: str, command: str) -> ModuleType:
    """Import a module of the server's code, explaining a missing package or dependency instead of a traceback."""
    package = name.split(".", 1)[0]
    if importlib.util.find_spec(package) is None:
        raise _missing_server_code(command, package)
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if error.name and error.name.split(".")[0] in ("waitpoints_core", "waitpoints_local", "waitpoints_admin"):
            raise _missing_server_code(command, error.name) from None
        raise click.ClickException(
            f"'waitpoints {command}' needs the repository's development dependencies ({error.name} is missing): "
            "run 'make run' once, or pip install -r requirements-dev.txt -c constraints.txt"
        ) from None
