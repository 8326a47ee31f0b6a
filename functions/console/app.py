"""The operator console: GET /console (the page) and GET /console/assets/{file} (its scripts, styles and icon).

Static files only. The page holds no secret: the operator signs in with a secret key in the browser, which keeps
it in the tab's session storage and sends it to the public API as a bearer token, as any other client does. So
this function reads nothing, calls no AWS service and needs no permission; it needs no library either (no
framework, no layer import), which keeps its cold start to reading a few files.

Live updates: when the WebSocket API's URL is known (WAITPOINTS_WS_URL, a non-secret setting: the template's
WebSocketUrl output, or the local stack's), the page carries it in `<meta name="waitpoints-ws-url">` and the CSP's
connect-src allows exactly that URL besides 'self'; an open token then updates as it changes (docs/realtime.md).
A value that is not a plain ws:// or wss:// URL is ignored, so nothing else can reach the header or the page.

Headers: a strict Content-Security-Policy (no inline script or style, same-origin fetches only, no framing),
no-referrer, nosniff. The page is no-store. Assets carry a strong ETag (their content hash) with `no-cache`, so a
browser revalidates them on each load (a 304 has no body) and never runs a stale script after a deploy.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ASSETS_DIR = HERE / "assets"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_WS_URL = re.compile(r"^wss?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*$")


def websocket_url(value: str | None) -> str | None:
    """The WebSocket API's URL if it is a plain ws(s)://host[:port]/path, else None."""
    return value if value and _WS_URL.match(value) else None


WS_URL = websocket_url(os.environ.get("WAITPOINTS_WS_URL"))
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        f"connect-src 'self' {WS_URL}" if WS_URL else "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def _load_assets() -> dict[str, tuple[str, str, str]]:
    """name -> (body, content type, ETag), read once per container."""
    assets = {}
    for path in sorted(ASSETS_DIR.iterdir()):
        if path.is_file() and path.suffix in TYPES:
            body = path.read_text(encoding="utf-8")
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
            assets[path.name] = (body, TYPES[path.suffix], etag)
    return assets


ASSETS = _load_assets()
PAGE = (HERE / "index.html").read_text(encoding="utf-8")
if WS_URL:
    _REFERRER = '<meta name="referrer" content="no-referrer">'
    _WS_META = f'<meta name="waitpoints-ws-url" content="{html.escape(WS_URL)}">'
    PAGE = PAGE.replace(_REFERRER, f"{_REFERRER}\n{_WS_META}", 1)


def _response(status: int, content_type: str, body: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**SECURITY_HEADERS, "Content-Type": content_type, **(headers or {})},
        "body": body,
        "isBase64Encoded": False,
    }


def _not_found() -> dict[str, Any]:
    return _response(404, "text/plain; charset=utf-8", "Not found\n", {"Cache-Control": "no-store"})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    route = event.get("routeKey", "")
    if route == "GET /console":
        return _response(200, "text/html; charset=utf-8", PAGE, {"Cache-Control": "no-store"})
    if route == "GET /console/assets/{file}":
        name = (event.get("pathParameters") or {}).get("file", "")
        asset = ASSETS.get(name)  # a lookup in what was shipped: no path from the request reaches the file system
        if asset is None:
            return _not_found()
        body, content_type, etag = asset
        cache = {"Cache-Control": "no-cache", "ETag": etag}
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if etag in (tag.strip() for tag in headers.get("if-none-match", "").split(",")):
            return _response(304, content_type, "", cache)
        return _response(200, content_type, body, cache)
    return _not_found()
