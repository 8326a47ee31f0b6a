"""Lifecycle events: what the table's stream says happened to a token, as an EventBridge event.

One event per stream record that creates or ends a token: `Waitpoint Token Created` (a new token),
`Waitpoint Token Completed`, `Waitpoint Token Rejected`, `Waitpoint Token Timed Out` (WAITING → final). The detail
holds the token's id, environment, the stack it belongs to, tags, status, timestamps, the audit record, and the
output only when the deployment allows it and it is small (`OUTPUT_LIMIT`). Delivery is the stream's: at least
once, in order per token, retried and sent to the failure queue as resumes are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..durations import format_iso
from ..models import TokenStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..config import Settings
    from ..models import Waitpoint
    from ..ports import EventPublisher, TokenChange

CREATED = "Waitpoint Token Created"
ENDED = {
    TokenStatus.COMPLETED: "Waitpoint Token Completed",
    TokenStatus.REJECTED: "Waitpoint Token Rejected",
    TokenStatus.TIMED_OUT: "Waitpoint Token Timed Out",
}
OUTPUT_LIMIT = 8 * 1024  # bytes of UTF-8: an event's detail stays far under PutEvents' 256 KiB entry limit


class LifecycleEvents:
    def __init__(self, settings: Settings, publisher: Callable[[], EventPublisher] | None) -> None:
        self._settings = settings
        self._factory = publisher
        self._publisher: EventPublisher | None = None

    @property
    def enabled(self) -> bool:
        return self._factory is not None

    def event_for(self, change: TokenChange) -> tuple[str, dict[str, Any]] | None:
        """The event a token change makes (detail type, detail), or None for a change that makes none."""
        old, new = change.old, change.new
        if new is None:
            return None
        if old is None:
            detail_type = CREATED if new.status is TokenStatus.WAITING else None
        elif old.status is TokenStatus.WAITING and new.status is not TokenStatus.WAITING:
            detail_type = ENDED.get(new.status)
        else:
            detail_type = None
        return (detail_type, self.detail(new)) if detail_type else None

    def publish(self, change: TokenChange) -> str | None:
        """Publish the event of a change, if it makes one and publishing is on; returns its detail type. Raises
        Unavailable when the bus did not take it (the caller retries the record)."""
        if self._factory is None:
            return None
        event = self.event_for(change)
        if event is None:
            return None
        if self._publisher is None:
            self._publisher = self._factory()
        self._publisher.publish(*event)
        return event[0]

    def detail(self, token: Waitpoint) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "id": token.id,
            "environment": token.env,
            "status": token.status.value,
            "tags": token.tags,
            "createdAt": format_iso(token.created_at),
            "timeoutAt": format_iso(token.timeout_at),
        }
        if self._settings.stack_name:
            detail["stack"] = self._settings.stack_name
        if token.completed_at is not None:
            detail["completedAt"] = format_iso(token.completed_at)
            detail["outputIsError"] = token.output_is_error
        if token.idempotency_key is not None:
            detail["idempotencyKey"] = token.idempotency_key
        if token.audit is not None:
            detail["audit"] = token.audit.as_dict()
        if (
            self._settings.events_include_output
            and token.output is not None
            and token.output_ref is None
            and len(token.output.encode()) <= OUTPUT_LIMIT
        ):
            detail["output"] = token.output
            detail["outputType"] = token.output_type or "application/json"
        return detail
