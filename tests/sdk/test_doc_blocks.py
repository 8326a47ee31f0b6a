"""Every fenced block in README.md, docs/*.md and sdk/README.md is accounted for, and the ones a user runs are
run here, as written, against the session's local stack.

`HOW` says how each block is exercised: run by a test in this module (`HERE`), run by a named test elsewhere,
parsed (JSON shapes, Python that needs an outside service such as Replicate), or not runnable here (it needs an
AWS account; its `make` targets and `waitpoints` commands are still checked by tests/test_readme_tables.py). A
new block that is not in `HOW` fails `test_every_block_is_accounted_for`, so a block cannot be added unexercised,
and an entry that no longer matches a block fails too, so `HOW` cannot go stale.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .conftest import SdkStack

from .conftest import TS_DIR

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "sdk" / "README.md"]
VENV_BIN = str(Path(sys.executable).parent)

HERE = "run by a test in this module"
PARSED = "parsed: a JSON shape, or Python for an outside service (compiled)"
NEEDS_AWS = "needs an AWS account: not run; its make targets are checked by tests/test_readme_tables.py"
PUBLISHED = "installs the published package: the wheel is built and checked by tests/sdk/test_packaging.py"
COMMANDS = "each `waitpoints` command shown parses: tests/test_readme_tables.py"

# (document, heading, the block's first line starts with) → how it is exercised.
HOW: dict[tuple[str, str, str], str] = {
    (
        "README.md",
        "## Two commands",
        "make run",
    ): "tests/local/test_make_run.py::test_make_run_serves_on_waitpoints_port_writes_local_env_and_stops_on_ctrl_c",
    ("README.md", "## Two commands", "WAITPOINTS_API_URL="): HERE,
    ("README.md", "## Walk-through with curl", "make run"): HERE,
    ("README.md", "## Real webhook senders: Replicate, Stripe, Standard Webhooks", "token = wait.create_token"): PARSED,
    ("README.md", "## Real webhook senders: Replicate, Stripe, Standard Webhooks", "POST /api/v1"): HERE,
    ("README.md", "## Real webhook senders: Replicate, Stripe, Standard Webhooks", '{"webhookSignature"'): PARSED,
    ("README.md", "### Copy-paste example (JSONPath)", "{"): HERE,
    ("README.md", "### Watching it resume locally", "set -a"): HERE,
    ("README.md", "## Lambda durable functions: wait on a token", "from aws_durable"): PARSED,
    ("README.md", "## Lambda durable functions: wait on a token", "def attach"): PARSED,
    (
        "README.md",
        "### Watching a durable function resume locally",
        "set -a",
    ): "tests/durable/test_local_stack.py::test_the_readme_commands",
    (
        "README.md",
        "## Python SDK and CLI",
        "pip install ./path",
    ): "tests/sdk/test_packaging.py::test_the_wheel_is_the_sdk_alone_with_its_license",
    ("README.md", "### Wait for a token from a script", "from waitpoints import wait"): HERE,
    (
        "README.md",
        "### Human approval",
        "from datetime",
    ): "tests/sdk/test_readme_approval.py::test_the_human_approval_example",
    ("README.md", "### Replicate webhook", "import replicate"): PARSED,
    ("README.md", "### The rest of the API", "from waitpoints import Client"): HERE,
    ("README.md", "### The rest of the API", "from waitpoints import AsyncClient"): HERE,
    ("README.md", "### The `waitpoints` command", "waitpoints dev"): COMMANDS,
    ("README.md", "## Using Trigger.dev's SDK", "import { configure"): HERE,
    (
        "README.md",
        "### From a browser: `useWaitToken`",
        "import { useWaitToken }",
    ): "tests/react_hooks/test_use_wait_token.py::test_readme_shows_the_hook_as_the_page_uses_it",
    ("README.md", "## Watching tokens in real time", "→"): PARSED,
    ("README.md", "## Watching tokens in real time", "from waitpoints import Client, watch"): HERE,
    ("README.md", "## Watching tokens in real time", "waitpoints tokens watch"): COMMANDS,
    (
        "README.md",
        "## Lifecycle events on EventBridge",
        '{"id"',
    ): "tests/operations/test_local_stack_events.py::test_the_readme_rule_snippet_routes_the_completions_it_names",
    (
        "README.md",
        "## Lifecycle events on EventBridge",
        "BillingCompletions:",
    ): "tests/operations/test_local_stack_events.py::test_the_readme_rule_snippet_routes_the_completions_it_names",
    ("README.md", "## Deploying to AWS", "make build"): NEEDS_AWS,
    ("README.md", "### The make targets for a deployed stack, and `samconfig.toml`", "make deploy"): NEEDS_AWS,
    ("README.md", "### Smoke test of a deployed stack", "export WAITPOINTS_API_URL"): NEEDS_AWS,
    ("README.md", "### `GET /api/v1/waitpoints/tokens/{id}`: retrieve", '"waiters"'): HERE,
    ("README.md", "## Layout (internals)", "template.yaml"): HERE,
    ("docs/realtime.md", "## Messages", '{"action"'): PARSED,
    ("docs/realtime.md", "## Messages", '{"type"'): PARSED,
    ("sdk/README.md", "# waitpoints (Python SDK and CLI)", "pip install waitpoints"): PUBLISHED,
    ("sdk/README.md", "# waitpoints (Python SDK and CLI)", "from waitpoints import wait"): HERE,
    ("sdk/README.md", "# waitpoints (Python SDK and CLI)", "waitpoints tokens create"): HERE,
}


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    lang: str
    heading: str
    text: str

    def key(self) -> tuple[str, str, str] | None:
        for document, heading, start in HOW:
            if (document, heading) == (self.document, self.heading) and self.text.lstrip().startswith(start):
                return document, heading, start
        return None


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        heading, lines, i = "", path.read_text().splitlines(), 0
        while i < len(lines):
            if lines[i].startswith("#"):
                heading = lines[i]
            fence = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
            if fence:
                indent, end = len(fence.group(1)), i + 1
                while not lines[end].strip().startswith("```"):
                    end += 1
                text = "\n".join(line[indent:] for line in lines[i + 1 : end]) + "\n"
                found.append(Block(str(path.relative_to(REPO)), i + 1, fence.group(2), heading, text))
                i = end
            i += 1
    return found


def block(document: str, heading: str, start: str, nth: int = 0) -> str:
    matching = [b.text for b in blocks() if b.key() == (document, heading, start)]
    return matching[nth]


def test_every_block_is_accounted_for() -> None:
    unclaimed = [f"{b.document}:{b.line} under {b.heading!r}" for b in blocks() if b.key() is None]
    assert not unclaimed, f"say in HOW how these blocks are exercised: {unclaimed}"
    used = {b.key() for b in blocks()}
    assert set(HOW) - used == set(), "HOW names blocks that no longer exist"
    for how in set(HOW.values()):
        if how.startswith("tests/"):
            path, name = how.split("::")
            assert f"def {name}(" in (REPO / path).read_text(), f"{how}: no such test"


def test_parsed_blocks_parse() -> None:
    for b in blocks():
        if HOW.get(b.key()) != PARSED:  # type: ignore[arg-type]
            continue
        if b.lang == "python":
            ast.parse(b.text, f"{b.document}:{b.line}")
        elif b.lang == "json":  # one JSON document or several
            text = re.sub(r"//[^\n]*", "", b.text)  # a comment after a message
            text = re.sub(r"\{…[^{}]*…\}", "{}", text).strip()  # {…retrieve's fields…}
            decoder, at = json.JSONDecoder(), 0
            while at < len(text):
                at = decoder.raw_decode(text, at)[1]
                at = len(text) - len(text[at:].lstrip())
        else:  # the WebSocket messages: → sent, ← received, each a JSON object with `…` standing for the rest
            for line in b.text.splitlines():
                if line.startswith(("→", "←")):
                    assert re.fullmatch(r"[→←] \{.*", line), line


# --- the blocks a user runs ---------------------------------------------------------------------------------


@pytest.fixture
def workdir(local_state: Path, tmp_path: Path) -> Path:
    """A folder like a clone's root after `make run`: .waitpoints/local.env names the session's local stack."""
    (tmp_path / ".waitpoints").mkdir()
    (tmp_path / ".waitpoints" / "local.env").write_text((local_state / "local.env").read_text())
    return tmp_path


def shell(script: str, cwd: Path, timeout: float = 60) -> str:
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def shown(comment: str, url: str) -> re.Pattern[str]:
    """A `# → …` output line as a pattern: `…` is any text, `<…>` one placeholder, the stack's own URL for
    README's http://127.0.0.1:3000."""
    parts = re.split(r"(…|<[a-z ]+>)", comment.replace("http://127.0.0.1:3000", url))
    pattern = "".join(".*?" if p == "…" else '[^"/]+' if p.startswith("<") else re.escape(p) for p in parts)
    return re.compile(pattern)


def test_the_local_env_block_is_what_make_run_writes(local_state: Path) -> None:
    written = dict(line.split("=", 1) for line in (local_state / "local.env").read_text().splitlines())
    for line in block("README.md", "## Two commands", "WAITPOINTS_API_URL=").splitlines():
        name, value = line.split("#", 1)[0].strip().split("=", 1)
        assert name in written, f"README shows {name}, make run does not write it"
        pattern = re.escape(value).replace("…", ".+").replace("<port>", r"\d+").replace("3000", r"\d+")
        assert re.fullmatch(pattern, written[name]), (name, value, written[name])


def test_the_curl_walk_through(sdk_stack: SdkStack, workdir: Path) -> None:
    """Each command of the walk-through, its `<…>` filled in from the step before, prints what README shows."""
    script = block("README.md", "## Walk-through with curl", "make run")
    steps = re.split(r"\n(?=# \d\. )", script.split("\n", 2)[2])  # after `make run` and `set -a …`
    load, values = "set -a; . .waitpoints/local.env; set +a\n", {}
    for step in filter(str.strip, steps):
        command = "\n".join(line for line in step.splitlines() if not line.startswith("#")).strip()
        expected = "".join(
            line[1:].strip().lstrip("→").strip()
            for line in step.splitlines()
            if line.startswith("# ") and not re.match(r"# \d\. ", line)
        )
        command = command.replace("<url from step 1>", values.get("url", "")).replace("<id>", values.get("id", ""))
        output = shell(load + command, workdir).strip()
        assert shown(expected, sdk_stack.url).fullmatch(output), f"{command}\nshown: {expected}\nprinted: {output}"
        values = values or json.loads(output)


def test_the_complete_when_body(sdk_stack: SdkStack) -> None:
    request = block("README.md", "## Real webhook senders: Replicate, Stripe, Standard Webhooks", "POST /api/v1")
    method_path, body = request.split("\n", 1)
    method, path = method_path.split()
    created = httpx.request(method, sdk_stack.url + path, json=json.loads(body), headers=_auth(sdk_stack))
    assert created.status_code == 200, created.text
    url = created.json()["url"]
    assert httpx.post(url, json={"status": "processing"}).status_code == 200  # not a terminal event: still waiting
    token_url = f"{sdk_stack.url}/api/v1/waitpoints/tokens/{created.json()['id']}"
    assert httpx.get(token_url, headers=_auth(sdk_stack)).json()["status"] == "WAITING"
    assert httpx.post(url, json={"status": "succeeded"}).status_code == 200
    assert httpx.get(token_url, headers=_auth(sdk_stack)).json()["status"] == "COMPLETED"


def test_the_example_state_machine_block_is_the_deployed_file() -> None:
    shown_definition = json.loads(block("README.md", "### Copy-paste example (JSONPath)", "{"))
    assert shown_definition == json.loads((REPO / "statemachine" / "example.asl.json").read_text())


def test_watching_a_workflow_resume_locally(workdir: Path) -> None:
    script = block("README.md", "### Watching it resume locally", "set -a")
    printed = [line.split("#", 1)[1].split(":")[0].strip() for line in script.splitlines() if "print(" in line]
    assert shell(script, workdir).split() == printed == ["RUNNING", "SUCCEEDED"]


def _auth(stack: SdkStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.key}"}


@pytest.fixture
def completer(sdk_stack: SdkStack) -> Iterator[list[str]]:
    """Completes, with {"status": "approved"}, each WAITING token created while the test runs (as the person
    or webhook sender a README example waits for would); yields the ids it completed."""
    since, done, stop = int(time.time() * 1000), [], threading.Event()

    def run() -> None:
        with httpx.Client(base_url=sdk_stack.url, headers=_auth(sdk_stack)) as api:
            while not stop.wait(0.2):
                params = {"filter[status]": "WAITING", "filter[createdAt][from]": str(since)}
                for token in api.get("/api/v1/waitpoints/tokens", params=params).json()["data"]:
                    if token["id"] not in done:
                        api.post(
                            f"/api/v1/waitpoints/tokens/{token['id']}/complete", json={"data": {"status": "approved"}}
                        )
                        done.append(token["id"])

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    yield done
    stop.set()
    worker.join(5)


def _exec(source: str, name: str, namespace: dict[str, Any]) -> dict[str, Any]:
    exec(compile(source, name, "exec"), namespace)
    return namespace


def test_wait_for_a_token_from_a_script(
    sdk_stack: SdkStack, completer: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from waitpoints import wait

    monkeypatch.setattr(wait, "_client", None)  # as in a fresh process: `wait` builds its client from the environment
    for name, value in sdk_stack.env().items():
        monkeypatch.setenv(name, value)
    for document, heading in (
        ("README.md", "### Wait for a token from a script"),
        ("sdk/README.md", "# waitpoints (Python SDK and CLI)"),
    ):
        printed: list[tuple[Any, ...]] = []
        source = block(document, heading, "from waitpoints import wait")
        namespace = _exec(source, document, {"print": lambda *a, into=printed: into.append(a)})
        assert namespace["approval"] == {"status": "approved"}
        assert namespace["token"].id in completer and printed[0][-1] == namespace["token"].url


def test_the_rest_of_the_api(sdk_stack: SdkStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from waitpoints import Client

    for name, value in sdk_stack.env().items():
        monkeypatch.setenv(name, value)
    with Client() as client:
        waiting, other = client.create_token(timeout="1h"), client.create_token(timeout="1h")
    source = block("README.md", "### The rest of the API", "from waitpoints import Client").replace(
        '"waitpoint_…"', repr(waiting.id)
    )
    namespace = _exec(source, "README.md", {"other": other, "print": lambda *a: None})
    assert namespace["token"].id == waiting.id and namespace["page"].data


def test_the_async_client(sdk_stack: SdkStack, completer: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sdk_stack.env().items():
        monkeypatch.setenv(name, value)
    source = block("README.md", "### The rest of the API", "from waitpoints import AsyncClient")
    body = "async def main():\n" + "".join(f"    {line}\n" for line in source.splitlines()) + "    return result\n"
    result = asyncio.run(_exec(body, "README.md", {})["main"]())
    assert result.unwrap() == {"status": "approved"}


def test_watching_tokens_from_python(sdk_stack: SdkStack, local_state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from waitpoints import Client

    ws_url = dict(line.split("=", 1) for line in (local_state / "local.env").read_text().splitlines())[
        "WAITPOINTS_WS_URL"
    ]
    for name, value in {**sdk_stack.env(), "WAITPOINTS_WS_URL": ws_url}.items():
        monkeypatch.setenv(name, value)
    with Client() as setup:
        token = setup.create_token(timeout="1h")
        setup.complete_token(token, {"status": "approved"})
        tagged = setup.create_token(timeout="1h", tags=["needs-approval"])

    class Enough(Exception):
        pass

    changes: list[tuple[Any, ...]] = []

    def record(*args: Any) -> None:
        changes.append(args)
        raise Enough  # the example loops forever: one transition is enough here

    def complete_tagged() -> None:
        time.sleep(1)  # after the subscription is made
        httpx.post(tagged.url, json={"status": "approved"})

    threading.Thread(target=complete_tagged, daemon=True).start()
    source = block("README.md", "## Watching tokens in real time", "from waitpoints import Client, watch")
    namespace = {"os": os, "token": token, "print": record}
    with pytest.raises(Enough):
        _exec(source, "README.md", namespace)
    assert namespace["result"].unwrap() == {"status": "approved"}
    assert [(str(c[0]), c[1]) for c in changes] == [("completed", tagged.id)]


def test_trigger_devs_sdk_block(sdk_stack: SdkStack, node: str) -> None:
    script = TS_DIR / f".readme-{uuid.uuid4().hex[:8]}.mjs"  # beside node_modules, so the import resolves
    script.write_text(
        block("README.md", "## Using Trigger.dev's SDK", "import { configure") + "console.log(t.status);\n"
    )
    try:
        env = {"PATH": str(Path(node).parent), "HOME": str(TS_DIR), **sdk_stack.env()}
        done = subprocess.run([node, str(script)], cwd=TS_DIR, env=env, capture_output=True, text=True, timeout=60)
    finally:
        script.unlink()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["COMPLETED"]


def test_the_sdk_readme_commands(sdk_stack: SdkStack, workdir: Path) -> None:
    commands = block("sdk/README.md", "# waitpoints (Python SDK and CLI)", "waitpoints tokens create").splitlines()
    create, *rest = commands
    created = shell(create + " -q", workdir).strip()  # -q: only the id, to fill in `<id>` below
    printed = [shell(command.replace("<id>", created), workdir) for command in rest]
    assert "Completed" in printed[0] and "approved" in printed[1]
    assert re.match(r"ID +STATUS", printed[2]) and created not in printed[2]  # completed: no longer WAITING


def test_the_layout_names_paths_that_exist() -> None:
    for line in block("README.md", "## Layout (internals)", "template.yaml").splitlines():
        if not line or line.startswith(" "):  # an indented line names files inside the folder above it
            continue
        for name in re.split(r"\s{2,}", line)[0].split():
            path = name.split("<", 1)[0].rstrip("/")  # functions/<name>/app.py: the folder
            assert (REPO / path).exists(), f"README's Layout names {name}, which does not exist"


def test_the_waiters_fragment_has_retrieves_shape() -> None:
    """README's `waiters` example has the fields retrieve gives a waiter (tests/blackbox/test_waiters.py retrieves
    real ones, attached by a workflow and a durable callback)."""
    fragment = block("README.md", "### `GET /api/v1/waitpoints/tokens/{id}`: retrieve", '"waiters"')
    shown = json.loads("{" + fragment + "}")["waiters"]
    assert [w["kind"] for w in shown] == ["stepFunctions", "durable"]
    for waiter in shown:
        assert re.fullmatch(r"[0-9a-f]{12}", waiter["digest"])
        assert set(waiter) <= {"kind", "digest", "attachedAt", "resumedAt"}
