"""The SDK against the lowest and the newest httpx its range (pyproject.toml: httpx>=0.27,<1) allows.

Each runs the SDK's unit tests (no local stack: a mock transport) in a throwaway virtualenv with only that httpx,
pytest, anyio and the cli extra, the SDK taken from this checkout. uv builds the venvs (make installs it into
.venv) in seconds from its cache; pip stands in without it. "Newest" is the newest release below 1 on the index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT_TESTS = ["tests/sdk/test_client_sync.py", "tests/sdk/test_client_async.py", "tests/sdk/test_units.py"]
LOWEST = "httpx==0.27.*"
NEWEST = "httpx>=0.27,<1"
UV = shutil.which("uv", path=str(Path(sys.executable).parent))

pytestmark = pytest.mark.slow


def allowed_range() -> str:
    import tomllib

    (httpx,) = [
        d for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"] if "httpx" in d
    ]
    return httpx.replace(" ", "")


def test_the_tested_range_is_the_declared_one() -> None:
    assert allowed_range() == "httpx>=0.27,<1" == NEWEST


def make_venv(path: Path, requirement: str) -> Path:
    python = path / "bin" / "python"
    packages = [requirement, "pytest==9.2.0", "anyio", "click==8.5.1", "rich==15.0.0"]  # the SDK and its cli extra
    if UV:
        env = {**os.environ, "UV_NATIVE_TLS": "1"}
        subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, str(path)], check=True, env=env)
        subprocess.run([UV, "pip", "install", "--quiet", "--python", str(python), *packages], check=True, env=env)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    return python


@pytest.mark.parametrize("requirement", [LOWEST, NEWEST], ids=["lowest", "newest"])
def test_the_sdk_unit_tests_pass_with(requirement: str, tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", requirement)
    version = subprocess.run(
        [str(python), "-c", "import httpx; print(httpx.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if requirement == LOWEST:
        assert version.startswith("0.27."), version
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(REPO / "sdk")
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *UNIT_TESTS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"httpx {version}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
