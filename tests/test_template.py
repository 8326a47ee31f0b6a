"""template.yaml: lints clean, and declares what the service relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from waitpoints_local.template import Template

REPO = Path(__file__).resolve().parents[1]


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(REPO / "template.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_is_on_demand_with_pitr_ttl_and_stream() -> None:
    (table,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_functions_run_python_3_13_on_arm64() -> None:
    function_globals = Template().doc["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13" and function_globals["Architectures"] == ["arm64"]


def test_operator_parameters_all_have_defaults() -> None:
    parameters = Template().doc["Parameters"]
    for name in (
        "StageName",
        "DefaultTokenTimeout",
        "DefaultIdempotencyKeyTTL",
        "TokenRetentionDays",
        "LogLevel",
        "Tracing",
        "CorsAllowedOrigins",
        "AlarmEmail",
        "LogRetentionDays",
        "ApiThrottlingRateLimit",
        "ApiThrottlingBurstLimit",
        "CallbackThrottlingRateLimit",
        "CallbackThrottlingBurstLimit",
        "ApiReservedConcurrency",
        "CallbackReservedConcurrency",
    ):
        assert "Default" in parameters[name], name


def test_outputs_give_what_an_operator_needs() -> None:
    outputs = Template().doc["Outputs"]
    assert {
        "ApiUrl",
        "TableName",
        "WaitForTokenFunctionArn",
        "CreateTokenFunctionArn",
        "ExampleStateMachineArn",
        "MintKeyCommand",
        "DashboardUrl",
    } <= set(outputs)


def test_every_alarm_notifies_the_alarm_topic() -> None:
    alarms = Template().resources_of_type("AWS::CloudWatch::Alarm")
    assert {
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "ResumeFailuresAlarm",
        "Api5xxAlarm",
        "StreamLagAlarm",
    } <= set(alarms)
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def test_error_alarms_cover_every_function() -> None:
    template = Template()
    functions = {f.logical_id for f in template.functions()}
    for alarm in ("FunctionErrorsAlarm", "FunctionThrottlesAlarm"):
        metrics = template.resources[alarm]["Properties"]["Metrics"]
        watched = {m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for m in metrics if "MetricStat" in m}
        assert watched == functions, alarm


def test_the_table_survives_stack_deletion() -> None:
    table = Template().resources["TokensTable"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"


def test_list_indexes_project_the_list_fields_and_never_the_output() -> None:
    from waitpoints_core.dynamodb.codecs import LIST_FIELDS

    (table,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    keys = {name: tuple(k["AttributeName"] for k in i["KeySchema"]) for name, i in indexes.items()}
    assert keys == {
        "AllIndex": ("listPk", "listSk"),
        "WaitingIndex": ("listPk", "waitingSk"),
        "CompletedIndex": ("listPk", "completedSk"),
        "TimedOutIndex": ("listPk", "timedOutSk"),
        "IdempotencyKeyIndex": ("idemPk", "listSk"),
        "DueIndex": ("duePk", "timeoutAt"),
    }
    for name, index in indexes.items():
        projected = set(index["Projection"]["NonKeyAttributes"]) | set(keys[name])
        assert index["Projection"]["ProjectionType"] == "INCLUDE" and "output" not in projected
        assert projected == set(LIST_FIELDS) | set(keys[name]) | ({"listSk"} if name == "DueIndex" else set()), name


def test_the_api_may_query_the_table_and_its_indexes() -> None:
    api = Template().resources["ApiFunction"]["Properties"]
    statements = [s for p in api["Policies"] if "Statement" in p for s in p["Statement"]]
    (query,) = [s for s in statements if "dynamodb:Query" in s["Action"]]
    indexes = ("AllIndex", "WaitingIndex", "CompletedIndex", "TimedOutIndex", "IdempotencyKeyIndex", "DueIndex")
    assert query["Resource"] == [
        {"Fn::GetAtt": ["TokensTable", "Arn"]},
        *({"Fn::Sub": f"${{TokensTable.Arn}}/index/{name}"} for name in indexes),
    ]
    assert api["Events"]["ListTokens"]["Properties"] == {
        "ApiId": {"Ref": "HttpApi"},
        "Path": "/api/v1/waitpoints/tokens",
        "Method": "GET",
    }


CALLBACK_ROUTE = "ANY /api/v1/waitpoints/tokens/{id}/callback/{hash}"


def test_every_function_logs_to_its_own_log_group_with_the_retention_parameter() -> None:
    template = Template()
    groups = template.resources_of_type("AWS::Logs::LogGroup")
    for function in template.functions():
        props = template.resources[function.logical_id]["Properties"]
        group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert group_id == f"{function.logical_id}LogGroup"
        assert groups[group_id]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert function.logical_id in groups[group_id]["LogGroupName"]["Fn::Sub"]
    assert 30 in template.doc["Parameters"]["LogRetentionDays"]["AllowedValues"]


def test_the_http_api_writes_access_logs_without_paths_query_strings_or_headers() -> None:
    template = Template()
    settings = template.resources["HttpApi"]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    group = template.resources_of_type("AWS::Logs::LogGroup")["HttpApiAccessLogGroup"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    log_format = settings["Format"]
    assert "$context.routeKey" in log_format and "$context.status" in log_format
    # A callback URL's path carries its HMAC; a query string or a header may carry a secret.
    for leak in ("$context.path", "rawQueryString", "querystring", "$request.", "authorizer", "$context.identity.user"):
        assert leak.lower() not in log_format.lower(), leak
    assert json.loads(log_format.replace("\n", "")).keys() >= {"requestId", "routeKey", "status"}


def test_every_route_is_throttled_and_the_callback_route_has_its_own_limit() -> None:
    template = Template()
    props = template.resources["HttpApi"]["Properties"]
    assert props["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }
    assert props["RouteSettings"] == {
        CALLBACK_ROUTE: {
            "ThrottlingRateLimit": {"Ref": "CallbackThrottlingRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "CallbackThrottlingBurstLimit"},
        }
    }
    callback = next(f for f in template.functions() if f.logical_id == "CallbackFunction")
    assert [route.key for route in callback.routes] == [CALLBACK_ROUTE]
    parameters = template.doc["Parameters"]
    assert parameters["CallbackThrottlingRateLimit"]["Default"] < parameters["ApiThrottlingRateLimit"]["Default"]


@pytest.mark.parametrize(
    ("function", "parameter"),
    [("ApiFunction", "ApiReservedConcurrency"), ("CallbackFunction", "CallbackReservedConcurrency")],
)
def test_reserved_concurrency_is_a_parameter_that_empty_or_zero_leaves_unreserved(
    function: str, parameter: str
) -> None:
    template = Template()
    condition, value, otherwise = template.resources[function]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]
    assert value == {"Ref": parameter} and otherwise == {"Ref": "AWS::NoValue"}
    assert template.doc["Parameters"][parameter]["Default"] == ""
    refs = {"Ref": parameter}
    assert template.conditions[condition] == {
        "Fn::Not": [{"Fn::Or": [{"Fn::Equals": [refs, ""]}, {"Fn::Equals": [refs, "0"]}]}]
    }
