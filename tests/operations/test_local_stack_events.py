"""Lifecycle events on the local stack (`make run`): moto's EventBridge, a rule on the default bus targeting an
SQS queue. Every transition of a batch of tokens arrives at least once; an event of another stack on the same
bus does not; the make-run banner names the console."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from waitpoints_local.template import load_cfn_yaml

from tests.local_stack import running_stack

pytestmark = pytest.mark.stack  # starts a local stack (`make unit` leaves it out)
TOKENS = "/api/v1/waitpoints/tokens"
REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_every_transition_of_a_batch_reaches_the_rules_queue(tmp_path: Path) -> None:
    with running_stack(tmp_path) as values:
        endpoint, url = values["AWS_ENDPOINT_URL"], values["WAITPOINTS_API_URL"]
        assert f"Console:          {url}/console" in (tmp_path / "stack.log").read_text()
        sqs, bus = _client("sqs", endpoint), _client("events", endpoint)
        queue = sqs.create_queue(QueueName="completed-billing")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": ["waitpoints"], "detail": {"stack": ["waitpoints-local"]}}
        bus.put_rule(Name="waitpoints-local-all", EventPattern=json.dumps(pattern))
        bus.put_targets(Rule="waitpoints-local-all", Targets=[{"Id": "q", "Arn": arn}])
        expected: dict[str, list[str]] = {}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"}) as api:
            for i in range(6):
                token = api.post(TOKENS, json={"timeout": "1h", "tags": [f"t{i}"]}).json()["id"]
                action = ("complete", "timeout", "extend")[i % 3]
                body = {"data": {"i": i}} if action == "complete" else {"timeout": "2h"} if action == "extend" else {}
                assert api.post(f"{TOKENS}/{token}/{action}", json=body).is_success
                end = {"complete": "Completed", "timeout": "Timed Out", "extend": None}[action]
                expected[token] = ["Waitpoint Token Created"] + ([f"Waitpoint Token {end}"] if end else [])
            late = api.post(TOKENS, json={"timeout": "1s"}).json()["id"]  # the sweep times this one out
            expected[late] = ["Waitpoint Token Created", "Waitpoint Token Timed Out"]
        bus.put_events(
            Entries=[
                {
                    "Source": "waitpoints",
                    "DetailType": "Waitpoint Token Completed",
                    "Detail": json.dumps({"id": "waitpoint_" + "o" * 25, "stack": "another-stack"}),
                }
            ]
        )
        seen: dict[str, set[str]] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(set(v) - seen.get(k, set()) for k, v in expected.items()):
            for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            ):
                event = json.loads(message["Body"])
                seen.setdefault(event["detail"]["id"], set()).add(event["detail-type"])
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        for token, kinds in expected.items():
            assert seen.get(token) == set(kinds), (token, seen.get(token))
        assert set(seen) == set(expected)  # nothing from another stack


def _readme(start: str, lang: str) -> str:
    section = (REPO / "README.md").read_text().split("## Lifecycle events on EventBridge\n", 1)[1]
    return next(b for b in re.findall(rf"```{lang}\n(.*?)```", section, re.S) if b.lstrip().startswith(start))


def test_the_readme_rule_snippet_routes_the_completions_it_names(tmp_path: Path) -> None:
    """README's rule, as written (its pattern, for this stack's name), gets a billing token's completion and no
    other event; the event's detail has every field README shows."""
    snippet = load_cfn_yaml(_readme("BillingCompletions:", "yaml"))
    rule = snippet["BillingCompletionsRule"]["Properties"]
    assert rule["EventBusName"] == "default" and snippet["BillingCompletions"]["Type"] == "AWS::SQS::Queue"
    pattern = rule["EventPattern"]
    pattern["detail"]["stack"] = ["waitpoints-local"]  # "the waitpoints stack's name"
    shown = json.loads(_readme('{"id"', "json").replace("…", "x"))
    with running_stack(tmp_path) as values:
        endpoint, url = values["AWS_ENDPOINT_URL"], values["WAITPOINTS_API_URL"]
        sqs, bus = _client("sqs", endpoint), _client("events", endpoint)
        queue = sqs.create_queue(QueueName="billing-completions")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus.put_rule(Name="billing-completions", EventPattern=json.dumps(pattern), EventBusName=rule["EventBusName"])
        bus.put_targets(Rule="billing-completions", Targets=[{"Id": rule["Targets"][0]["Id"], "Arn": arn}])
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"}) as api:
            billing = api.post(TOKENS, json={"tags": ["billing"], "idempotencyKey": "b-1"}).json()["id"]
            other = api.post(TOKENS, json={"tags": ["other"]}).json()["id"]
            for token in (billing, other):
                assert api.post(f"{TOKENS}/{token}/complete", json={"data": {"approved": True}}).is_success
        events, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and not events:
            events += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        time.sleep(2)  # anything else the rule let through would have arrived by now
        events += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    received = [json.loads(m["Body"]) for m in events]
    assert [(e["detail-type"], e["detail"]["id"]) for e in received] == [("Waitpoint Token Completed", billing)]
    detail = received[0]["detail"]
    optional = {"output", "outputType"}  # only with EventsIncludeOutput (README says so)
    assert set(shown) - optional <= set(detail) and set(detail) - optional <= set(shown), (shown, detail)
    assert set(shown["audit"]) == set(detail["audit"]) - {"sourceIp", "userAgent"}
