"""API Gateway events for every route, built from the samples in events/."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.conftest import read_event
from tests.handlers.support import with_approval_hash, with_auth, with_body, with_hash, with_id, with_json

TOKENS = "/api/v1/waitpoints/tokens"


def create(key: str | None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return with_json(with_auth(read_event("api_create_token"), key), body or {})


def retrieve(key: str | None, token_id: str) -> dict[str, Any]:
    return with_id(with_auth(read_event("api_retrieve_token"), key), token_id)


def complete(key: str | None, token_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return with_json(with_id(with_auth(read_event("api_complete_token"), key), token_id), body or {})


def operator(key: str | None, token_id: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST .../{id}/<action>: the operator routes (timeout, extend), shaped like complete's event."""
    event = complete(key, token_id, body)
    route = f"POST {TOKENS}/{{id}}/{action}"
    event["routeKey"] = event["requestContext"]["routeKey"] = route
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"{TOKENS}/{token_id}/{action}"
    return event


def force_timeout(key: str | None, token_id: str) -> dict[str, Any]:
    return operator(key, token_id, "timeout")


def extend(key: str | None, token_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return operator(key, token_id, "extend", body)


def list_tokens(key: str | None, **params: str) -> dict[str, Any]:
    event = with_auth(read_event("api_retrieve_token"), key)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"GET {TOKENS}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = TOKENS
    event["rawQueryString"] = urlencode(params)
    if params:
        event["queryStringParameters"] = dict(params)
    event.pop("pathParameters", None)
    return event


def callback(token_id: str, url_hash: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return with_json(with_hash(with_id(read_event("callback_json"), token_id), url_hash), body or {})


def reject(key: str | None, token_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return with_json(with_id(with_auth(read_event("api_reject_token"), key), token_id), body or {})


def approval(token_id: str, url_hash: str, *, method: str = "GET", form: str | None = None) -> dict[str, Any]:
    """The approval page: GET or HEAD it, or POST a form-urlencoded body."""
    event = with_approval_hash(
        with_id(read_event("approval_get" if form is None else "approval_post"), token_id), url_hash
    )
    event["requestContext"]["http"]["method"] = "POST" if form is not None else method
    return with_body(event, form) if form is not None else event


def preflight(token_id: str) -> dict[str, Any]:
    return with_id(read_event("api_complete_preflight"), token_id)


def websocket(route: str, connection_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway WebSocket event: $connect/$disconnect, or a message routed by its `action`."""
    import json
    import time

    now = int(time.time() * 1000)
    kind = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": kind,
            "messageDirection": "IN",
            "connectionId": connection_id,
            "connectedAt": now - 1000,
            "requestTimeEpoch": now,
            "requestId": f"req-{connection_id}-{now}",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "stage": "live",
            "apiId": "abcdef1234",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "isBase64Encoded": False,
    }
    if kind == "CONNECT":
        event["headers"] = {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "Sec-WebSocket-Version": "13"}
    if body is not None:
        event["body"] = json.dumps(body)
    return event
