"""The approval page: GET|HEAD|POST /api/v1/waitpoints/tokens/{id}/approval/{hash}, no API key (the hash is the
credential, and not the callback URL's: neither can be turned into the other).

- GET and HEAD only read: a link scanner, a chat preview or a browser prefetch sees the page and never acts.
- POST (`application/x-www-form-urlencoded`, at most MAX_FORM_BYTES) approves, completing the token with the
  form's fields typed per its schema, or rejects it with the reason; then 303 back to the page (a reload posts
  nothing). A validation error re-renders the form (422) with the messages and what was typed; the token keeps
  waiting. A token already completed, rejected or timed out shows that final state, without buttons.
- An unknown id, a bad hash, a token without an approval page or one gone: the same plain 404 page.

Kept free of the event-handler framework and of pydantic: it must open fast from an e-mail.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from waitpoints_core import InvalidInput, NotFound, TokenStatus, WaitpointError, get_service
from waitpoints_core.errors import SchemaMismatch
from waitpoints_http.metrics import count, instrument
from waitpoints_http.pages import (
    ApprovalView,
    card_page,
    decode_form_body,
    form_fields,
    parse_decision,
    redirect_to,
    render_approval,
    render_not_found,
)
from waitpoints_http.pages.form import errors_from_mismatch
from waitpoints_http.request import body_bytes, header

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from waitpoints_core import Waitpoint
    from waitpoints_http.pages.approval import Page

MAX_FORM_BYTES = 64 * 1024  # under the output offload size: a decision never needs S3
FORM_TYPE = "application/x-www-form-urlencoded"
STATES = {
    TokenStatus.WAITING: "waiting",
    TokenStatus.COMPLETED: "completed",
    TokenStatus.REJECTED: "rejected",
    TokenStatus.TIMED_OUT: "timed_out",
}

logger = Logger()


@instrument
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = event["requestContext"]["http"]["method"]
    if method not in ("GET", "HEAD", "POST"):
        page = card_page(405, "Not allowed", "Open this link in a browser.")
        page[1]["Allow"] = "GET, HEAD, POST"
    else:
        try:
            page = _page(event, method)
        except NotFound:
            page = render_not_found()
        except WaitpointError as error:  # Unavailable: the service is busy
            count("ApprovalPagesFailed", reason=type(error).__name__)
            page = card_page(503, "Try again in a moment", "The service is busy. Reload this page shortly.")
            page[1]["Retry-After"] = "1"
    status, headers, html = page
    return {
        "statusCode": status,
        "headers": headers,
        "body": "" if method == "HEAD" else html,
        "isBase64Encoded": False,
    }


def _page(event: dict[str, Any], method: str) -> Page:
    params = event.get("pathParameters") or {}
    url_hash = params.get("hash", "")
    approvals = get_service().approvals
    if method != "POST":
        return render_approval(_view(approvals.token(params.get("id", ""), url_hash)))
    body = body_bytes(event)
    if len(body) > MAX_FORM_BYTES:
        return card_page(
            413, "Too much text", "The form holds more text than this page accepts. Go back and shorten it."
        )
    content_type = (header(event, "content-type") or "").split(";")[0].strip().lower()
    token = approvals.token(params.get("id", ""), url_hash)
    view = _view(token)
    if view.state != "waiting":
        return render_approval(view)  # decided meanwhile: the final state, whatever was posted
    if content_type != FORM_TYPE:
        return card_page(415, "This form could not be read", "Go back and submit the form again.")
    try:
        decision = parse_decision(token.schema, decode_form_body(body), reason_required=view.reason_required)
    except InvalidInput as error:  # e.g. too many fields
        return render_approval(dataclasses.replace(view, errors={"": error.message}))
    if not decision.ok:
        values = decision.values if decision.action == "approve" else None
        return render_approval(
            dataclasses.replace(
                view, errors=decision.errors, reason_error=decision.reason_error, values=values, reason=decision.reason
            )
        )
    try:
        if decision.action == "approve":
            won = approvals.approve(token, decision.data)
            count("TokensCompleted", int(won))
        else:
            won = approvals.reject(token, decision.reason)
            count("TokensRejected", int(won))
    except SchemaMismatch as mismatch:  # parse_decision checked the schema already: kept for safety
        errors = errors_from_mismatch(form_fields(token.schema), mismatch)
        return render_approval(dataclasses.replace(view, errors=errors, values=decision.values))
    # Relative to the page's own URL, the hash alone names the page again (whatever stage or domain it is under).
    return redirect_to(url_hash)


def _view(token: Waitpoint) -> ApprovalView:
    approval = token.approval or {}
    state = STATES[token.status]
    return ApprovalView(
        title=str(approval.get("title", "")),
        description=str(approval.get("description", "")),
        approve_label=str(approval.get("approveLabel") or "Approve"),
        reject_label=str(approval.get("rejectLabel") or "Reject"),
        reason_required=bool(approval.get("reasonRequired", False)),
        schema=token.schema,
        state=state,  # type: ignore[arg-type]
        decided_at_ms=token.completed_at if state != "waiting" else None,
    )
