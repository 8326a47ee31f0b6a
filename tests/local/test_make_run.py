"""The `make run` contract: WAITPOINTS_PORT, .waitpoints/local.env, a dev key that works, a clean Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx

from tests.local_stack import REPO, free_port, python_env, wait_for_env_file

if TYPE_CHECKING:
    from pathlib import Path


def test_make_run_serves_on_waitpoints_port_writes_local_env_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = python_env(WAITPOINTS_PORT=str(port), WAITPOINTS_STATE_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "waitpoints_local"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    env_file = tmp_path / "local.env"
    try:
        values = wait_for_env_file(proc, tmp_path)
        assert values["WAITPOINTS_API_URL"] == f"http://127.0.0.1:{port}"
        assert values["WAITPOINTS_SECRET_KEY"].startswith("wp_dev_")
        assert values["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert env_file.stat().st_mode & 0o077 == 0  # the file holds a secret
        response = httpx.post(
            f"{values['WAITPOINTS_API_URL']}/api/v1/waitpoints/tokens",
            json={},
            headers={"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"},
        )
        assert response.status_code == 200
        assert httpx.get(f"{values['AWS_ENDPOINT_URL']}/moto-api/").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert values["WAITPOINTS_SECRET_KEY"] in stdout and values["WAITPOINTS_API_URL"] in stdout
    assert "Traceback" not in stderr
    assert not env_file.exists()
