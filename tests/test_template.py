"""template.yaml: lints clean, and declares what the service relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
