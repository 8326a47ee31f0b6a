"""The `make run` contract: WAITPOINTS_PORT, .waitpoints/local.env, a dev key that works, a clean Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx

from tests.local_stack import REPO, default_sigint, free_port, python_env, wait_for_env_file

if TYPE_CHECKING:
    from pathlib import Path


def test_make_run_serves_on_waitpoints_port_writes_local_env_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = python_env(WAITPOINTS_PORT=str(port), WAITPOINTS_STATE_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "waitpoints_local"],
        cwd=REPO,
        env=env,
        preexec_fn=default_sigint,
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


def _second_run(port: int, state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = python_env(WAITPOINTS_PORT=str(port), WAITPOINTS_STATE_DIR=str(state_dir))
    return subprocess.run(
        [sys.executable, "-m", "waitpoints_local"],
        cwd=REPO,
        env=env,
        preexec_fn=default_sigint,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_second_make_run_leaves_the_first_alone_and_says_why_in_one_line(tmp_path: Path) -> None:
    """Issue 14, #11: a second `make run` used to delete the first stack's local.env, then crash with an
    `OSError: Address already in use` traceback and print "stopped"."""
    port, first_dir, other_dir = free_port(), tmp_path / "first", tmp_path / "other"
    env = python_env(WAITPOINTS_PORT=str(port), WAITPOINTS_STATE_DIR=str(first_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "waitpoints_local"],
        cwd=REPO,
        env=env,
        preexec_fn=default_sigint,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        values = wait_for_env_file(proc, first_dir)
        before = (first_dir / "local.env").read_text()
        attempts = {
            "same directory, same port": _second_run(port, first_dir),
            "same directory, another port": _second_run(free_port(), first_dir),
            "another directory, same port": _second_run(port, other_dir),
        }
        for case, second in attempts.items():
            lines = second.stderr.strip().splitlines()
            assert second.returncode == 1, (case, second.stderr)
            assert len(lines) == 1 and lines[0].startswith("error: "), (case, second.stderr)
            assert "Traceback" not in second.stderr and "stopped" not in second.stderr, case
            assert second.stdout == "", case
        assert "another local stack" in attempts["same directory, same port"].stderr
        assert f"{port}" in attempts["another directory, same port"].stderr
        assert "WAITPOINTS_PORT" in attempts["another directory, same port"].stderr
        assert (first_dir / "local.env").read_text() == before  # the first stack's file, untouched
        assert not (other_dir / "local.env").exists()
        response = httpx.post(
            f"{values['WAITPOINTS_API_URL']}/api/v1/waitpoints/tokens",
            json={},
            headers={"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"},
        )
        assert response.status_code == 200  # the first stack still serves
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0 and not (first_dir / "local.env").exists()


def test_make_revoke_key_without_key_id_names_its_own_target() -> None:
    """It used to report an error from "make key" (argparse's, for the missing --revoke value)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "revoke-key"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "make revoke-key KEY_ID=" in result.stderr and "make key " not in result.stderr
    assert result.stdout == ""  # checked before any prerequisite ran
