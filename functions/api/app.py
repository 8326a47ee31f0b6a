"""The token API: create, list, retrieve, complete and reject (Trigger.dev's /api/v1/waitpoints/tokens), and
the operator actions force-timeout and extend (secret key only)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from waitpoints_core import COMPLETION_BODY_LIMIT, CREATE_BODY_LIMIT, format_iso, get_service
from waitpoints_http import cors, routes, wire
from waitpoints_http.list_query import parse_list_query
from waitpoints_http.metrics import count, instrument
from waitpoints_http.request import actor_of, base_url, query_params
from waitpoints_http.resolver import RoutePolicy, install, resolve
from waitpoints_http.routes import (
    COMPLETE,
    EXTEND,
    FORCE_TIMEOUT,
    OPENAPI,
    REJECT,
    TOKEN,
    TOKENS,
    resolver_path,
    route_key,
)

COMPLETED_HEADER = "X-Waitpoints-Completed"

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

COMPLETE_ROUTE = route_key("POST", COMPLETE)
REJECT_ROUTE = route_key("POST", REJECT)
CORS_ROUTES = frozenset({COMPLETE_ROUTE, REJECT_ROUTE})

logger = Logger()
# The routes validate their bodies themselves (see waitpoints_http.resolver) and the OpenAPI document is built
# on request from waitpoints_http.openapi, so neither Powertools' validation nor pydantic loads at an on-demand
# cold start: pydantic loads with the first create or complete. When init runs ahead of traffic (provisioned
# concurrency, SnapStart), it loads here instead.
if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") != "on-demand":
    import waitpoints_core.request_models  # noqa: F401
app = APIGatewayHttpResolver()
install(app)
POLICIES = {
    route_key("POST", TOKENS): RoutePolicy(body_limit=CREATE_BODY_LIMIT),
    route_key("GET", TOKENS): RoutePolicy(body_limit=0),
    route_key("GET", TOKEN): RoutePolicy(body_limit=0),
    COMPLETE_ROUTE: RoutePolicy(body_limit=COMPLETION_BODY_LIMIT, access_tokens=True),
    # Operator actions: an access token authenticates, so that the service can answer it 403 (not 401).
    route_key("POST", FORCE_TIMEOUT): RoutePolicy(body_limit=1024, access_tokens=True),
    route_key("POST", EXTEND): RoutePolicy(body_limit=1024, access_tokens=True),
    route_key("OPTIONS", COMPLETE): RoutePolicy(body_limit=0, authenticate=False),
    REJECT_ROUTE: RoutePolicy(body_limit=COMPLETION_BODY_LIMIT, access_tokens=True),
    route_key("OPTIONS", REJECT): RoutePolicy(body_limit=0, authenticate=False),
    route_key("GET", OPENAPI): RoutePolicy(body_limit=0, authenticate=False),
}


def _token_url(token_id: str) -> str:
    service = get_service()
    base = base_url(app.current_event.raw_event, service.settings.public_url)
    return routes.callback_url(base, token_id, service.tokens.callback_hash(token_id))


@app.post(TOKENS, summary="Create a waitpoint token")
def create_token() -> Response[dict[str, Any]]:
    from waitpoints_core.request_models import CreateTokenRequest, parse_request

    request = parse_request(CreateTokenRequest, app.context["body"])
    if request.approval is not None and request.completion_schema is not None:
        from waitpoints_http.pages import form_fields

        form_fields(request.completion_schema)  # the page must be able to show a form for it (400 otherwise)
    created = get_service().tokens.create(app.context["principal"].env, request)
    count("IdempotentCreates" if created.is_cached else "TokensCreated")
    base = base_url(app.current_event.raw_event, get_service().settings.public_url)
    url = routes.callback_url(base, created.id, created.callback_hash)
    approval = None if created.approval_hash is None else routes.approval_url(base, created.id, created.approval_hash)
    return Response(200, "application/json", wire.created(created, url, approval), wire.jwt_headers(created))


@app.get(TOKENS, summary="List waitpoint tokens, newest first")
def list_tokens() -> dict[str, Any]:  # the query string is read raw (a repeat keeps its last value)
    query = parse_list_query(query_params(app.current_event.raw_event))
    return wire.page(get_service().listing.list_tokens(app.context["principal"].env, query), _token_url)


@app.get(resolver_path(TOKEN), summary="Retrieve a waitpoint token")
def retrieve_token(id: str) -> dict[str, Any]:
    service = get_service()
    token, waiters = service.tokens.retrieve_with_waiters(app.context["principal"], id)
    body = wire.token(token, _token_url(token.id))
    if token.approval is not None:
        base = base_url(app.current_event.raw_event, service.settings.public_url)
        body["approvalUrl"] = routes.approval_url(base, token.id, service.tokens.approval_hash(token.id))
    return body if waiters is None else wire.with_waiters(body, waiters)


@app.post(resolver_path(COMPLETE), summary="Complete a waitpoint token")
def complete_token(id: str) -> Response[dict[str, bool]]:
    from waitpoints_core.request_models import CompleteTokenRequest, parse_request

    request = parse_request(CompleteTokenRequest, app.context["body"])
    tokens, principal = get_service().tokens, app.context["principal"]
    actor = actor_of(app.current_event.raw_event, principal)
    if request.has_data:
        won = tokens.complete(principal, id, request.data, actor=actor)
    else:
        won = tokens.complete(principal, id, actor=actor)
    count("TokensCompleted", int(won))
    # Whether this call completed the token (false: it was already final): an extension Trigger.dev's SDK ignores.
    return Response(200, "application/json", {"success": True}, {COMPLETED_HEADER: "true" if won else "false"})


@app.post(resolver_path(FORCE_TIMEOUT), summary="Force a waitpoint token to time out now (secret key only)")
def force_timeout_token(id: str) -> dict[str, bool]:
    from waitpoints_core.request_models import ForceTimeoutRequest, parse_request

    parse_request(ForceTimeoutRequest, app.context["body"])
    principal = app.context["principal"]
    won = get_service().tokens.force_timeout(principal, id, actor_of(app.current_event.raw_event, principal))
    count("TokensForcedTimeout", int(won))
    return {"success": True, "timedOut": won}


@app.post(resolver_path(EXTEND), summary="Extend a waiting waitpoint token's timeout (secret key only)")
def extend_token(id: str) -> dict[str, Any]:
    from waitpoints_core.request_models import ExtendTokenRequest, parse_request

    request = parse_request(ExtendTokenRequest, app.context["body"])
    token = get_service().tokens.extend(app.context["principal"], id, request.timeout)
    count("TokensExtended")
    return {"success": True, "timeoutAt": format_iso(token.timeout_at)}


@app.post(resolver_path(REJECT), summary="Reject a waitpoint token")
def reject_token(id: str) -> dict[str, bool]:
    from waitpoints_core.request_models import RejectTokenRequest, parse_request

    request = parse_request(RejectTokenRequest, app.context["body"])
    tokens, principal = get_service().tokens, app.context["principal"]
    actor = actor_of(app.current_event.raw_event, principal)
    if request.has_data:
        won = tokens.reject(principal, id, request.reason, request.data, actor=actor)
    else:
        won = tokens.reject(principal, id, request.reason, actor=actor)
    count("TokensRejected", int(won))
    return {"success": True}


@app.route(resolver_path(COMPLETE), method="OPTIONS", include_in_schema=False)
def complete_preflight(id: str) -> Response[str]:
    preflight = cors.preflight(app.current_event.raw_event, get_service().settings.cors_origins)
    return Response(preflight["statusCode"], None, "", preflight["headers"])


@app.route(resolver_path(REJECT), method="OPTIONS", include_in_schema=False)
def reject_preflight(id: str) -> Response[str]:
    return complete_preflight(id)


@app.get(OPENAPI, include_in_schema=False)
def openapi_document() -> dict[str, Any]:
    from waitpoints_http import openapi

    return openapi.document(app)


@instrument
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = resolve(app, POLICIES, event, context)
    if event.get("routeKey") in CORS_ROUTES:
        cors.add_headers(event, response, get_service().settings.cors_origins)
    return response
