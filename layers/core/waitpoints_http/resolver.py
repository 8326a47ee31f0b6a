"""Powertools resolver setup: per-route authentication and body limits, and every error as `{"error": ...}`.

Authentication, the size check and JSON parsing run before the resolver routes, so the order of answers is 401,
then 413, then 400. Routes validate the parsed body themselves (`app.context["body"]`, with the pydantic request
models): Powertools' validation middlewares cost about 150 µs a call and its OpenAPI machinery a third of a cold
start (`make bench`), for the same checks and messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from waitpoints_core import InvalidInput, WaitpointError, check_body_size
from waitpoints_core.bodies import parse_json

from .auth import authenticate
from .request import body_bytes, header
from .responses import error_body, extra_headers_for, from_error, status_for

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass(frozen=True)
class RoutePolicy:
    """Who may call a route (by its API Gateway route key) and how large its body may be."""

    body_limit: int
    authenticate: bool = True
    access_tokens: bool = False


def json_error(status: int, message: str) -> Response[str]:
    body = json.dumps({"error": message}, separators=(",", ":"))
    return Response(status, "application/json", body, extra_headers_for(status))


_DEFAULT_POLICY = RoutePolicy(body_limit=0)


def resolve(
    app: APIGatewayHttpResolver, policies: dict[str, RoutePolicy], event: dict[str, Any], context: LambdaContext
) -> dict[str, Any]:
    """Authenticate, size-check and parse the body by route key, then let the resolver route.

    Routes find the caller in `app.context["principal"]` and the body, parsed as a JSON object (`{}` when there
    is none), in `app.context["body"]`. Bodies are always read as JSON, whatever the Content-Type.
    """
    policy = policies.get(event.get("routeKey", ""), _DEFAULT_POLICY)
    try:
        if policy.authenticate:
            principal = authenticate(header(event, "authorization"), allow_access_token=policy.access_tokens)
            app.append_context(principal=principal)  # type: ignore[no-untyped-call]
        body = body_bytes(event)
        check_body_size(len(body), policy.body_limit, "Request body")
        app.append_context(body=json_object(body))  # type: ignore[no-untyped-call]
    except WaitpointError as error:
        app.clear_context()  # type: ignore[no-untyped-call]
        return from_error(error)
    return app.resolve(event, context)


def json_object(body: bytes) -> dict[str, Any]:
    """A body, when there is one, must be a JSON object; no body reads as `{}`. Strict JSON (`parse_json`):
    deep nesting and integers over 4,300 digits are a 400, and `null` is not an object."""
    if not body:
        return {}
    try:
        value = parse_json(body.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Request body is not valid JSON ({exc})"[:200]) from exc
    if not isinstance(value, dict):
        raise InvalidInput("Request body must be a JSON object")
    return value


def install(app: APIGatewayHttpResolver) -> None:
    """Answer every error as `{"error": "<message>"}` with the status from the one error table."""

    @app.exception_handler(WaitpointError)  # type: ignore[untyped-decorator]
    def _domain_error(error: WaitpointError) -> Response[str]:
        status = status_for(error)
        body = json.dumps(error_body(error), separators=(",", ":"), ensure_ascii=False)
        return Response(status, "application/json", body, extra_headers_for(status))

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return json_error(404, "No such route")
