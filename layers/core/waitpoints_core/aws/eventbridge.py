"""EventBridge: the EventPublisher port, one PutEvents entry per lifecycle event.

PutEvents answers 200 even when it refused an entry (`FailedEntryCount`, with each entry's `ErrorCode`): that is a
failure too, raised as Unavailable so that the stream consumer reports the record and Lambda retries it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import Unavailable
from .errors import aws_errors

if TYPE_CHECKING:
    from botocore.client import BaseClient

SOURCE = "waitpoints"


class EventBridgePublisher:
    def __init__(self, client: BaseClient, bus: str) -> None:
        self._events: Any = client
        self._bus = bus

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False),
            "EventBusName": self._bus,
        }
        with aws_errors():
            answer = self._events.put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            failed: dict[str, Any] = next((e for e in answer.get("Entries", []) if e.get("ErrorCode")), {})
            raise Unavailable(f"EventBridge refused the event ({failed.get('ErrorCode', 'unknown error')})")
