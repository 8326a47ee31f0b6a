"""The WebSocket API ($connect, $disconnect, auth, subscribe, unsubscribe, $default): real-time subscriptions
to token transitions. Thin: the edge is waitpoints_http.websocket, the domain waitpoints_core.subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from waitpoints_http import websocket
from waitpoints_http.metrics import count, instrument

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@instrument
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    route = event["requestContext"]["routeKey"]
    if route == "$connect":
        count("RealtimeConnections")
    elif route != "$disconnect":
        count("RealtimeMessages")
    return websocket.handle(event)
