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
from waitpoints_core.services.auth import mint_api_key
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


SHARD_COUNTS = (1, 7)  # every listing test runs unsharded and with 7 shards (a prime: the merge is exercised)
ENVS = ("dev", "prod")


def sharded_store(client: Any, shards: int = 1) -> DynamoDBStore:
    """A store whose environments `dev` and `prod` were minted with `shards` shards (their layout read and
    cached, so that a test's request meter sees only its own requests)."""
    store = DynamoDBStore(client, TABLE)
    store.default_shards = shards
    store.layout_cache_seconds = float("inf")  # a module's walks outlast the 60 s cache; the layout never changes
    for env in ENVS:
        if env not in store.read_shard_layouts():
            mint_api_key(store, env)
    store.read_shard_layouts()
    return store


def make_service(client: Any, shards: int = 1) -> WaitpointService:
    def no_bridge() -> Any:
        raise AssertionError("listing never resumes workflows")

    return WaitpointService(sharded_store(client, shards), KeyRing(lambda: KEYS), Settings(TABLE, "unused"), no_bridge)


@pytest.fixture(params=SHARD_COUNTS, ids=lambda n: f"shards={n}")
def shards(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_table(monkeypatch) as client:
        yield client


@pytest.fixture
def store(ddb: Any, shards: int) -> DynamoDBStore:
    return sharded_store(ddb, shards)


@pytest.fixture
def service(ddb: Any, shards: int) -> WaitpointService:
    return make_service(ddb, shards)


@pytest.fixture
def meter(ddb: Any) -> Meter:
    return Meter(ddb)


def freeze_clock(patch: pytest.MonkeyPatch, clock: Callable[[], int]) -> None:
    """Make every service slice read the time from `clock`."""
    for module in (service_tokens, service_listing, service_workflows):
        patch.setattr(module, "now_ms", clock)
