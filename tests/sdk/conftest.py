"""Fixtures for the SDK, CLI and TypeScript SDK tests: ONE local stack for the whole session.

As in tests/blackbox, a fresh local stack is started on a free port, unless WAITPOINTS_API_URL and
WAITPOINTS_SECRET_KEY point at a running one (then the tests that need the local stack's files skip).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    """The environment the server's code runs in from this repository (as `make run` sets it)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "layers/core"), str(REPO / "local"), str(REPO)])}


@pytest.fixture(scope="session")
def sdk_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkStack]:
    if os.environ.get("WAITPOINTS_API_URL") and os.environ.get("WAITPOINTS_SECRET_KEY"):
        yield SdkStack(os.environ["WAITPOINTS_API_URL"].rstrip("/"), os.environ["WAITPOINTS_SECRET_KEY"], None)
        return
    state = tmp_path_factory.mktemp("sdk-stack")
    log = (state / "stack.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "waitpoints_local", "--port", str(_free_port()), "--state-dir", str(state)],
        cwd=REPO, env={**server_env(), "WAITPOINTS_SCHEDULE_SECONDS": "1"}, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # Ctrl-C stops it even if we ignore SIGINT
    )
    env_file = state / "local.env"
    deadline = time.monotonic() + 60
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"local stack did not start:\n{(state / 'stack.log').read_text()}")
        time.sleep(0.1)
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    try:
        yield SdkStack(values["WAITPOINTS_API_URL"], values["WAITPOINTS_SECRET_KEY"], state)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def list_route(sdk_stack: SdkStack) -> bool:
    """Whether the stack serves GET /api/v1/waitpoints/tokens (listing), probed once."""
    response = httpx.get(f"{sdk_stack.url}/api/v1/waitpoints/tokens", params={"page[size]": "1"},
                         headers={"Authorization": f"Bearer {sdk_stack.key}"}, timeout=30)
    return response.status_code == 200


@pytest.fixture
def needs_list(list_route: bool) -> None:
    if not list_route:
        pytest.skip("the stack has no list route (GET /api/v1/waitpoints/tokens) yet")


@pytest.fixture(scope="session")
def local_state(sdk_stack: SdkStack) -> Path:
    if sdk_stack.state_dir is None:
        pytest.skip("needs a local stack started by the tests")
    return sdk_stack.state_dir


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
