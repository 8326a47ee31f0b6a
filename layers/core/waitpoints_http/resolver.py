"""Powertools resolver setup: per-route authentication and body limits, and every error as `{"error": ...}`.

Authentication and the size check run in a global middleware, which Powertools calls before request
validation, so the order of answers is 401, then 413, then 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from waitpoints_core import WaitpointError, check_body_size, get_service

from .request import body_bytes
from .responses import extra_headers_for, status_for


@dataclass(frozen=True)
class RoutePolicy:
    """Who may call a route (by its API Gateway route key) and how large its body may be."""

    body_limit: int
    authenticate: bool = True
    access_tokens: bool = False


def json_error(status: int, message: str) -> Response[str]:
    return Response(status, "application/json", json.dumps({"error": message}, separators=(",", ":")), extra_headers_for(status))


def install(app: APIGatewayHttpResolver, policies: dict[str, RoutePolicy]) -> None:
    default = RoutePolicy(body_limit=0)

    def guard(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        event = app.current_event
        policy = policies.get(event.route_key, default)
        if policy.authenticate:
            principal = get_service().authenticate(
                event.headers.get("authorization"), allow_access_token=policy.access_tokens
            )
            app.append_context(principal=principal)
        check_body_size(len(body_bytes(event.raw_event)), policy.body_limit, "Request body")
        return next_middleware(app)

    app.use([guard])

    @app.exception_handler(WaitpointError)
    def _domain_error(error: WaitpointError) -> Response[str]:
        return json_error(status_for(error), error.message)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        return json_error(400, describe_validation_error(error.errors()))

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return json_error(404, "No such route")


_UNION_BRANCHES = ("str", "int", "list[", "constrained-str", "function-")


def describe_validation_error(errors: Any) -> str:
    """pydantic's errors → one sentence naming the field: the most specific error of the first field that failed."""
    if not errors:
        return "Invalid request"
    error = max(errors, key=lambda e: len(e.get("loc", ())))
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "Request body is not valid JSON"
    if kind == "model_attributes_type":
        return "Request body must be a JSON object"
    path = ""
    for part in error.get("loc", ())[1:]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(_UNION_BRANCHES):
            path += ("." if path else "") + str(part)
    if kind == "extra_forbidden":
        return f"{path}: unknown field"
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{path}: {message}" if path else message
