"""The real handlers on in-process moto, with botocore-level fault injection (see harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.bridge.conftest import TEMPLATE, Bridge, StepFunctions
from waitpoints_core import DynamoDBStore, get_service, mint_api_key, runtime
from waitpoints_local import moto_fixes
from waitpoints_local.emulator import create_resources, fake_aws_environment
from waitpoints_local.lambdas import LocalFunction

from .harness import FaultInjector, install

RATE = 0.3
SEED = 20261123


@dataclass
class Stack:
    faults: FaultInjector
    functions: dict[str, LocalFunction]
    bridge: Bridge  # reads the table's stream as the event source mapping would
    table: str
    key: str

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.functions[name].invoke(event)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in fake_aws_environment("").items():
        if name != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    injector = FaultInjector(RATE, SEED)
    install(monkeypatch, injector)
    with mock_aws():
        moto_fixes.install()
        refs = create_resources(TEMPLATE)
        table = refs["TokensTable"]
        monkeypatch.setenv("WAITPOINTS_TABLE_NAME", table)
        monkeypatch.setenv("WAITPOINTS_SIGNING_SECRET_ARN", refs["SigningSecret"])
        monkeypatch.setenv("WAITPOINTS_OUTPUT_BUCKET", refs["OutputsBucket"])
        monkeypatch.setenv("WAITPOINTS_API_URL", "https://api.example.test")
        runtime.reset()
        key = mint_api_key(DynamoDBStore(boto3.client("dynamodb"), table), "dev")
        names = ("ApiFunction", "CallbackFunction", "CreateTokenFunction", "WaitForTokenFunction", "StreamFunction",
                 "SweepFunction")
        functions = {f.logical_id: LocalFunction(f) for f in TEMPLATE.functions() if f.logical_id in names}
        bridge = Bridge(get_service(), StepFunctions(), functions["StreamFunction"], table)
        yield Stack(injector, functions, bridge, table, key)
    runtime.reset()
