"""make logs / delete / invoke: usage errors name the right target, and `make invoke` runs a handler on the
embedded AWS with a sample event, no Docker (waitpoints_local.invoke)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from waitpoints_local.invoke import PLACEHOLDER_HASH, PLACEHOLDER_ID, PLACEHOLDER_KEY, fill_placeholders

REPO = Path(__file__).resolve().parents[2]


def make(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FN", "STACK", "EVENT", "MAKEFLAGS")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True, env=env)


@pytest.mark.skipif((REPO / "samconfig.toml").exists(), reason="a samconfig.toml names a default stack")
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["logs"], "make logs FN=<logical id"),
        (["logs", "FN=ApiFunction"], "make logs FN=ApiFunction STACK=<name>"),
        (["delete"], "make delete STACK=<name>"),
    ],
)
def test_usage_errors_name_the_target_before_installing_anything(args: list[str], says: str) -> None:
    result = make(*args)
    assert result.returncode == 2 and says in result.stdout + result.stderr
    assert "pip install" not in result.stdout  # the check runs before SAM CLI's install


def test_make_help_lists_the_sam_targets() -> None:
    listed = make("help").stdout
    for target in ("deploy", "delete", "logs", "invoke", "run", "test"):
        assert f"make {target} " in listed, target


def test_the_placeholders_of_the_sample_events_are_filled_in() -> None:
    url = "http://127.0.0.1:1/api/v1/waitpoints/tokens/waitpoint_abc/callback/f00d"
    text = json.dumps({"a": f"Bearer {PLACEHOLDER_KEY}", "p": f"/tokens/{PLACEHOLDER_ID}/callback/{PLACEHOLDER_HASH}"})
    assert json.loads(fill_placeholders(text, "wp_dev_k", url)) == {
        "a": "Bearer wp_dev_k",
        "p": "/tokens/waitpoint_abc/callback/f00d",
    }
    events = [p.read_text() for p in (REPO / "events").glob("*.json")]
    assert any(PLACEHOLDER_KEY in e for e in events) and any(PLACEHOLDER_HASH in e for e in events)


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waitpoints_local.invoke", *args], cwd=REPO, capture_output=True, text=True, timeout=180
    )


def test_invoke_without_a_function_or_event_says_what_to_pass() -> None:
    result = invoke("--event", "events/callback_json.json")
    assert result.returncode == 2 and "make invoke FN=<function> EVENT=events/<file>.json" in result.stderr
    assert "CallbackFunction" in result.stderr
    result = invoke("--function", "CallbackFunction", "--event", "events/nope.json")
    assert result.returncode == 2 and "callback_json.json" in result.stderr


@pytest.mark.slow
@pytest.mark.stack
def test_invoke_runs_the_callback_handler_on_a_real_token() -> None:
    result = invoke("--function", "CallbackFunction", "--event", "events/callback_json.json")
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)  # stdout is the handler's return value alone; its logs went to stderr
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"success": True}
