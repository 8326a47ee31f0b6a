"""AWS clients, created once per container with one deliberate retry and timeout policy.

`standard` retry mode, 3 attempts: throttling and 5xx are retried with jittered backoff; connect 2 s and
read 5 s timeouts keep the worst case well inside API Gateway's 30 s limit. AWS_ENDPOINT_URL (which botocore
reads itself) points every client at the local emulation.

The clients are botocore's, made from one botocore session: exactly the clients boto3 would make (boto3 adds
nothing to the DynamoDB, Secrets Manager or Step Functions clients), without importing boto3, which pulls in
s3transfer and costs about a third of a cold start (`make bench`).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import botocore.session
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
    """The container's one client for `service` (reset with `client.cache_clear()` and `_session.cache_clear()`)."""
    return _session().create_client(service, config=CLIENT_CONFIG)


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()
