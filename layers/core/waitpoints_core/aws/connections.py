"""Writing to WebSocket connections: API Gateway's `@connections` API (`apigatewaymanagementapi`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ..subscriptions import ConnectionGone
from . import _session
from .errors import error_code

# Writes to a connection are small and answered at once (410 for a gone one): fail fast rather than hold a
# stream batch. 2 attempts, connect 1 s, read 2 s.
MANAGEMENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=2, tcp_keepalive=True
)


class Connections:
    """Posts to and closes the connections of one WebSocket API stage; a gone connection is ConnectionGone."""

    def __init__(self, endpoint: str) -> None:
        self._client: Any = _session().create_client(
            "apigatewaymanagementapi", endpoint_url=endpoint, config=MANAGEMENT_CONFIG
        )

    def post(self, *, ConnectionId: str, Data: bytes) -> None:
        self._call(self._client.post_to_connection, ConnectionId=ConnectionId, Data=Data)

    def close(self, connection_id: str) -> None:
        self._call(self._client.delete_connection, ConnectionId=connection_id)

    @staticmethod
    def _call(call: Any, **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "GoneException":
                raise ConnectionGone() from exc
            raise


@cache
def connections(endpoint: str) -> Connections:
    """The container's client for one stage's `@connections` endpoint (thread-safe: fan_out shares it)."""
    return Connections(endpoint)
