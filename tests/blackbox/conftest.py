"""Black-box fixtures: a running stack reached only over HTTP.

By default a fresh local stack is started on a free port for the session. To run the same suite against a
deployed stack, set WAITPOINTS_API_URL and WAITPOINTS_SECRET_KEY (and, for the cross-environment tests,
WAITPOINTS_OTHER_SECRET_KEY: a key of a second environment); tests that need the emulated AWS are skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest

from tests.local_stack import admin, running_stack

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@dataclass
class Stack:
    url: str
    key: str
    other_key: str | None  # a secret key of a second environment
    aws_endpoint: str | None  # the emulated AWS, only for a local stack
    table_name: str | None
    example_state_machine: str | None = None
    state_dir: Path | None = None

    def aws(self, service: str) -> Any:
        """A boto3 client for the local stack's emulated AWS."""
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def client(self, key: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.key}"} if (key or self.key) else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if os.environ.get("WAITPOINTS_API_URL") and os.environ.get("WAITPOINTS_SECRET_KEY"):
        yield Stack(
            os.environ["WAITPOINTS_API_URL"].rstrip("/"),
            os.environ["WAITPOINTS_SECRET_KEY"],
            os.environ.get("WAITPOINTS_OTHER_SECRET_KEY"),
            None,
            None,
        )
        return
    state = tmp_path_factory.mktemp("stack")
    with running_stack(state, WAITPOINTS_AUTH_CACHE_SECONDS="1", WAITPOINTS_SIGNING_KEY_CACHE_SECONDS="1") as values:
        other = admin("api_keys", state, "--env", "other").stdout.strip()
        yield Stack(
            values["WAITPOINTS_API_URL"],
            values["WAITPOINTS_SECRET_KEY"],
            other,
            values["AWS_ENDPOINT_URL"],
            values["WAITPOINTS_TABLE_NAME"],
            values["WAITPOINTS_EXAMPLE_STATE_MACHINE_ARN"],
            state,
        )


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client() as client:
        yield client


@pytest.fixture(scope="session")
def other_api(stack: Stack) -> Iterator[httpx.Client]:
    if not stack.other_key:
        pytest.skip("needs WAITPOINTS_OTHER_SECRET_KEY (a key of a second environment)")
    with stack.client(stack.other_key) as client:
        yield client


@pytest.fixture(scope="session")
def anonymous(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def local_stack(stack: Stack) -> Stack:
    if stack.aws_endpoint is None:
        pytest.skip("needs the local stack's emulated AWS")
    return stack
