"""`make key ENV=<name> [STACK=<stack>]` prints only a new key, and the key works."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest
from moto import mock_aws
from waitpoints_admin import api_keys
from waitpoints_core import ids
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_local.emulator import create_table, fake_aws_environment
from waitpoints_local.template import Template

from tests.local_stack import REPO, default_sigint, free_port, python_env, wait_for_env_file

if TYPE_CHECKING:
    from pathlib import Path


def test_make_key_against_the_running_local_stack(tmp_path: Path) -> None:
    """`make run` in one process, `make key` in another, meeting through WAITPOINTS_STATE_DIR."""
    state = tmp_path / "state"
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=default_sigint,
        env=python_env(WAITPOINTS_STATE_DIR=str(state), WAITPOINTS_PORT=str(free_port())),
    )
    try:
        url = wait_for_env_file(proc, state)["WAITPOINTS_API_URL"]
        result = subprocess.run(
            ["make", "--no-print-directory", "key", "ENV=qa-team"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "WAITPOINTS_STATE_DIR": str(state)},
            check=True,
        )
        (key,) = result.stdout.splitlines()
        assert ids.looks_like_api_key(key) and key.startswith("wp_qa-team_")
        created = httpx.post(f"{url}/api/v1/waitpoints/tokens", json={}, headers={"Authorization": f"Bearer {key}"})
        assert created.status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches make and the stack alike (make passes on another)
        proc.wait(timeout=20)
    deadline = time.monotonic() + 20
    while (state / "local.env").exists():  # removed last thing in the stack's shutdown
        assert time.monotonic() < deadline, "the stack did not shut down"
        time.sleep(0.1)


def test_make_key_without_a_local_stack_says_how_to_start_one(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "key", "ENV=dev"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "WAITPOINTS_STATE_DIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode != 0 and "make run" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("env", ["Bad_Name", "x" * 33, "dev\n"])
def test_invalid_environment_names_are_refused(tmp_path: Path, env: str, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        os.environ.update({k: v for k, v in fake_aws_environment("").items() if k != "AWS_ENDPOINT_URL"})
        (props,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
        create_table(boto3.client("dynamodb", region_name="us-east-1"), "t-keys", props)
        (tmp_path / "local.env").write_text("AWS_ENDPOINT_URL=\nWAITPOINTS_TABLE_NAME=t-keys\n")
        assert api_keys.main(["--env", env, "--state-dir", str(tmp_path)]) == 2
    assert "env" in capsys.readouterr().err


def test_make_key_against_a_deployed_stack(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """STACK=<name>: the table comes from the stack's TableName output, with the caller's credentials."""
    for name, value in fake_aws_environment("").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    with mock_aws():
        (props,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
        stack_template = {
            "Resources": {
                "TokensTable": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        k: v for k, v in props.items() if k in ("AttributeDefinitions", "KeySchema", "BillingMode")
                    },
                }
            },
            "Outputs": {"TableName": {"Value": {"Ref": "TokensTable"}}},
        }
        boto3.client("cloudformation").create_stack(
            StackName="waitpoints-prod", TemplateBody=json.dumps(stack_template)
        )
        assert api_keys.main(["--env", "prod", "--stack", "waitpoints-prod"]) == 0
        key = capsys.readouterr().out.strip()
        table = api_keys.stack_table_name("waitpoints-prod")
        assert DynamoDBStore(boto3.client("dynamodb"), table).get_api_key_env(ids.hash_api_key(key)) == "prod"
