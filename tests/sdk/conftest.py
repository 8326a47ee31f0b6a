"""Fixtures for the SDK, CLI and TypeScript SDK tests: ONE local stack for the whole session.

As in tests/blackbox, a fresh local stack is started on a free port, unless WAITPOINTS_API_URL and
WAITPOINTS_SECRET_KEY point at a running one (then the tests that need the local stack's files skip).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.local_stack import python_env, running_stack

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SdkStack:
    url: str
    key: str
    state_dir: Path | None  # the local stack's state dir (local.env), None for a stack we did not start

    def env(self) -> dict[str, str]:
        return {"WAITPOINTS_API_URL": self.url, "WAITPOINTS_SECRET_KEY": self.key}


def server_env() -> dict[str, str]:
    """The environment the server's code runs in from this repository (as `make run` sets it)."""
    return python_env()


@pytest.fixture(scope="session")
def sdk_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkStack]:
    if os.environ.get("WAITPOINTS_API_URL") and os.environ.get("WAITPOINTS_SECRET_KEY"):
        yield SdkStack(os.environ["WAITPOINTS_API_URL"].rstrip("/"), os.environ["WAITPOINTS_SECRET_KEY"], None)
        return
    state = tmp_path_factory.mktemp("sdk-stack")
    with running_stack(state) as values:
        yield SdkStack(values["WAITPOINTS_API_URL"], values["WAITPOINTS_SECRET_KEY"], state)


@pytest.fixture(scope="session")
def local_state(sdk_stack: SdkStack) -> Path:
    if sdk_stack.state_dir is None:
        pytest.skip("needs a local stack started by the tests")
    return sdk_stack.state_dir


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


TS_DIR = Path(__file__).resolve().parents[1] / "sdk_ts"  # the pinned @trigger.dev/sdk


@pytest.fixture(scope="session")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the TypeScript SDK tests")
    if not (TS_DIR / "node_modules" / "@trigger.dev" / "sdk" / "package.json").exists():
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=TS_DIR, capture_output=True, text=True, timeout=600
        )
        assert install.returncode == 0, f"npm ci failed:\n{install.stdout}\n{install.stderr}"
    version = json.loads((TS_DIR / "node_modules" / "@trigger.dev" / "sdk" / "package.json").read_text())["version"]
    assert version == "4.8.3"
    return node
