"""DynamoDB stream consumer: when a token stops waiting, resume the workflows waiting on it.

Partial batch failures: a record whose delivery hit throttling or a 5xx is reported failed and retried;
executions that are gone (TaskTimedOut, InvalidToken, TaskDoesNotExist) are recorded and skipped.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from waitpoints_core import Delivery, get_service
from waitpoints_core.runtime import decode_stream_record
from waitpoints_http.metrics import count, error_name, instrument, milliseconds

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event["dynamodb"]
    if "ApproximateCreationDateTime" in change:
        milliseconds("StreamLag", max(0.0, time.time() - float(change["ApproximateCreationDateTime"])) * 1000)
    token_change = decode_stream_record(change)
    if token_change is None:  # another kind of item (a waiter, a tag item, a key)
        return
    try:
        counts = get_service().workflows.on_token_changed(token_change)
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


@instrument
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    count("ResumeRetries", len(response.get("batchItemFailures", [])))
    return dict(response)
