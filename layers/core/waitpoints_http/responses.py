"""API Gateway HTTP API (payload 2.0) responses, and the one table from core errors to status codes."""

from __future__ import annotations

import json
from typing import Any

from waitpoints_core import (
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TooManyTags,
    Unauthenticated,
    Unavailable,
    UnsupportedBody,
    WaitpointError,
)
from waitpoints_core.errors import Conflict, SchemaMismatch  # not re-exported by waitpoints_core yet (issue 15)

STATUS_BY_ERROR: dict[type[WaitpointError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedBody: 415,
    TooManyTags: 422,
    SchemaMismatch: 422,
    Unavailable: 503,
}


def status_for(error: WaitpointError) -> int:
    return STATUS_BY_ERROR.get(type(error), 400)


def extra_headers_for(status: int) -> dict[str, str]:
    return {"Retry-After": "1"} if status == 503 else {}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        "isBase64Encoded": False,
    }


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return json_response(status, {"error": message}, {**extra_headers_for(status), **(headers or {})})


def error_body(error: WaitpointError) -> dict[str, Any]:
    """`{"error": message}`; a schema mismatch also names the failing `path` and `rule`, and lists `errors`."""
    body: dict[str, Any] = {"error": error.message}
    if isinstance(error, SchemaMismatch):
        body.update(path=error.path, rule=error.rule, errors=[dict(e) for e in error.errors])
    return body


def from_error(error: WaitpointError) -> dict[str, Any]:
    status = status_for(error)
    return json_response(status, error_body(error), extra_headers_for(status))
