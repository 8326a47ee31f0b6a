"""AWS clients, created once per container with one deliberate retry and timeout policy.

`standard` retry mode, 3 attempts in all (`total_max_attempts`; botocore's `max_attempts` counts retries
only, so `max_attempts: 3` meant 4): throttling, 5xx, connection resets and timeouts are retried with
jittered exponential backoff (at most 1 s, then 2 s, for throttling). Connect 2 s, read 3 s: DynamoDB, Secrets
Manager and Step Functions answer in milliseconds, so a read that takes 3 s is better retried. The worst case
for one AWS call is 3 x (2 + 3) + 1 + 2 = 18 s, inside the functions' 29 s Lambda timeout and API Gateway's
30 s; past it the call raises and the caller answers 503 with Retry-After. tests/faults proves the bound.
AWS_ENDPOINT_URL (which botocore reads itself) points every client at the local emulation.

The clients are botocore's, made from one botocore session: exactly the clients boto3 would make (boto3 adds
nothing to the DynamoDB, Secrets Manager or Step Functions clients), without importing boto3, which pulls in
s3transfer and costs about a third of a cold start (`make bench`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=2,
    read_timeout=3,
    tcp_keepalive=True,
    max_pool_connections=16,  # a sharded list page sends a round of Queries at once (dynamodb/listing.py)
)


@cache
def client(service: str, endpoint_url: str | None = None) -> Any:
    """The container's one client for `service` (reset with `client.cache_clear()` and `_session.cache_clear()`),
    at `endpoint_url` when given (else botocore's own: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, AWS).

    Typed `Any`: the adapters build their requests as plain dicts (see dynamodb.table)."""
    return _session().create_client(service, config=CLIENT_CONFIG, endpoint_url=endpoint_url)


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()
