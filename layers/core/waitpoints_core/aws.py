"""boto3 clients, created once per container with one deliberate retry and timeout policy.

`standard` retry mode, 3 attempts: throttling and 5xx are retried with jittered backoff; connect 2 s and
read 5 s timeouts keep the worst case well inside API Gateway's 30 s limit. AWS_ENDPOINT_URL (which boto3
reads itself) points every client at the local emulation.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from botocore.client import BaseClient

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)


@cache
def client(service: str) -> BaseClient:
    return boto3.session.Session().client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload, no-any-return]
