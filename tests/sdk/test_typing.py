"""The SDK is typed: mypy --strict passes on the package alone (as users' type checkers will see it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[2] / "sdk"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (make test installs it)")
def test_mypy_strict_passes_on_the_sdk(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(SDK.parent / ".mypy_cache"),
            "--no-error-summary",
            "waitpoints",
        ],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
