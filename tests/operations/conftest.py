"""The operator actions, audit records and lifecycle events on in-process moto: the real API, callback, sweep and
stream handlers, Step Functions answered by the bridge tests' recorder, EventBridge and SQS by moto (a rule on the
default bus targets a queue)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from waitpoints_core import aws, runtime
from waitpoints_local.lambdas import LocalFunction

from tests.bridge.conftest import TEMPLATE, Bridge
from tests.bridge.conftest import bridge as bridge  # noqa: PLC0414 - the fixture, re-exported

if TYPE_CHECKING:
    from collections.abc import Iterator

STACK = "waitpoints-test"


@dataclass
class PutEventsFaults:
    """Fails the next `failing` PutEvents calls of the service's client: as a throttle, or as an accepted call
    whose entry was refused (FailedEntryCount), alternately. Records the entries that went through."""

    failing: int = 0
    failed: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if self.failing <= 0:
            self.accepted += json.loads(params["body"])["Entries"]
            return None  # moto answers (and routes the event to the rule's targets)
        self.failing -= 1
        self.failed += 1
        if self.failed % 2:
            error = {
                "Error": {"Code": "ThrottlingException", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("https://events", 400, {}, None), error
        refused = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}]}
        return AWSResponse("https://events", 200, {}, None), {**refused, "ResponseMetadata": {"HTTPStatusCode": 200}}


@dataclass
class Ops:
    bridge: Bridge
    functions: dict[str, LocalFunction]
    key: str
    queue_url: str
    events: PutEventsFaults

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.functions[name].invoke(event)

    def received(self) -> list[dict[str, Any]]:
        """Every event the rule's queue holds now (each message deleted once read)."""
        sqs, seen = boto3.client("sqs"), []
        while True:
            page = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = page.get("Messages", [])
            if not messages:
                return seen
            for message in messages:
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def ops(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ops]:
    monkeypatch.setenv("WAITPOINTS_EVENT_BUS", "default")
    monkeypatch.setenv("WAITPOINTS_STACK", STACK)
    runtime.get_service.cache_clear()  # settings re-read; the clients (and the Step Functions recorder) stay
    bridge.service = runtime.get_service()
    faults = PutEventsFaults()
    aws.client("events").meta.events.register("before-call.events.PutEvents", faults)
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue_url = sqs.create_queue(QueueName="lifecycle-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="this-stack", EventPattern=json.dumps({"source": ["waitpoints"], "detail": {"stack": [STACK]}})
    )
    events.put_targets(Rule="this-stack", Targets=[{"Id": "queue", "Arn": queue_arn}])
    key = _mint(bridge)
    names = ("ApiFunction", "CallbackFunction", "SweepFunction", "WaitForTokenFunction")
    functions = {f.logical_id: LocalFunction(f) for f in TEMPLATE.functions() if f.logical_id in names}
    functions["StreamFunction"] = bridge.stream
    yield Ops(bridge, functions, key, queue_url, faults)


def _mint(bridge: Bridge) -> str:
    from waitpoints_core.dynamodb import DynamoDBStore
    from waitpoints_core.services.auth import mint_api_key

    return mint_api_key(DynamoDBStore(boto3.client("dynamodb"), bridge.table), "dev")
