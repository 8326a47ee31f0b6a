"""In-process moto for the Step Functions bridge: the real service and stream handler, with a recording
stand-in for Step Functions' SendTask* API (moto drops `cause` and cannot inject faults)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from waitpoints_core import WaitpointService, aws, get_service
from waitpoints_local.lambdas import LocalFunction
from waitpoints_local.streams import lambda_record, matches
from waitpoints_local.template import Template

from tests.in_process import deployment

if TYPE_CHECKING:
    from collections.abc import Iterator

TEMPLATE = Template()


@dataclass
class StepFunctions:
    """Answers SendTaskSuccess/SendTaskFailure on the service's own client (through botocore's
    before-call hook) and records them. `faults[task_token]` is a list of error codes to answer first."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params["body"])
        pending = self.faults.get(request["taskToken"])
        if pending:
            code = pending.pop(0)
            status = 400 if code in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist", "ThrottlingException") else 500
            error = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
            return AWSResponse("https://states", status, {}, None), error
        self.calls.append({"operation": model.name, **request})
        return AWSResponse("https://states", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def outcomes(self) -> dict[str, dict[str, Any]]:
        """task token → the last call made for it."""
        return {call["taskToken"]: call for call in self.calls}


@dataclass
class Bridge:
    service: WaitpointService
    sfn: StepFunctions
    stream: LocalFunction
    table: str
    _last_sequence: str | None = None

    def deliver_stream(self) -> list[dict[str, Any]]:
        """Read the stream records written since the last call, filter them as the template's event
        source mapping does, and hand them to the stream function as one batch. Returns its response."""
        streams, ddb = boto3.client("dynamodbstreams"), boto3.client("dynamodb")
        arn = ddb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._last_sequence}
            if self._last_sequence
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **position)["ShardIterator"]
        records: list[dict[str, Any]] = []
        while True:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += [lambda_record(r, arn) for r in page["Records"]]
            iterator = page["NextShardIterator"]
        if records:
            self._last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
        (source,) = next(f for f in TEMPLATE.functions() if f.logical_id == "StreamFunction").streams
        return [r for r in records if any(matches(p, r) for p in source.filters)]

    def invoke_stream(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self.stream.invoke({"Records": records}))


@pytest.fixture
def bridge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Bridge]:
    with deployment(monkeypatch, TEMPLATE) as (refs, _):
        table = refs["TokensTable"]
        sfn = StepFunctions()
        for operation in ("SendTaskSuccess", "SendTaskFailure"):
            aws.client("stepfunctions").meta.events.register(f"before-call.sfn.{operation}", sfn)
        stream = LocalFunction(next(f for f in TEMPLATE.functions() if f.logical_id == "StreamFunction"))
        yield Bridge(get_service(), sfn, stream, table)
