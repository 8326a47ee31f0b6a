"""DynamoDB stream event source mappings, emulated: poll the stream, filter, batch, invoke, retry.

Follows Lambda's behaviour for the settings the template uses: FilterCriteria (exact-value patterns),
BatchSize, ReportBatchItemFailures (retry from the first failed record), BisectBatchOnFunctionError,
MaximumRetryAttempts, and an on-failure SQS destination that receives the batch's description.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3

from .lambdas import ContainerPool, InvocationError

if TYPE_CHECKING:
    from .template import StreamSource

POLL_SECONDS = 0.05
RETRY_BACKOFF_SECONDS = 0.2


def matches(pattern: Any, value: Any) -> bool:
    """The subset of event-filter patterns the template uses: nested objects, lists of exact values."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return bool(pattern == value)


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


class StreamPoller(threading.Thread):
    def __init__(
        self, source: StreamSource, pool: ContainerPool, table_name: str, failure_queue_url: str | None
    ) -> None:
        super().__init__(name=f"stream-{pool.function.logical_id}", daemon=True)
        self._source, self._pool, self._table = source, pool, table_name
        self._queue_url = failure_queue_url
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        streams = boto3.client("dynamodbstreams")
        arn = boto3.client("dynamodb").describe_table(TableName=self._table)["Table"]["LatestStreamArn"]
        iterators = {
            s["ShardId"]: streams.get_shard_iterator(
                StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for s in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        }
        while not self._stopping.is_set():
            busy = False
            for shard_id, current in list(iterators.items()):
                response = streams.get_records(ShardIterator=current, Limit=self._source.batch_size)
                iterators[shard_id] = response["NextShardIterator"]
                records = [lambda_record(r, arn) for r in response.get("Records", [])]
                batch = [
                    r for r in records if not self._source.filters or any(matches(p, r) for p in self._source.filters)
                ]
                if batch:
                    self._deliver(batch, attempts=0)
                busy = busy or bool(records)
            if not busy:
                self._stopping.wait(POLL_SECONDS)

    def _deliver(self, batch: list[dict[str, Any]], attempts: int) -> None:
        while batch and not self._stopping.is_set():
            try:
                result = self._pool.invoke({"Records": batch})
                failed = [f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])]
            except InvocationError:
                if self._source.bisect_on_error and len(batch) > 1:
                    # As on AWS, splitting a batch does not count towards the retry quota.
                    half = len(batch) // 2
                    self._deliver(batch[:half], attempts)
                    self._deliver(batch[half:], attempts)
                    return
                failed = [batch[0]["dynamodb"]["SequenceNumber"]]
            if not failed:
                return
            attempts += 1
            if 0 <= self._source.max_retries < attempts:
                self._send_to_failure_queue(batch)
                return
            sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
            batch = batch[min(sequence_numbers.index(s) for s in failed if s in sequence_numbers) :]
            self._stopping.wait(RETRY_BACKOFF_SECONDS)

    def _send_to_failure_queue(self, batch: list[dict[str, Any]]) -> None:
        if not self._queue_url:
            return
        info = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self._pool.function.logical_id},
            "DDBStreamBatchInfo": {
                "shardId": batch[0]["eventID"],
                "batchSize": len(batch),
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "streamArn": batch[0]["eventSourceARN"],
            },
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        boto3.client("sqs").send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(info))


class Scheduler(threading.Thread):
    """A `Schedule` event, run every `every` seconds locally (AWS runs the template's rate)."""

    def __init__(self, pool: ContainerPool, every: float) -> None:
        super().__init__(name=f"schedule-{pool.function.logical_id}", daemon=True)
        self._pool, self._every = pool, every
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.wait(self._every):
            event = {
                "version": "0",
                "source": "aws.events",
                "detail-type": "Scheduled Event",
                "detail": {},
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "region": "us-east-1",
                "resources": [f"local-schedule-{self._pool.function.logical_id}"],
            }
            try:
                self._pool.invoke(event, asynchronous=True)  # EventBridge invokes asynchronously
            except InvocationError as error:
                print(error, flush=True)
