"""Starting the local stack from tests: a free port, the interpreter environment, waiting for local.env."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_sigint() -> None:
    """In the child: Ctrl-C raises KeyboardInterrupt even if this test run was started with SIGINT ignored (as a
    background job of a non-interactive shell is)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def python_env(**extra: str) -> dict[str, str]:
    """This environment, with the project's import paths and a fast local timeout sweep."""
    paths = os.pathsep.join(str(REPO / p) for p in ("layers/core", "local", "admin", "."))
    return {**os.environ, "PYTHONPATH": paths, "WAITPOINTS_SCHEDULE_SECONDS": "1", **extra}


def wait_for_env_file(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str], state_dir: Path, timeout: float = 60
) -> dict[str, str]:
    """Block until the stack has written local.env (it does so once it serves); return its values."""
    env_file = state_dir / "local.env"
    deadline = time.monotonic() + timeout
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the local stack did not start (exit code {proc.poll()})")
        time.sleep(0.1)
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)


@contextmanager
def running_stack(state_dir: Path, **env: str) -> Iterator[dict[str, str]]:
    """A local stack in a subprocess on a free port, its log in state_dir/stack.log; yields local.env's values
    and stops the stack with Ctrl-C afterwards."""
    log = (state_dir / "stack.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "waitpoints_local", "--port", str(free_port()), "--state-dir", str(state_dir)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=python_env(**env),
        preexec_fn=default_sigint,
    )
    try:
        try:
            values = wait_for_env_file(proc, state_dir)
        except RuntimeError as error:
            raise RuntimeError(f"{error}:\n{(state_dir / 'stack.log').read_text()}") from None
        yield values
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def admin(module: str, state_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run an admin command (waitpoints_admin.api_keys or .signing_keys) against a running local stack."""
    return subprocess.run(
        [sys.executable, "-m", f"waitpoints_admin.{module}", *args, "--state-dir", str(state_dir)],
        cwd=REPO,
        env=python_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )
