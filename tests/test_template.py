"""template.yaml: lints clean, and declares what the service relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from waitpoints_local.template import Template

REPO = Path(__file__).resolve().parents[1]


def test_cfn_lint_passes() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(REPO / "template.yaml")],
                            capture_output=True, text=True)
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


def test_list_indexes_project_the_list_fields_and_never_the_output() -> None:
    from waitpoints_core.storage import LIST_FIELDS

    (table,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    keys = {name: tuple(k["AttributeName"] for k in i["KeySchema"]) for name, i in indexes.items()}
    assert keys == {
        "AllIndex": ("listPk", "listSk"), "WaitingIndex": ("listPk", "waitingSk"),
        "CompletedIndex": ("listPk", "completedSk"), "TimedOutIndex": ("listPk", "timedOutSk"),
        "IdempotencyKeyIndex": ("idemPk", "listSk"), "DueIndex": ("duePk", "timeoutAt"),
    }
    for name, index in indexes.items():
        projected = set(index["Projection"]["NonKeyAttributes"]) | set(keys[name])
        assert index["Projection"]["ProjectionType"] == "INCLUDE" and "output" not in projected
        assert projected == set(LIST_FIELDS) | set(keys[name]) | ({"listSk"} if name == "DueIndex" else set()), name


def test_the_api_may_query_the_table_and_its_indexes() -> None:
    api = Template().resources["ApiFunction"]["Properties"]
    statements = [s for p in api["Policies"] if "Statement" in p for s in p["Statement"]]
    (query,) = [s for s in statements if "dynamodb:Query" in s["Action"]]
    assert query["Resource"] == [{"Fn::GetAtt": ["TokensTable", "Arn"]}, {"Fn::Sub": "${TokensTable.Arn}/index/*"}]
    assert api["Events"]["ListTokens"]["Properties"] == {"ApiId": {"Ref": "HttpApi"}, "Path": "/api/v1/waitpoints/tokens",
                                                         "Method": "GET"}
