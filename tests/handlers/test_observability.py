"""What operators see: EMF metrics per outcome, and X-Ray loaded only when tracing is enabled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .support import with_body, with_hash, with_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from .conftest import Deployment, Invoke

REPO = Path(__file__).resolve().parents[2]


def _metrics(output: str) -> list[dict[str, Any]]:
    """The EMF documents among the captured log lines: {metric name: value, dimension: value, ...}."""
    found = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            found.append({k: v for k, v in document.items() if k != "_aws"})
    return found


def test_callback_outcomes_are_counted_by_reason(
    aws: Deployment,
    callback: Invoke,
    create: Callable[..., dict[str, Any]],
    load_event: Callable[[str], dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = create()
    url_hash = token["url"].rsplit("/", 1)[1]

    def event() -> dict[str, Any]:
        return with_id(load_event("callback_json"), token["id"])

    callback(with_hash(event(), "0" * 64))
    callback(with_body(with_hash(event(), url_hash), "x" * (3 * 1024 * 1024 + 1), content_type="text/plain"))
    callback(with_hash(event(), url_hash))
    metrics = _metrics(capsys.readouterr().out)
    rejected = {m["reason"]: m for m in metrics if "CallbacksRejected" in m}
    assert set(rejected) == {"Unauthenticated", "PayloadTooLarge"}
    assert rejected["Unauthenticated"]["CallbacksRejected"] == [1.0]
    assert rejected["Unauthenticated"]["service"] == "waitpoints"
    assert [m["TokensCompleted"] for m in metrics if "TokensCompleted" in m] == [[1.0]]


def test_create_and_complete_are_counted(
    api: Invoke, create: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    create()
    create({"idempotencyKey": "k"})
    create({"idempotencyKey": "k"})
    names = [name for m in _metrics(capsys.readouterr().out) for name in m]
    assert names.count("TokensCreated") == 2 and names.count("IdempotentCreates") == 1


@pytest.mark.parametrize(("tracing", "loaded"), [("false", False), ("true", True)])
def test_xray_is_imported_only_when_tracing_is_enabled(tracing: str, loaded: bool) -> None:
    script = (
        "import importlib.util, sys; spec = importlib.util.spec_from_file_location('app', sys.argv[1]);"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module);"
        "print('aws_xray_sdk' in sys.modules)"
    )
    env = {
        "PYTHONPATH": f"{REPO / 'layers/core'}",
        "WAITPOINTS_TRACING": tracing,
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "functions/callback/app.py")], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(loaded)
