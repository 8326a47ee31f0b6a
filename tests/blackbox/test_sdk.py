"""The official @trigger.dev/sdk (pinned in tests/sdk_ts) lists tokens from the running stack: `for await` over
`wait.listTokens({status, tags})` follows our cursors and sees every matching token exactly once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .helpers import complete
from .test_list import create_many, mint

if TYPE_CHECKING:
    import httpx

    from .conftest import Stack

SDK_DIR = Path(__file__).resolve().parents[1] / "sdk_ts"


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the official SDK is JavaScript")
    if not (SDK_DIR / "node_modules" / "@trigger.dev" / "sdk").is_dir():
        npm = shutil.which("npm")
        assert npm, "node is installed but npm is not"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, check=True, capture_output=True, timeout=300
        )
    return node


def sdk_list(node: str, stack: Stack, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "WAITPOINTS_API_URL": stack.url,
        "WAITPOINTS_SECRET_KEY": key,
        "LIST_PARAMS": json.dumps(params),
    }
    result = subprocess.run(
        [node, "list_tokens.mjs"], cwd=SDK_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_sdk_list_tokens_sees_every_matching_token_once(node: str, stack: Stack) -> None:
    run = uuid.uuid4().hex[:8]
    steady, busy = f"steady-{run}", f"busy-{run}"
    with mint(stack, "sdk") as api:
        key = api.headers["Authorization"].removeprefix("Bearer ")
        waiting = create_many(api, 23, tags=[steady, "shared"])
        short = create_many(api, 6, tags=[steady], timeout="1s")
        done = create_many(api, 12, tags=[busy, "shared"])
        for token_id in done[:9]:
            assert complete(api, token_id, {"data": "ok"}).status_code == 200
        time.sleep(1.2)  # the 1s tokens are TIMED_OUT as seen now

        cases: list[tuple[dict[str, Any], set[str], str | None]] = [
            ({"status": ["WAITING"], "tags": [steady], "limit": 5}, set(waiting), "WAITING"),
            ({"status": "TIMED_OUT", "tags": [steady, f"nothing-{run}"], "limit": 4}, set(short), "TIMED_OUT"),
            ({"status": ["COMPLETED"], "limit": 4}, set(done[:9]), "COMPLETED"),
            ({"tags": [steady, busy]}, {*waiting, *short, *done}, None),
            ({"status": ["WAITING", "TIMED_OUT"], "limit": 10}, {*waiting, *short, *done[9:]}, None),
        ]
        for params, expected, status in cases:
            seen = sdk_list(node, stack, key, params)
            counts = Counter(t["id"] for t in seen)
            assert set(counts) == expected and set(counts.values()) == {1}, params
            if status:
                assert {t["status"] for t in seen} == {status}, params


def test_sdk_sees_nothing_of_another_environment(node: str, stack: Stack, api: httpx.Client) -> None:
    tag = f"mine-{uuid.uuid4().hex[:8]}"
    create_many(api, 3, tags=[tag])
    with mint(stack, "sdk-other") as other:
        assert sdk_list(node, stack, other.headers["Authorization"].removeprefix("Bearer "), {"tags": [tag]}) == []
