"""`make bench-resume` runs end to end and measures what it says: with the inline resume on, the callback's own
request resumes the waiter (it answers after the resume was accepted); with WAITPOINTS_INLINE_RESUME_MS=0 the
stream does (the callback answers first). No timings are asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.local_stack import python_env

REPO = Path(__file__).resolve().parents[2]
RUNS = 3
FIGURES = {"p50_ms", "p95_ms", "max_ms", "runs", "answered_first"}


@pytest.mark.slow
def test_the_resume_bench_times_both_paths_and_each_path_is_the_one_it_names(tmp_path: Path) -> None:
    out = tmp_path / "bench-resume.json"
    # A budget no loaded machine runs out of: the inline runs must each be resumed by the callback's request.
    env = python_env(WAITPOINTS_INLINE_RESUME_MS="5000")
    command = [sys.executable, "-m", "bench.resume_latency", "--runs", str(RUNS), "--out", str(out)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text())
    assert set(report) == {"SendTaskSuccess", "SendDurableExecutionCallbackSuccess"}
    for target, modes in report.items():
        inline, stream = modes["inline (the callback resumes)"], modes["stream only"]
        assert set(inline) == set(stream) == FIGURES, target
        assert inline["runs"] == stream["runs"] == RUNS
        assert 0 < inline["p50_ms"] <= inline["p95_ms"] <= inline["max_ms"], target
        assert inline["answered_first"] == 0, target  # the callback answered only after its own resume
        # the stream resumed after the callback answered (once in a while a poll may beat the answer home)
        assert stream["answered_first"] >= RUNS - 1, target
    assert "| SendTaskSuccess | stream only |" in result.stdout  # the table
