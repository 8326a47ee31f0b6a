"""Helpers for the handler tests: fill the sample events in events/ with real ids, keys and bodies."""

from __future__ import annotations

import base64
import json
from typing import Any

PLACEHOLDER_ID = "waitpoint_replacemewitharealtokenid"
PLACEHOLDER_HASH = "replace-me-with-the-hash-from-the-callback-url"
PLACEHOLDER_APPROVAL_HASH = "replace-me-with-the-hash-from-the-approval-url"


def _replace_in_paths(event: dict[str, Any], old: str, new: str) -> None:
    event["rawPath"] = event["rawPath"].replace(old, new)
    event["requestContext"]["http"]["path"] = event["requestContext"]["http"]["path"].replace(old, new)


def with_id(event: dict[str, Any], token_id: str) -> dict[str, Any]:
    _replace_in_paths(event, PLACEHOLDER_ID, token_id)
    event["pathParameters"]["id"] = token_id
    return event


def with_hash(event: dict[str, Any], url_hash: str) -> dict[str, Any]:
    _replace_in_paths(event, PLACEHOLDER_HASH, url_hash)
    event["pathParameters"]["hash"] = url_hash
    return event


def with_approval_hash(event: dict[str, Any], url_hash: str) -> dict[str, Any]:
    _replace_in_paths(event, PLACEHOLDER_APPROVAL_HASH, url_hash)
    event["pathParameters"]["hash"] = url_hash
    return event


def with_auth(event: dict[str, Any], credential: str | None) -> dict[str, Any]:
    """`Authorization: Bearer <credential>`, or no Authorization header at all for None."""
    if credential is None:
        event["headers"].pop("authorization", None)
    else:
        event["headers"]["authorization"] = f"Bearer {credential}"
    return event


def with_body(
    event: dict[str, Any], body: str | bytes | None, *, base64_encoded: bool = False, content_type: str | None = None
) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    if raw is None:
        event.pop("body", None)
        event["headers"].pop("content-length", None)
        event["isBase64Encoded"] = False
    else:
        event["body"] = base64.b64encode(raw).decode() if base64_encoded else raw.decode()
        event["isBase64Encoded"] = base64_encoded
        event["headers"]["content-length"] = str(len(raw))
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    return event


def with_json(event: dict[str, Any], value: Any) -> dict[str, Any]:
    return with_body(event, json.dumps(value, separators=(",", ":")))


def body_of(response: dict[str, Any]) -> Any:
    assert not response.get("isBase64Encoded"), response
    return json.loads(response["body"])


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    """Response headers with lower-cased names (Powertools and the callback handler differ in case)."""
    return {k.lower(): v for k, v in (response.get("headers") or {}).items()}
