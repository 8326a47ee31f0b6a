"""The callback URL: POST /api/v1/waitpoints/tokens/{id}/callback/{hash}, no API key (the hash is the credential).

Kept free of the event-handler framework: this is what webhook senders call, and it must answer fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from waitpoints_core import WaitpointError, get_service
from waitpoints_core.models import Actor, Door
from waitpoints_http.metrics import count, instrument
from waitpoints_http.request import body_bytes, source
from waitpoints_http.responses import error_response, from_error, json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@instrument
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event["requestContext"]["http"]["method"] != "POST":
        count("CallbacksRejected", reason="MethodNotAllowed")
        return error_response(405, "Method not allowed: POST the completion to this URL", {"Allow": "POST"})
    params = event.get("pathParameters") or {}
    ip, agent = source(event)
    try:
        won = get_service().tokens.complete_by_callback(
            params.get("id", ""),
            params.get("hash", ""),
            body_bytes(event),
            event.get("headers") or {},
            Actor(Door.CALLBACK_URL, source_ip=ip, user_agent=agent),
        )
    except WaitpointError as error:
        count("CallbacksRejected", reason=type(error).__name__)
        return from_error(error)
    count("TokensCompleted", int(won))
    return json_response(200, {"success": True})
