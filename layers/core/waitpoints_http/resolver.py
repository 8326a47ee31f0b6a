"""Powertools resolver setup: per-route authentication and body limits, and every error as `{"error": ...}`.

Authentication and the size check run before the resolver (Powertools validates the request before any
middleware runs), so the order of answers is 401, then 413, then 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from waitpoints_core import InvalidInput, WaitpointError, check_body_size, describe_validation_error, get_service
from waitpoints_core.bodies import parse_json

from .request import as_json_request, body_bytes, header
from .responses import extra_headers_for, from_error, status_for

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass(frozen=True)
class RoutePolicy:
    """Who may call a route (by its API Gateway route key) and how large its body may be."""

    body_limit: int
    authenticate: bool = True
    access_tokens: bool = False


def json_error(status: int, message: str) -> Response[str]:
    return Response(status, "application/json", json.dumps({"error": message}, separators=(",", ":")), extra_headers_for(status))


_DEFAULT_POLICY = RoutePolicy(body_limit=0)


def resolve(app: APIGatewayHttpResolver, policies: dict[str, RoutePolicy], event: dict[str, Any],
            context: LambdaContext) -> dict[str, Any]:
    """Authenticate and size-check by route key, then let the resolver validate and route.

    Routes find the caller in `app.context["principal"]`. Bodies are always read as JSON.
    """
    policy = policies.get(event.get("routeKey", ""), _DEFAULT_POLICY)
    try:
        if policy.authenticate:
            principal = get_service().authenticate(header(event, "authorization"),
                                                   allow_access_token=policy.access_tokens)
            app.append_context(principal=principal)
        check_body_size(len(body_bytes(event)), policy.body_limit, "Request body")
        check_json_object(body_bytes(event))
    except WaitpointError as error:
        app.clear_context()
        return from_error(error)
    return app.resolve(as_json_request(event), context)


def check_json_object(body: bytes) -> None:
    """A body, when there is one, must be a JSON object. Checked here because the resolver's own parsing
    lets some failures escape as 500s (deep nesting, integers over 4,300 digits) and takes `null` as empty."""
    if not body:
        return
    try:
        value = parse_json(body.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Request body is not valid JSON ({exc})"[:200]) from exc
    if not isinstance(value, dict):
        raise InvalidInput("Request body must be a JSON object")


def install(app: APIGatewayHttpResolver) -> None:
    """Answer every error as `{"error": "<message>"}` with the status from the one error table."""

    @app.exception_handler(WaitpointError)
    def _domain_error(error: WaitpointError) -> Response[str]:
        return json_error(status_for(error), error.message)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        return json_error(400, describe_validation_error(error.errors(), skip=1))

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return json_error(404, "No such route")
