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
