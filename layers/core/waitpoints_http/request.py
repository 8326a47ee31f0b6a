"""Reading API Gateway HTTP API (payload 2.0) events."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from waitpoints_core import Principal
    from waitpoints_core.models import Actor

DOOR_HEADER = "x-waitpoints-door"  # `console`: the operator console sent this request (with a secret key)


def body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def header(event: dict[str, Any], name: str) -> str | None:
    """Header lookup; API Gateway lower-cases header names in payload 2.0."""
    return (event.get("headers") or {}).get(name)


def base_url(event: dict[str, Any], public_url: str | None = None) -> str:
    """The API's public origin: `public_url` when the deployment sets one, else as the caller reached it
    (including a named stage)."""
    if public_url:
        return public_url.rstrip("/")
    context = event.get("requestContext") or {}
    scheme = header(event, "x-forwarded-proto") or "https"
    stage = context.get("stage")
    prefix = f"/{stage}" if stage and stage != "$default" else ""
    return f"{scheme}://{context.get('domainName', 'localhost')}{prefix}"


def query_params(event: dict[str, Any]) -> dict[str, str]:
    """The query string as Trigger.dev reads it: a repeated parameter keeps its last value. (API Gateway's
    `queryStringParameters` joins repeats with commas, so the raw query string is read instead.)"""
    raw = event.get("rawQueryString")
    if raw is None:
        return dict(event.get("queryStringParameters") or {})
    return dict(parse_qsl(raw, keep_blank_values=True))


def source(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """The caller's source IP and user agent, as API Gateway saw them (the audit record clips them)."""
    http = (event.get("requestContext") or {}).get("http") or {}
    return http.get("sourceIp") or None, http.get("userAgent") or header(event, "user-agent") or None


def actor_of(event: dict[str, Any], principal: Principal) -> Actor:
    """Who is acting, for the audit record: the principal's door (the console's when it says so, with a secret
    key), the key's id, the source IP and user agent. Never the credential itself."""
    ip, agent = source(event)
    console = (header(event, DOOR_HEADER) or "").strip().lower() == "console"
    return principal.actor(ip, agent, console=console)
