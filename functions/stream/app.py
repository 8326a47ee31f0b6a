"""DynamoDB stream consumer: when a token stops waiting, resume the workflows waiting on it; publish each token's
lifecycle events (created, completed, rejected, timed out) to EventBridge when the stack has a bus.

Partial batch failures: a record whose delivery hit throttling or a 5xx is reported failed and retried;
executions that are gone (TaskTimedOut, InvalidToken, TaskDoesNotExist) are recorded and skipped.

Per record, the event goes first and the resumes after it: a record whose event failed has resumed nobody yet,
so its retry sends no resume twice (a resume failing after the event re-publishes the event: at least once).
Once a record of a token fails, that token's later records in the batch fail too, unprocessed, so that the
retry publishes them in the stream's order.
Then every token transition (created, completed, rejected, timed out, extended) is fanned out to the WebSocket
connections subscribed to it (docs/realtime.md). That is isolated: a fan-out failure is logged and counted, never
raised, so it can never make the stream retry a resume (nor send every other subscriber the message twice).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from waitpoints_core import Delivery, get_service
from waitpoints_core.runtime import decode_stream_record
from waitpoints_http import websocket
from waitpoints_http.metrics import count, error_name, instrument, milliseconds

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from waitpoints_core import TokenChange

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


_failed_tokens: set[str] = set()  # tokens with a failed record in this batch


def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event["dynamodb"]
    if "ApproximateCreationDateTime" in change:
        milliseconds("StreamLag", max(0.0, time.time() - float(change["ApproximateCreationDateTime"])) * 1000)
    token_change = decode_stream_record(change)
    if token_change is None:  # another kind of item (a waiter, a tag item, a key)
        return
    token_id = token_change.token_id or ""
    if token_id in _failed_tokens:
        raise RuntimeError(f"an earlier record of {token_id} failed in this batch; retried in order")
    try:
        _handle(token_change)
    except Exception:
        _failed_tokens.add(token_id)
        raise


def _handle(token_change: TokenChange) -> None:
    service = get_service()
    published = service.lifecycle.publish(token_change)
    if published:
        count("EventsPublished")
    try:
        counts = service.workflows.on_token_changed(token_change)
    except Exception as error:
        # Reported failed (a partial batch failure): Lambda retries it, the failure queue gets it past the
        # retries. The other records of the batch are processed all the same (BatchProcessor isolates each).
        count("ResumeFailures")
        logger.warning(
            "could not resume the workflows of a token; the record will be retried",
            extra={"waitpoint_id": token_change.token_id, "error": error_name(error)},
        )
        raise
    count("WorkflowsResumed", counts.get(Delivery.SENT, 0))
    count("WorkflowsGone", counts.get(Delivery.GONE, 0))
    if counts:
        logger.info(
            "resumed waiting workflows",
            extra={
                "waitpoint_id": token_change.token_id,
                **{delivery.value: n for delivery, n in counts.items()},  # sent: resumed; gone: no longer waiting
            },
        )
    notify(token_change)


def notify(token_change: TokenChange) -> None:
    """Fan a transition out to its subscribers. Never raises: the resume above has happened and must not be
    retried for a subscriber's sake."""
    try:
        fanned = websocket.publish(token_change)  # None: not a transition (or no WebSocket API configured)
    except Exception:
        count("RealtimeErrors", 1)
        logger.exception("real-time fan-out failed", extra={"waitpoint_id": token_change.token_id})
        return
    if fanned:
        count("RealtimeSent", fanned.sent)
        count("RealtimeGone", fanned.gone)
        count("RealtimeFailed", fanned.failed)


@instrument
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _failed_tokens.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    count("ResumeRetries", len(response.get("batchItemFailures", [])))
    return dict(response)
