"""README's reference tables and commands cannot drift from the code: every template parameter is in the
configuration table with its default, every WAITPOINTS_* variable the code reads is documented, every `make`
target README names exists, and every `waitpoints` command it shows parses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from waitpoints_local.template import Template

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
SECTION = README.split("## Configuration\n", 1)[1].split("\n## ", 1)[0]


def test_every_template_parameter_is_documented_with_its_default() -> None:
    parameters = Template().doc["Parameters"]
    for name, spec in parameters.items():
        row = next((line for line in SECTION.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"README's configuration table lacks the template parameter {name}"
        default = spec.get("Default")
        assert ("empty" if default in ("", None) else f"`{default}`") in row, (name, row)


def test_every_variable_the_code_reads_is_documented() -> None:
    read: set[str] = set()
    for folder in ("layers/core", "local", "admin", "sdk/waitpoints"):
        for path in (REPO / folder).rglob("*.py"):
            read |= set(re.findall(r"""["'](WAITPOINTS_[A-Z_]+)["']""", path.read_text()))
    documented = set(re.findall(r"`(WAITPOINTS_[A-Z_]+)`", SECTION))
    assert read - documented == set(), "document these in README's configuration table"


def test_every_make_target_readme_names_exists() -> None:
    targets = set(re.findall(r"(?m)^([a-z][a-z-]*):", (REPO / "Makefile").read_text()))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README)) | set(re.findall(r"(?m)^\s*make ([a-z][a-z-]*)", README))
    assert named - targets == set(), "README names make targets that do not exist"


def _cli_paths() -> set[tuple[str, ...]]:
    paths = set()
    for line in re.findall(r"(?m)^\s*(?:\$ )?waitpoints ([a-z][a-z -]*)", README):
        words = [w for w in line.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
        if words:
            paths.add(tuple(words[:2]))
    return paths


@pytest.mark.parametrize("path", sorted(_cli_paths()))
def test_every_waitpoints_command_readme_shows_exists(path: tuple[str, ...]) -> None:
    for depth in range(len(path), 0, -1):  # `waitpoints tokens create`, else `waitpoints dev`
        run = subprocess.run(
            [sys.executable, "-m", "waitpoints.cli", *path[:depth], "--help"],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
        )
        if run.returncode == 0:
            return
    pytest.fail(f"`waitpoints {' '.join(path)}` from README is not a command: {run.stderr[-500:]}")
