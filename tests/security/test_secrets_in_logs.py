"""No secret reaches a log line or a response body: API keys, signing keys, callback hashes, public access
tokens and Step Functions task tokens. Every function runs every path (the walk of test_iam) at DEBUG log
level; everything it prints and every response it returns is searched for each secret."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from waitpoints_core.signing import SigningKeys

from .test_iam import TASK, _exercise

if TYPE_CHECKING:
    from tests.faults.conftest import Stack

JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
API_KEY = re.compile(r"wp_[a-z0-9-]{1,32}_[A-Za-z0-9_-]{32,}")


@pytest.fixture
def debug_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")


def signing_secrets() -> list[str]:
    sm = boto3.client("secretsmanager")
    (entry,) = sm.list_secrets()["SecretList"]
    data = json.loads(sm.get_secret_value(SecretId=entry["ARN"])["SecretString"])
    return [value for name, value in data.items() if name != "current"]


def all_token_ids(table: str) -> list[str]:
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [i["pk"]["S"].removeprefix("TOKEN#") for i in items if i["sk"]["S"] == "TOKEN"]


def callback_hashes(table: str) -> list[str]:
    sm = boto3.client("secretsmanager")
    (entry,) = sm.list_secrets()["SecretList"]
    keys = SigningKeys.from_secret_string(sm.get_secret_value(SecretId=entry["ARN"])["SecretString"])
    return [keys.callback_hash(token_id) for token_id in all_token_ids(table)]


def assert_no_secrets(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret ({secret[:6]}…) is in {where}"
    assert not JWT.search(text), f"a public access token is in {where}: {JWT.search(text)}"
    assert not API_KEY.search(text), f"an API key is in {where}"


def test_no_secret_in_any_log_line_or_error_body(
    debug_logs: None,
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    responses: list[Any] = []
    original = stack.invoke

    def recording(name: str, event: dict[str, Any]) -> Any:
        result = original(name, event)
        responses.append(result)
        return result

    stack.invoke = recording  # type: ignore[method-assign]
    monkeypatch.setenv("WAITPOINTS_EVENT_BUS", "default")  # the stream function publishes lifecycle events too
    # The functions' own loggers at DEBUG (not the root logger: botocore's DEBUG wire log prints request and
    # response bodies, secrets included, and is off in Lambda unless someone turns the root logger to DEBUG).
    for name in ("service_undefined", "aws_lambda_powertools"):  # the functions' loggers, configured once per process
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    _exercise(stack)
    out, err = capfd.readouterr()
    logs = (
        out
        + err
        + "\n".join(r.getMessage() + json.dumps(getattr(r, "__dict__", {}), default=str) for r in caplog.records)
    )
    assert "resumed waiting workflows" in logs and logging.getLogger("service_undefined").isEnabledFor(logging.DEBUG)
    secrets = [stack.key, *signing_secrets(), *callback_hashes(stack.table), TASK]
    assert_no_secrets(logs, secrets, "the handlers' logs")
    errors = [r["body"] for r in responses if isinstance(r, dict) and r.get("statusCode", 200) >= 400]
    assert_no_secrets("\n".join(errors), secrets, "an error body")
    # Audit records (stored with each terminal write) and lifecycle events name a key by its id, never the key.
    items = boto3.client("dynamodb").scan(TableName=stack.table)["Items"]
    audits = [i["audit"] for i in items if "audit" in i]
    assert any("keyId" in a["M"] for a in audits)
    assert_no_secrets(json.dumps(audits), secrets, "an audit record")
    published = [body for _, service, _, body in stack.faults.calls if service == "eventbridge"]
    assert published and any("audit" in e["Detail"] for b in published for e in b["Entries"])
    assert_no_secrets(json.dumps(published), secrets, "a lifecycle event")
    # the check itself can fail: a response that carries secrets is caught
    created = next(
        json.loads(r["body"]) for r in responses if isinstance(r, dict) and "publicAccessToken" in r.get("body", "")
    )
    with pytest.raises(AssertionError):
        assert_no_secrets(json.dumps(created), secrets, "a create response")
