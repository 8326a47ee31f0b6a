"""What `make bench` relies on and what its figures showed must stay true. No timings are asserted here.

- The benchmark runs end to end on one iteration (floors, counters, canned answers, cold-start children) and
  writes bench.json with the contract's keys.
- Create, complete and the callback are one DynamoDB request each on the warm path; retrieve is two (the token,
  then its waiters). Complete and the callback of a token a workflow waits on add the inline resume's Query and
  the waiter's delete.
- What was taken off the cold path stays off it: boto3 everywhere, PyJWT except to verify a token, pydantic
  and Powertools' OpenAPI models until a request needs them.
- The hand-rolled access-token minting writes exactly what PyJWT writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from waitpoints_core.signing import SigningKeys

REPO = Path(__file__).resolve().parents[2]
OPERATIONS = (
    "create",
    "create_cached",
    "retrieve",
    "complete",
    "complete_schema",
    "complete_with_waiter",
    "callback",
    "callback_with_waiter",
    "list",
    "resume",
)
KEYS = {
    "ddb_requests",
    "rcu",
    "wcu",
    "handler_p50_us",
    "handler_p99_us",
    "floor_p50_us",
    "cold_ms",
    "cold_floor_ms",
    "rss_mb",
}


def _env() -> dict[str, str]:
    paths = os.pathsep.join(str(REPO / p) for p in ("layers/core", "local", "."))
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")} | {"PYTHONPATH": paths}


@pytest.mark.slow
def test_the_bench_runs_once_and_writes_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.perf_bench", "--quick", "--no-throughput", "--out", str(out)],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text())
    assert set(report) == {"operations"}
    assert set(report["operations"]) == set(OPERATIONS)
    for name, figures in report["operations"].items():
        assert set(figures) == KEYS, name
        assert all(isinstance(v, (int, float)) and v >= 0 for v in figures.values()), (name, figures)
    operations = report["operations"]
    report["details"] = json.loads((tmp_path / "bench-details.json").read_text())
    for name in ("create", "create_cached", "list"):
        assert operations[name]["ddb_requests"] == 1, (name, report["details"]["requests"][name])
    assert report["details"]["requests"]["retrieve"] == ["GetItem", "Query"]  # the token, then its waiters
    for name in ("complete", "callback"):  # the write alone: it says that no workflow waits on the token
        assert report["details"]["requests"][name] == ["UpdateItem"], name
    assert report["details"]["requests"]["resume"] == ["Query", "DeleteItem"]  # the waiters, then the one resumed
    for name in ("complete_with_waiter", "callback_with_waiter"):  # the write, then the inline resume: the token and
        # its waiter in one Query, the waiter deleted once sent
        assert report["details"]["requests"][name] == ["UpdateItem", "Query", "DeleteItem"], name
    assert operations["create"]["wcu"] == 4  # the token and its AllIndex, WaitingIndex and DueIndex entries
    assert operations["complete"]["wcu"] == operations["callback"]["wcu"] == 5
    # A completion schema (issue 15): tokens without one pay nothing, neither a request nor the validator's import;
    # a token with one pays a second write (the first, failed one returns the schema) and the validator.
    assert report["details"]["requests"]["complete_schema"] == ["UpdateItem", "UpdateItem"]
    loads = report["details"]["loads_jsonschema"]
    assert loads["complete_schema"] is True
    assert not any(loads[name] for name in OPERATIONS if name != "complete_schema"), loads
    assert operations["retrieve"]["rcu"] == 2  # one consistent read of an item under 4 KB, one (empty) Query
    assert set(report["details"]["first_request_ms"]) == set(OPERATIONS)
    assert "operation" in result.stdout  # the table


def loaded_after_init(function: str, **environment: str) -> set[str]:
    """The modules (and their top-level packages) a fresh process holds after the function's init."""
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(REPO / 'functions' / function / 'app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "from waitpoints_core import get_service; get_service()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = (
        _env()
        | {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "WAITPOINTS_TABLE_NAME": "t",
            "WAITPOINTS_SIGNING_SECRET_ARN": "s",
        }
        | environment
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    modules = set(json.loads(result.stdout))
    return modules | {name.partition(".")[0] for name in modules}


@pytest.mark.parametrize(
    ("function", "absent"),
    [
        ("api", {"boto3", "jwt", "pydantic", "jsonschema", "aws_lambda_powertools.event_handler.openapi.models"}),
        ("callback", {"boto3", "jwt", "pydantic", "jsonschema"}),
        ("approval", {"boto3", "jwt", "pydantic", "jsonschema", "aws_lambda_powertools.event_handler"}),
        ("stream", {"boto3", "jwt", "pydantic"}),
        ("sweep", {"boto3", "jwt", "pydantic"}),
        ("create_token", {"boto3", "jwt"}),
        ("wait_for_token", {"boto3", "jwt"}),
    ],
)
def test_the_cold_path_imports_stay_off(function: str, absent: set[str]) -> None:
    assert not loaded_after_init(function) & absent


@pytest.mark.parametrize("initialization", ["provisioned-concurrency", "snap-start"])
def test_an_init_ahead_of_traffic_loads_the_request_models(initialization: str) -> None:
    """With provisioned concurrency or SnapStart, init runs before any request, so the API function loads what
    its first create would otherwise pay for then."""
    assert "waitpoints_core.request_models" in loaded_after_init("api", AWS_LAMBDA_INITIALIZATION_TYPE=initialization)
    assert "pydantic" not in loaded_after_init("api", AWS_LAMBDA_INITIALIZATION_TYPE="on-demand")


def test_minted_access_tokens_are_what_pyjwt_writes() -> None:
    keys = SigningKeys.from_secret_string(json.dumps({"current": "k2", "k1": "a" * 64, "k2": "b" * 64}))
    token = keys.mint_access_token("prod", "waitpoint_" + "c" * 25, int(time.time() * 1000))
    claims = jwt.decode(token, options={"verify_signature": False})
    expected = jwt.encode(claims, keys._jwt["k2"], algorithm="HS256", headers={"kid": "k2"})
    assert token == expected
    assert keys.verify_access_token(token) == ("prod", ("write:waitpoints:waitpoint_" + "c" * 25,))


def test_the_notify_bench_reports_both_transports() -> None:
    """`make bench-notify` (two runs here): figures for the subscription and for polling, no assertion on them."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.notify_latency", "--runs", "2"],
        cwd=REPO,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("sdk", "layers/core", "local", "admin", ".")),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("completion → client notified")]
    assert [line.split(",")[1].split()[0] for line in lines] == ["subscription", "polling"], result.stdout
