"""Starting the local stack from tests: a free port, the interpreter environment, waiting for local.env."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python_env(**extra: str) -> dict[str, str]:
    """This environment, with the project's import paths and a fast local timeout sweep."""
    paths = os.pathsep.join(str(REPO / p) for p in ("layers/core", "local", "."))
    return {**os.environ, "PYTHONPATH": paths, "WAITPOINTS_SCHEDULE_SECONDS": "1", **extra}


def wait_for_env_file(proc: subprocess.Popen[bytes] | subprocess.Popen[str], state_dir: Path,
                      timeout: float = 60) -> dict[str, str]:
    """Block until the stack has written local.env (it does so once it serves); return its values."""
    env_file = state_dir / "local.env"
    deadline = time.monotonic() + timeout
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the local stack did not start (exit code {proc.poll()})")
        time.sleep(0.1)
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
