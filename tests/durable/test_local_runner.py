"""The local durable runner: the template's durable functions, and an execution started over HTTP as a user
of `make run` would, then watched with boto3's `lambda` client."""

from __future__ import annotations

import json

import httpx
from waitpoints_core import Delivery
from waitpoints_core.aws.durable import LambdaDurableCallbacks
from waitpoints_local.durable import LocalDurableRunner, durable_functions
from waitpoints_local.template import Template


def test_the_templates_durable_functions_are_found() -> None:
    assert durable_functions(Template()) == {"ExampleDurableFunction": 90000}


def test_for_template_registers_the_example() -> None:
    runner = LocalDurableRunner.for_template(Template())
    assert set(runner._functions) == {"ExampleDurableFunction"} and callable(
        runner._functions["ExampleDurableFunction"]
    )


def test_an_execution_started_over_http_resumes_through_boto3(durable_runner: LocalDurableRunner) -> None:
    started = httpx.post(
        f"{durable_runner.endpoint_url}/start-durable-execution",
        json={
            "AccountId": "123456789012",
            "FunctionName": "waitpoints-WaitsOnce",
            "FunctionQualifier": "$LATEST",
            "ExecutionName": "from-curl",
            "ExecutionTimeoutSeconds": 300,
            "ExecutionRetentionPeriodDays": 1,
            "Input": json.dumps({"timeout": 60}),
        },
    )
    assert started.status_code == 201, started.text
    arn = started.json()["ExecutionArn"]
    callback_id = durable_runner.wait_for_callback(arn, name="approval")
    client = durable_runner.client()
    assert client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    assert LambdaDurableCallbacks(client).succeed(callback_id, '"ok"') is Delivery.SENT
    assert json.loads(durable_runner.wait_for_result(arn).result) == {"result": '"ok"'}
    listed = client.list_durable_executions_by_function(FunctionName="waitpoints-WaitsOnce")["DurableExecutions"]
    assert any(e["DurableExecutionArn"] == arn and e["Status"] == "SUCCEEDED" for e in listed)


def test_stop_is_idempotent() -> None:
    runner = LocalDurableRunner({})
    url = runner.start()
    assert url.startswith("http://127.0.0.1:") and httpx.get(f"{url}/health").status_code == 200
    runner.stop()
    runner.stop()
