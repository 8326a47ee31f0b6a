"""The token API: create, list, retrieve and complete (Trigger.dev's /api/v1/waitpoints/tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from waitpoints_core import (
    COMPLETION_BODY_LIMIT,
    CREATE_BODY_LIMIT,
    CompleteTokenRequest,
    CreateTokenRequest,
    get_service,
    parse_list_query,
)
from waitpoints_core.observability import count, instrument
from waitpoints_http import cors, openapi, wire
from waitpoints_http.request import base_url, query_params
from waitpoints_http.resolver import RoutePolicy, install, resolve

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

TOKENS = "/api/v1/waitpoints/tokens"
OPENAPI = "/api/v1/openapi.json"
COMPLETE_ROUTE = f"POST {TOKENS}/{{id}}/complete"

logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)
install(app)
POLICIES = {
    f"POST {TOKENS}": RoutePolicy(body_limit=CREATE_BODY_LIMIT),
    f"GET {TOKENS}": RoutePolicy(body_limit=0),
    f"GET {TOKENS}/{{id}}": RoutePolicy(body_limit=0),
    COMPLETE_ROUTE: RoutePolicy(body_limit=COMPLETION_BODY_LIMIT, access_tokens=True),
    f"OPTIONS {TOKENS}/{{id}}/complete": RoutePolicy(body_limit=0, authenticate=False),
    f"GET {OPENAPI}": RoutePolicy(body_limit=0, authenticate=False),
}

TokenId = Annotated[str, Path(description="The token id, `waitpoint_…` (or its 25 characters alone)")]



@app.post(TOKENS, summary="Create a waitpoint token",
          responses=openapi.responses(openapi.CreatedToken, 400, 401, 413, 422, 503))
def create_token(request: Annotated[CreateTokenRequest, Body()] = CreateTokenRequest()) -> Response[dict[str, Any]]:
    created = get_service().create(app.context["principal"].env, request, base_url(app.current_event.raw_event))
    count("IdempotentCreates" if created.is_cached else "TokensCreated")
    return Response(200, "application/json", wire.created(created), wire.jwt_headers(created))


# Routes without a body to validate skip Powertools' validation middlewares (`enable_validation=False`): they have
# no parameter pydantic could reject (the query is parsed by parse_list_query, the id by the service), and the
# response "validation" against `dict[str, Any]` walked the whole body through jsonable_encoder on every call,
# about half of a list page's handler time (`make bench`). The JSON they answer is byte for byte the same.
@app.get(TOKENS, summary="List waitpoint tokens, newest first", enable_validation=False,
         responses=openapi.responses(openapi.TokenPage, 400, 401, 413, 503))
def list_tokens() -> dict[str, Any]:  # the query string is read raw (a repeat keeps its last value)
    event = app.current_event.raw_event
    service = get_service()
    result = service.list_tokens(app.context["principal"].env, parse_list_query(query_params(event)))
    base = base_url(event)
    return wire.page(result, lambda token_id: service.callback_url(base, token_id))


@app.get(f"{TOKENS}/<id>", summary="Retrieve a waitpoint token", enable_validation=False,
         responses=openapi.responses(openapi.Token, 401, 404, 413, 503))
def retrieve_token(id: TokenId) -> dict[str, Any]:
    service = get_service()
    token = service.retrieve(app.context["principal"].env, id)
    return wire.token(token, service.callback_url(base_url(app.current_event.raw_event), token.id))


@app.post(f"{TOKENS}/<id>/complete", summary="Complete a waitpoint token",
          responses=openapi.responses(openapi.Success, 400, 401, 403, 404, 413, 503))
def complete_token(id: TokenId, request: Annotated[CompleteTokenRequest, Body()] = CompleteTokenRequest()) -> dict[str, bool]:
    principal = app.context["principal"]
    won = (get_service().complete(principal, id, request.data) if request.has_data
           else get_service().complete(principal, id))
    count("TokensCompleted", int(won))
    return {"success": True}


@app.route(f"{TOKENS}/<id>/complete", method="OPTIONS", include_in_schema=False, enable_validation=False)
def complete_preflight(id: str) -> Response[str]:
    preflight = cors.preflight(app.current_event.raw_event, get_service().settings.cors_origins)
    return Response(preflight["statusCode"], None, "", preflight["headers"])


@app.get(OPENAPI, include_in_schema=False)
def openapi_document() -> dict[str, Any]:
    return openapi.document(app)


@instrument
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = resolve(app, POLICIES, event, context)
    if event.get("routeKey") == COMPLETE_ROUTE:
        cors.add_headers(event, response, get_service().settings.cors_origins)
    return response
