"""CreateTokenFunction: a workflow creates a waitpoint token without an API key (IAM authorises the invoke).

Payload: `{"environment": "prod", "timeout"?, "idempotencyKey"?, "idempotencyKeyTTL"?, "tags"?}`, the
same options as `POST /api/v1/waitpoints/tokens`. Returns `{id, url, isCached, publicAccessToken}`.
Bad input fails the task with the error `InvalidInput` (or `TooManyTags`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from waitpoints_core import WorkflowCreateTokenRequest, get_service, parse_request
from waitpoints_http import routes, wire
from waitpoints_http.metrics import count, instrument

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@instrument
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service = get_service()
    created = service.workflows.create_for_workflow(parse_request(WorkflowCreateTokenRequest, event))
    count("IdempotentCreates" if created.is_cached else "TokensCreated")
    base = service.settings.public_url or service.settings.api_url or ""
    return wire.created(created, routes.callback_url(base, created.id, created.callback_hash))
