"""API Gateway's `$default` route: every request that matches no other route gets a JSON error, as the README
promises ("an error body is always {"error": ...}"), instead of API Gateway's own `404 {"message":"Not Found"}`.

- A path that exists for other methods (a wrong method, HEAD, TRACE, an OPTIONS preflight where there is
  none) is 405 with `Allow` listing the methods it has.
- Any other path is 404 `{"error": "No such route: ..."}`.

Stdlib only and no AWS calls: it must stay cheap, whatever is sent to it. The route table below is the
template's (tests/local/test_no_route.py keeps the two equal).
"""

from __future__ import annotations

import json
import re
from typing import Any

TOKENS = "/api/v1/waitpoints/tokens"
ROUTES: dict[str, tuple[str, ...]] = {  # path template → its methods, as template.yaml's HttpApi events declare
    TOKENS: ("GET", "POST"),
    f"{TOKENS}/{{id}}": ("GET",),
    f"{TOKENS}/{{id}}/complete": ("OPTIONS", "POST"),
    f"{TOKENS}/{{id}}/reject": ("OPTIONS", "POST"),
    f"{TOKENS}/{{id}}/approval/{{hash}}": ("ANY",),
    f"{TOKENS}/{{id}}/timeout": ("POST",),
    f"{TOKENS}/{{id}}/extend": ("POST",),
    f"{TOKENS}/{{id}}/callback/{{hash}}": ("ANY",),
    "/api/v1/openapi.json": ("GET",),
    "/console": ("GET",),
    "/console/assets/{file}": ("GET",),
}
_PATTERNS = [
    (re.compile("^" + re.sub(r"\\\{[a-z]+\\\}", "[^/]+", re.escape(path)) + "$"), methods)
    for path, methods in ROUTES.items()
]


def _path(event: dict[str, Any]) -> str:
    """The request path without a named stage's prefix (payload 2.0's rawPath carries it)."""
    path = str(event.get("rawPath") or "/")
    stage = (event.get("requestContext") or {}).get("stage")
    if stage and stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
        path = path[len(stage) + 1 :] or "/"
    return path


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    path = _path(event)
    for pattern, methods in _PATTERNS:
        if pattern.match(path):
            allow = ", ".join(methods)
            return _error(405, f"Method {method[:16]} is not allowed here; allowed: {allow}", {"Allow": allow})
    return _error(404, "No such route")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps({"error": message}, separators=(",", ":")),
        "isBase64Encoded": False,
    }
