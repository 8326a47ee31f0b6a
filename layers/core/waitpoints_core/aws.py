"""boto3 clients, created once per container with one deliberate retry and timeout policy.

`standard` retry mode, 3 attempts in all (`total_max_attempts`; botocore's `max_attempts` counts retries
only, so `max_attempts: 3` meant 4): throttling, 5xx, connection resets and timeouts are retried with
jittered exponential backoff (at most 1 s, then 2 s, for throttling). Connect 2 s, read 3 s: DynamoDB, Secrets
Manager and Step Functions answer in milliseconds, so a read that takes 3 s is better retried. The worst case
for one AWS call is 3 x (2 + 3) + 1 + 2 = 18 s, inside the functions' 29 s Lambda timeout and API Gateway's
30 s; past it the call raises and the caller answers 503 with Retry-After. tests/faults proves the bound.
AWS_ENDPOINT_URL (which boto3 reads itself) points every client at the local emulation.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from botocore.client import BaseClient

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=2,
    read_timeout=3,
    tcp_keepalive=True,
)


@cache
def client(service: str) -> BaseClient:
    return boto3.session.Session().client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload, no-any-return]
