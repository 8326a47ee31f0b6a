"""CreateTokenFunction: a workflow creates a waitpoint token without an API key (IAM authorises the invoke).

Payload: `{"environment": "prod", "timeout"?, "idempotencyKey"?, "idempotencyKeyTTL"?, "tags"?}`, the
same options as `POST /api/v1/waitpoints/tokens`. Returns `{id, url, isCached, publicAccessToken}`.
Bad input fails the task with the error `InvalidInput` (or `TooManyTags`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from waitpoints_core import WorkflowCreateTokenRequest, get_service, parse_request
from waitpoints_core.observability import count, instrument
from waitpoints_http import wire

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@instrument
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    created = get_service().create_for_workflow(parse_request(WorkflowCreateTokenRequest, event))
    count("IdempotentCreates" if created.is_cached else "TokensCreated")
    return wire.created(created)
