"""Trigger.dev's JSON shapes: camelCase names, ISO dates with milliseconds, absent fields omitted (never null)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from waitpoints_core import CreatedToken, TokenPage, TokenStatus, WaiterKind, Waitpoint, format_iso

if TYPE_CHECKING:
    from collections.abc import Callable

    from waitpoints_core import Audit, WaiterListing, WaiterSummary

# Trigger.dev's SDK accepts only WAITING, COMPLETED and TIMED_OUT: a rejected token is COMPLETED with an error
# output (what Trigger.dev does with a failed waitpoint), and `rejected: true` says which.
WIRE_STATUS = {TokenStatus.REJECTED: "COMPLETED"}
WAITER_KINDS = {WaiterKind.STEP_FUNCTIONS: "stepFunctions", WaiterKind.DURABLE: "durable"}


def created(token: CreatedToken, url: str, approval_url: str | None = None) -> dict[str, Any]:
    body = {
        "id": token.id,
        "url": url,
        "isCached": token.is_cached,
        "publicAccessToken": token.public_access_token,
    }
    if approval_url is not None:  # extension: only for a token created with `approval`
        body["approvalUrl"] = approval_url
    return body


def jwt_headers(token: CreatedToken) -> dict[str, str]:
    """What the official SDK reads: the access token, and the claims it would otherwise self-sign with."""
    return {
        "x-trigger-jwt": token.public_access_token,
        "x-trigger-jwt-claims": json.dumps({"sub": token.env, "pub": True}, separators=(",", ":")),
    }


def listed(item: Waitpoint, url: str) -> dict[str, Any]:
    """A list item: the token without its output (retrieve has it)."""
    body: dict[str, Any] = {
        "id": item.id,
        "url": url,
        "status": WIRE_STATUS.get(item.status, item.status.value),
        "tags": item.tags,
        "createdAt": format_iso(item.created_at),
        "timeoutAt": format_iso(item.timeout_at),
    }
    if item.completed_at is not None:
        body["completedAt"] = format_iso(item.completed_at)
    if item.idempotency_key is not None:
        body["idempotencyKey"] = item.idempotency_key
        body["idempotencyKeyExpiresAt"] = format_iso(item.idempotency_key_expires_at or 0)
    if item.status is TokenStatus.REJECTED:
        body["rejected"] = True  # extension: the status says COMPLETED, as Trigger.dev's SDK requires
    return body


def token(item: Waitpoint, url: str) -> dict[str, Any]:
    """Retrieve's shape: the list item, with the output."""
    body = listed(item, url)
    if item.output is not None:
        body["output"] = item.output
        body["outputType"] = item.output_type or "application/json"
    body["outputIsError"] = item.output_is_error
    reason = (item.rejection or {}).get("reason")
    if reason is not None:
        body["rejectReason"] = reason
    if item.description is not None:
        body["description"] = item.description
    if item.audit is not None:  # extension: how the token ended (Trigger.dev's SDK ignores what it does not know)
        body["audit"] = audit(item.audit)
    if item.schema is not None:  # extension: the completion schema, as stored
        body["schema"] = json.loads(item.schema)
    if item.approval is not None:  # extension: the approval page's texts
        body["approval"] = item.approval
    if item.deliveries:  # extension: callbacks acknowledged that did not complete the token (completeWhen)
        body["deliveriesReceived"] = item.deliveries
        body["lastDeliveryAt"] = format_iso(item.last_delivery_at or 0)
    return body


def with_waiters(body: dict[str, Any], listing: WaiterListing) -> dict[str, Any]:
    """Retrieve's extension for a secret key: `waiters` (always, [] for none) and `waitersTruncated: true` when
    the token has more than are listed."""
    body["waiters"] = [waiter(w) for w in listing.waiters]
    if listing.truncated:
        body["waitersTruncated"] = True
    return body


def waiter(item: WaiterSummary) -> dict[str, Any]:
    """A waiter's shape: kind, digest (of its handle: never the handle), attachedAt, resumedAt when resumed."""
    body: dict[str, Any] = {"kind": WAITER_KINDS[item.kind], "digest": item.digest}
    if item.attached_at is not None:
        body["attachedAt"] = format_iso(item.attached_at)
    if item.resumed_at is not None:
        body["resumedAt"] = format_iso(item.resumed_at)
    return body


def audit(record: Audit) -> dict[str, Any]:
    """An audit record's shape: door, action, at, and keyId / sourceIp / userAgent when known."""
    return record.as_dict()


def page(result: TokenPage, url_for: Callable[[str], str]) -> dict[str, Any]:
    pagination = {name: value for name, value in (("next", result.next), ("previous", result.previous)) if value}
    return {"data": [listed(t, url_for(t.id)) for t in result.tokens], "pagination": pagination}
