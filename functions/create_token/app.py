"""CreateTokenFunction: a workflow creates a waitpoint token without an API key (IAM authorises the invoke).

Payload: `{"environment": "prod", "timeout"?, "idempotencyKey"?, "idempotencyKeyTTL"?, "tags"?, "schema"?,
"approval"?}`, the same options as `POST /api/v1/waitpoints/tokens`. Returns `{id, url, isCached,
publicAccessToken}`, and `approvalUrl` for a token with an approval page.
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
    request = parse_request(WorkflowCreateTokenRequest, event)
    if request.approval is not None and request.completion_schema is not None:
        from waitpoints_http.pages import form_fields

        form_fields(request.completion_schema)  # the approval page must be able to show a form for it
    created = service.workflows.create_for_workflow(request)
    count("IdempotentCreates" if created.is_cached else "TokensCreated")
    base = service.settings.public_url or service.settings.api_url or ""
    approval = None if created.approval_hash is None else routes.approval_url(base, created.id, created.approval_hash)
    return wire.created(created, routes.callback_url(base, created.id, created.callback_hash), approval)
