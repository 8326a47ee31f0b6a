"""CORS for the routes a browser may call (complete, with a public access token): the Origin is reflected."""

from __future__ import annotations

from typing import Any

from .request import header

EXPOSED = "x-trigger-jwt,x-trigger-jwt-claims"
_ALWAYS_ALLOWED = ("authorization", "content-type")


def _allowed(origin: str | None, origins: tuple[str, ...]) -> bool:
    return bool(origin) and ("*" in origins or origin in origins)


def add_headers(event: dict[str, Any], response: dict[str, Any], origins: tuple[str, ...]) -> dict[str, Any]:
    """Add the CORS response headers for an allowed Origin (to errors too, so a browser can read them)."""
    origin = header(event, "origin")
    headers = response.setdefault("headers", {})
    headers["Vary"] = "Origin"
    if _allowed(origin, origins):
        headers["Access-Control-Allow-Origin"] = str(origin)
        headers["Access-Control-Expose-Headers"] = EXPOSED
    return response


def preflight(event: dict[str, Any], origins: tuple[str, ...]) -> dict[str, Any]:
    """Answer OPTIONS: allow POST with Authorization, Content-Type and whatever else the browser asks for."""
    origin = header(event, "origin")
    headers = {"Vary": "Origin"}
    if _allowed(origin, origins):
        requested = (header(event, "access-control-request-headers") or "").lower().split(",")
        allowed = dict.fromkeys([*_ALWAYS_ALLOWED, *(h.strip() for h in requested if h.strip())])
        headers.update(
            {
                "Access-Control-Allow-Origin": str(origin),
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": ",".join(allowed),
                "Access-Control-Expose-Headers": EXPOSED,
                "Access-Control-Max-Age": "600",
            }
        )
    return {"statusCode": 204, "headers": headers, "body": "", "isBase64Encoded": False}
