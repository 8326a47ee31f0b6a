"""The WebSocket edge: API Gateway WebSocket events for the realtime function, and the `@connections` client
(`apigatewaymanagementapi`) that writes to connections, for it and for the stream consumer's fan-out.

Routes (template.yaml, RouteSelectionExpression `$request.body.action`): `$connect`, `$disconnect`, and the
messages `auth`, `subscribe`, `unsubscribe` and `$default` (anything else, `ping` included), all to one function.
A message's answer is the route response (the function's `body`); a message that must close the connection
(failed authentication) is posted, then the connection deleted. The protocol is in docs/realtime.md.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from waitpoints_core import get_service, ids
from waitpoints_core.runtime import connections, get_subscriptions
from waitpoints_core.subscriptions import ConnectionGone, FanOut, Realtime, change_between, fan_out

from . import routes, wire

if TYPE_CHECKING:
    from waitpoints_core import TokenChange, Waitpoint, WaitpointService

_OK = {"statusCode": 200}


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """One API Gateway WebSocket event → the integration's response."""
    context = event["requestContext"]
    route, connection_id = context["routeKey"], context["connectionId"]
    if route == "$connect":
        return connect(event)
    realtime = get_realtime()
    if route == "$disconnect":
        realtime.disconnect(connection_id)
        return _OK
    reply = realtime.handle(connection_id, int(context.get("connectedAt") or 0), _text(event))
    if reply.close:
        client = connections(management_url(context))
        try:
            client.post(ConnectionId=connection_id, Data=reply.data())
            client.close(connection_id)
        except ConnectionGone:
            pass  # the client left first
        return _OK
    return {"statusCode": 200, "body": reply.data().decode()}


def connect(event: dict[str, Any]) -> dict[str, Any]:
    """Accept the connection: it authenticates with its first message. A credential in the URL is refused
    (401), so that habit never works: URLs end up in logs, a message body does not."""
    for value in (event.get("queryStringParameters") or {}).values():
        if ids.looks_like_api_key(value) or value.count(".") == 2:
            return {"statusCode": 401}
    return _OK


def _text(event: dict[str, Any]) -> str | None:
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):  # a binary frame: only text frames carry JSON
        try:
            return base64.b64decode(body).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return str(body) if body is not None else None


def management_url(context: dict[str, Any] | None = None) -> str:
    """The `@connections` endpoint: configured (WAITPOINTS_WS_MANAGEMENT_URL), else the one the event came from."""
    configured = get_service().settings.realtime_management_url
    if configured:
        return configured
    if context is None:
        raise RuntimeError("WAITPOINTS_WS_MANAGEMENT_URL is not set")
    return f"https://{context['domainName']}/{context['stage']}"


def get_realtime() -> Realtime:
    return _realtime_for(get_service())


@lru_cache(maxsize=1)
def _realtime_for(service: WaitpointService) -> Realtime:
    def authenticate(credential: str) -> Any:
        return service.auth.authenticate(credential, allow_access_token=True)

    return Realtime(get_subscriptions(), authenticate, renderer(service))


def renderer(service: WaitpointService) -> Any:
    """A token as retrieve renders it (callback URL included)."""
    base = (service.settings.public_url or service.settings.api_url or "").rstrip("/")

    def render(token: Waitpoint) -> dict[str, Any]:
        return wire.token(token, routes.callback_url(base, token.id, service.tokens.callback_hash(token.id)))

    return render


def publish(change: TokenChange) -> FanOut | None:
    """For the stream consumer: a token's change → one message to each subscribed connection. None when the
    change is no transition, or when no WebSocket API is configured (WAITPOINTS_WS_MANAGEMENT_URL unset)."""
    service = get_service()
    if not service.settings.realtime_management_url:
        return None
    transition = change_between(change.old, change.new, renderer(service))
    if transition is None:
        return None
    return fan_out(transition, get_subscriptions(), connections(management_url()).post)


def reset() -> None:
    """Forget the cached service wiring (tests, with runtime.reset())."""
    _realtime_for.cache_clear()
