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
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from waitpoints_core import aws, get_service, ids
from waitpoints_core.storage import token_from_image
from waitpoints_core.subscription_store import DynamoDBSubscriptions
from waitpoints_core.subscriptions import Change, FanOut, Realtime, change_between, fan_out

from . import wire

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from waitpoints_core import Waitpoint, WaitpointService

# Writes to a connection are small and answered at once (410 for a gone one): fail fast rather than hold a
# stream batch. 2 attempts, connect 1 s, read 2 s.
MANAGEMENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=2, tcp_keepalive=True
)
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
        _ignore_gone(client.post_to_connection, ConnectionId=connection_id, Data=reply.data())
        _ignore_gone(client.delete_connection, ConnectionId=connection_id)
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
    return body  # type: ignore[no-any-return]


def _ignore_gone(call: Any, **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "GoneException":
            raise


def management_url(context: dict[str, Any] | None = None) -> str:
    """The `@connections` endpoint: configured (WAITPOINTS_WS_MANAGEMENT_URL), else the one the event came from."""
    configured = get_service().settings.realtime_management_url
    if configured:
        return configured
    if context is None:
        raise RuntimeError("WAITPOINTS_WS_MANAGEMENT_URL is not set")
    return f"https://{context['domainName']}/{context['stage']}"


@cache
def connections(endpoint: str) -> BaseClient:
    """The container's `apigatewaymanagementapi` client for one endpoint (thread-safe: fan_out shares it)."""
    return aws._session().create_client("apigatewaymanagementapi", endpoint_url=endpoint, config=MANAGEMENT_CONFIG)


def get_realtime() -> Realtime:
    return _realtime_for(get_service())


@lru_cache(maxsize=1)
def _realtime_for(service: WaitpointService) -> Realtime:
    settings = service.settings
    store = DynamoDBSubscriptions(aws.client("dynamodb"), settings.table_name)

    def authenticate(credential: str) -> Any:
        # The lead adapts this to services.authenticate(credential) after the restructuring.
        return service.authenticate(f"Bearer {credential}", allow_access_token=True)

    return Realtime(store, authenticate, renderer(service))


def renderer(service: WaitpointService) -> Any:
    """A token as retrieve renders it (callback URL included)."""
    base = service.settings.public_url or service.settings.api_url or ""

    def render(token: Waitpoint) -> dict[str, Any]:
        return wire.token(token, service.callback_url(base, token.id))

    return render


def publish(old_image: dict[str, Any] | None, new_image: dict[str, Any] | None) -> FanOut | None:
    """For the stream consumer: a token item's change → one message to each subscribed connection.
    None when the change is no transition (or not a token). Needs WAITPOINTS_WS_MANAGEMENT_URL."""
    service = get_service()
    change = change_from_images(service, old_image, new_image)
    if change is None:
        return None
    store = DynamoDBSubscriptions(aws.client("dynamodb"), service.settings.table_name)
    return fan_out(change, store, connections(management_url()).post_to_connection)


def change_from_images(
    service: WaitpointService, old_image: dict[str, Any] | None, new_image: dict[str, Any] | None
) -> Change | None:
    return change_between(token_from_image(old_image), token_from_image(new_image), renderer(service))


def reset() -> None:
    """Forget the cached clients and service wiring (tests, with runtime.reset())."""
    connections.cache_clear()
    _realtime_for.cache_clear()
