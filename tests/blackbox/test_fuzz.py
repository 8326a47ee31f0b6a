"""schemathesis against the running stack, from the OpenAPI document it serves: the CLI's whole run, as
`st run --checks all --phases examples,coverage,fuzzing,stateful`, at least 100 requests per operation, zero
failures. The stateful phase follows the document's links (create → retrieve, complete, list; list →
retrieve, complete, next page; retrieve → complete; complete → retrieve); half the callback requests use
a real token's id and hash (schemathesis dictionaries), so completions through the URL are explored too.

Two allowances, in the generated config. A schema-violating body may be refused with 413 (over the route's
byte limit, which no JSON schema can state) as well as 400/422. And values that the document cannot
describe as invalid may be a 400 on create, list and extend, for `positive_data_acceptance` only: a JSON schema
cannot say "in the future" (a timeout), "at most 365 days away", "at most the retention"
(idempotencyKeyTTL) or "signed by this deployment" (a cursor). Every other check is strict on every
operation, and complete, retrieve and the callback accept every schema-valid request. (schemathesis' pytest plugin
does not run on pytest 9 yet, so the CLI runs in a subprocess; its JSON report and the stack's request log are read
back.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis

from .conftest import Stack
from .helpers import create

MAX_EXAMPLES = 100  # per operation and phase
# Per operation, over all phases, counted in the stack's own request log. schemathesis asks for MAX_EXAMPLES per
# phase but stops early once an operation's distinct inputs run out (an id and a small body: extend, timeout).
MIN_REQUESTS = 50
SEED = int(os.environ.get("WAITPOINTS_FUZZ_SEED", "20261202"))  # fixed: a failure replays; set it to explore
CALLBACK = "/api/v1/waitpoints/tokens/{id}/callback/{hash}"
APPROVAL = "/api/v1/waitpoints/tokens/{id}/approval/{hash}"
OPERATIONS = {
    "POST /api/v1/waitpoints/tokens": "POST /api/v1/waitpoints/tokens",
    "GET /api/v1/waitpoints/tokens": "GET /api/v1/waitpoints/tokens",
    "GET /api/v1/waitpoints/tokens/{id}": "GET /api/v1/waitpoints/tokens/{id}",
    "POST /api/v1/waitpoints/tokens/{id}/complete": "POST /api/v1/waitpoints/tokens/{id}/complete",
    "POST /api/v1/waitpoints/tokens/{id}/reject": "POST /api/v1/waitpoints/tokens/{id}/reject",
    "POST /api/v1/waitpoints/tokens/{id}/timeout": "POST /api/v1/waitpoints/tokens/{id}/timeout",
    "POST /api/v1/waitpoints/tokens/{id}/extend": "POST /api/v1/waitpoints/tokens/{id}/extend",
    f"POST {CALLBACK}": f"ANY {CALLBACK}",  # operation → the route key in the stack's log
}
# schemathesis' default for negative_data_rejection, plus 413: a body over the route's byte limit (10 KB on
# create) is refused before it is read as JSON, and a JSON schema cannot bound a body's size in bytes.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
# schemathesis' default for positive_data_acceptance, plus 400 (see the module docstring)
SEMANTIC_400 = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


@pytest.fixture(scope="module")
def openapi_schema(stack: Stack) -> Any:
    document = httpx.get(f"{stack.url}/api/v1/openapi.json", timeout=30)
    assert document.status_code == 200 and document.headers["content-type"].startswith("application/json")
    schema = schemathesis.openapi.from_dict(document.json())
    schema.config.update(base_url=stack.url)
    return schema


def test_the_document_describes_every_route_and_answer(openapi_schema: Any) -> None:
    paths = openapi_schema.raw_schema["paths"]
    assert {(p, m) for p, ops in paths.items() for m in ops} == {
        ("/api/v1/waitpoints/tokens", "post"),
        ("/api/v1/waitpoints/tokens", "get"),
        ("/api/v1/waitpoints/tokens/{id}", "get"),
        ("/api/v1/waitpoints/tokens/{id}/complete", "post"),
        ("/api/v1/waitpoints/tokens/{id}/timeout", "post"),  # operator actions (issue 17)
        ("/api/v1/waitpoints/tokens/{id}/extend", "post"),
        ("/api/v1/waitpoints/tokens/{id}/reject", "post"),
        (CALLBACK, "post"),
        (APPROVAL, "get"),
        (APPROVAL, "head"),
        (APPROVAL, "post"),
    }
    assert {p["name"] for p in paths["/api/v1/waitpoints/tokens"]["get"]["parameters"]} == {
        "page[size]",
        "page[after]",
        "page[before]",
        "filter[status]",
        "filter[idempotencyKey]",
        "filter[tags]",
        "filter[createdAt][period]",
        "filter[createdAt][from]",
        "filter[createdAt][to]",
    }
    for path, ops in paths.items():
        for method, op in ops.items():
            assert "200" in op["responses"] and "503" in op["responses"], (path, method)
            # 422: more than 10 tags at create; a schema mismatch on complete, the callback and the page's form
            with_422 = ("/api/v1/waitpoints/tokens", "/api/v1/waitpoints/tokens/{id}/complete", CALLBACK)
            assert "422" not in op["responses"] or path in with_422 or (path, method) == (APPROVAL, "post")
    assert openapi_schema.raw_schema["components"]["securitySchemes"]["secretKey"]["scheme"] == "bearer"


def test_the_document_says_what_the_api_refuses(openapi_schema: Any) -> None:
    """An explicit null is refused (leave the field out), an empty cursor too: the document says so."""
    raw = openapi_schema.raw_schema
    create_body = raw["components"]["schemas"]["CreateTokenRequest"]["properties"]
    for name, field in create_body.items():
        assert {"type": "null"} not in field.get("anyOf", []), name
    listing = {p["name"]: p["schema"] for p in raw["paths"]["/api/v1/waitpoints/tokens"]["get"]["parameters"]}
    assert listing["page[after]"]["minLength"] == listing["page[before]"]["minLength"] == 1
    links = raw["paths"]["/api/v1/waitpoints/tokens"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {"retrieve_token", "complete_token", "list_tokens"}


def _config(stack: Stack, tokens: list[dict[str, Any]]) -> str:
    ids = json.dumps([t["id"] for t in tokens])
    hashes = json.dumps([t["url"].rsplit("/", 1)[1] for t in tokens])
    callback = f"POST {CALLBACK}"
    return f"""
headers = {{ Authorization = "Bearer {stack.key}" }}
continue-on-failure = true

[checks.negative_data_rejection]
expected-statuses = {json.dumps(REJECTIONS)}

[dictionaries.ids]
values = {ids}

[dictionaries.hashes]
values = {hashes}

[[operations]]
include-name = "{callback}"
parameters.'path.id' = {{ dictionary = "ids", probability = 0.5 }}
parameters.'path.hash' = {{ dictionary = "hashes", probability = 0.5 }}

[[operations]]
include-name = "POST /api/v1/waitpoints/tokens"
checks.positive_data_acceptance.expected-statuses = {json.dumps(SEMANTIC_400)}

[[operations]]
include-name = "GET /api/v1/waitpoints/tokens"
checks.positive_data_acceptance.expected-statuses = {json.dumps(SEMANTIC_400)}

[[operations]]
include-name = "POST /api/v1/waitpoints/tokens/{{id}}/extend"
checks.positive_data_acceptance.expected-statuses = {json.dumps(SEMANTIC_400)}
"""


def _logged_requests(log: Path | None, offset: int) -> Counter[tuple[str, int]]:
    """(route key, status) of each request the stack logged since `offset` ("POST    <route key> -> 200 (…)")."""
    found: Counter[tuple[str, int]] = Counter()
    if log is None or not log.exists():
        return found
    with log.open("rb") as raw:
        raw.seek(offset)
        for line in raw.read().decode("utf-8", "replace").splitlines():
            route, arrow, rest = line.partition(" -> ")
            if arrow and rest[:3].isdigit():
                found[route.split(None, 1)[-1].strip(), int(rest[:3])] += 1
    return found


@pytest.mark.timeout(900)  # the CLI's own run may take its 600 s subprocess limit on a slow machine
def test_schemathesis_every_check_every_phase(stack: Stack, api: httpx.Client, tmp_path: Path) -> None:
    tokens = [create(api, timeout="1h", tags=["fuzz"]) for _ in range(4)]
    config = tmp_path / "schemathesis.toml"
    config.touch(mode=0o600)
    config.write_text(_config(stack, tokens))  # the key goes in a file, never on a command line
    report = tmp_path / "report.json"
    log = stack.state_dir / "stack.log" if stack.state_dir else None
    offset = log.stat().st_size if log and log.exists() else 0
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from schemathesis.cli import schemathesis; schemathesis()",
            "--config-file",
            str(config),
            "run",
            f"{stack.url}/api/v1/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--generation-database",
            "none",
            "--workers",  # one: with two threads, hypothesis's lambda-source cache raced (an internal error)
            "1",
            # The approval page answers HTML to people; its own tests (tests/browser, tests/handlers) cover it.
            "--exclude-path-regex",
            "/approval/",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    summary = json.loads(report.read_text()) if report.exists() else {}
    print(run.stdout[-6000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
    assert summary["complete"] and not summary["failures"] and not summary["errors"], summary
    assert {name: p["status"] for name, p in summary["phases"].items()} == {
        "examples": "success",
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "success",
    }
    assert summary["operations"]["tested"] == len(OPERATIONS)
    requests = _logged_requests(log, offset)
    if log is not None:  # a local stack: count what really reached each operation
        counts = {op: sum(n for (r, _), n in requests.items() if r == route) for op, route in OPERATIONS.items()}
        print(f"schemathesis requests per operation (seed {SEED}): {counts}")
        assert all(n >= MIN_REQUESTS for n in counts.values()), counts
        assert not [key for key in requests if key[1] >= 500], requests
