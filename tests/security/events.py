"""API Gateway events for every route, built from the samples in events/."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.conftest import read_event
from tests.handlers.support import with_auth, with_hash, with_id, with_json

TOKENS = "/api/v1/waitpoints/tokens"


def create(key: str | None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return with_json(with_auth(read_event("api_create_token"), key), body or {})


def retrieve(key: str | None, token_id: str) -> dict[str, Any]:
    return with_id(with_auth(read_event("api_retrieve_token"), key), token_id)


def complete(key: str | None, token_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return with_json(with_id(with_auth(read_event("api_complete_token"), key), token_id), body or {})


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


def preflight(token_id: str) -> dict[str, Any]:
    return with_id(read_event("api_complete_preflight"), token_id)
