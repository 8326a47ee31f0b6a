"""The soak run's short version (`make soak` runs it for 10 minutes): mixed load on a fresh local stack, then
every token in its expected final state, every workflow resumed once, the stack's RSS flat."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.local_stack import REPO, python_env

pytestmark = pytest.mark.stack


def test_a_short_soak_run_ends_with_every_token_in_its_final_state_and_rss_flat() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--seconds", "20", "--workers", "6"],
        cwd=REPO,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wrong final states 0; problems 0" in result.stdout and ": flat" in result.stdout, result.stdout
