"""In-process moto with the table of template.yaml, a service on it, and a meter of DynamoDB requests."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from waitpoints_core import Settings, WaitpointService
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.keyring import KeyRing
from waitpoints_core.services import listing as service_listing
from waitpoints_core.services import tokens as service_tokens
from waitpoints_core.services import workflows as service_workflows
from waitpoints_core.signing import SigningKeys
from waitpoints_local.emulator import REGION, create_table, fake_aws_environment
from waitpoints_local.template import Template

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

TABLE = "waitpoints-test"
KEYS = SigningKeys("k1", {"k1": b"listing-test-signing-key-0123456789"})


class Meter:
    """Every DynamoDB operation a test's client sends, by name (botocore's before-call hook)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb.*", lambda model, **_: self.calls.update([model.name]))


@contextmanager
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A DynamoDB client on in-process moto holding the template's table (with its indexes and stream)."""
    for name, value in fake_aws_environment("").items():
        if name != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        (props,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
        create_table(client, TABLE, props)
        yield client


def make_service(client: Any) -> WaitpointService:
    def no_bridge() -> Any:
        raise AssertionError("listing never resumes workflows")

    return WaitpointService(DynamoDBStore(client, TABLE), KeyRing(lambda: KEYS), Settings(TABLE, "unused"), no_bridge)


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_table(monkeypatch) as client:
        yield client


@pytest.fixture
def store(ddb: Any) -> DynamoDBStore:
    return DynamoDBStore(ddb, TABLE)


@pytest.fixture
def service(ddb: Any) -> WaitpointService:
    return make_service(ddb)


@pytest.fixture
def meter(ddb: Any) -> Meter:
    return Meter(ddb)


def freeze_clock(patch: pytest.MonkeyPatch, clock: Callable[[], int]) -> None:
    """Make every service slice read the time from `clock`."""
    for module in (service_tokens, service_listing, service_workflows):
        patch.setattr(module, "now_ms", clock)
