"""Handler fixtures: the real Lambda handlers of template.yaml, run in-process against moto.

The table and the signing secret are created from template.yaml's own resource definitions, and each
function's environment is the template's, resolved against them; nothing about the stack is restated here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.loaders import Loader, create_loader
from moto import mock_aws
from waitpoints_core import runtime
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.services.auth import mint_api_key
from waitpoints_core.signing import SigningKeys
from waitpoints_local.emulator import create_resources
from waitpoints_local.lambdas import LocalFunction
from waitpoints_local.template import Template, resolve

from .support import body_of, with_auth, with_json

TEMPLATE = Template()
FUNCTIONS = ("ApiFunction", "CallbackFunction", "ApprovalFunction")  # the functions under test here, by logical id
FAKE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


@dataclass
class Deployment:
    """What a deployed stack holds, emulated: the table, the secret, and a store and keys to inspect them."""

    table: str
    secret_arn: str
    ddb: Any
    store: DynamoDBStore
    keys: SigningKeys
    env: dict[str, str] = field(default_factory=dict)

    def mint(self, environment: str = "dev") -> str:
        return mint_api_key(self.store, environment)

    def item(self, token_id: str) -> dict[str, Any] | None:
        key = {"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}}
        return self.ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")


class _SearchPaths(list[str]):
    """A loader's search path that ignores a path it already has (boto3 appends its own on every session)."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@pytest.fixture(scope="session", autouse=True)
def _share_botocore_loader() -> Iterator[None]:
    """Speed only: the handlers build new boto3 sessions in every test (runtime.reset()), and each session
    would find and parse botocore's large model files again. Give every session one shared data loader
    instead; botocore already shares its loader between all clients of a session, so sharing it across
    sessions changes nothing else. Nothing of the code under test is replaced."""
    loaders: dict[Any, Loader] = {}

    def shared_loader(search_path_string: Any = None) -> Loader:
        if search_path_string not in loaders:
            loader = create_loader(search_path_string)
            loader._search_paths = _SearchPaths(loader.search_paths)
            loaders[search_path_string] = loader
        return loaders[search_path_string]

    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.session, "create_loader", shared_loader)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One boto3 session for the tests' own clients: its loader caches the service models across tests.
    (The handlers' clients are still built afresh per test, by the code under test.)"""
    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name="us-east-1",
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, boto_session: boto3.session.Session) -> Iterator[Deployment]:
    """moto, with template.yaml's table and secret, and the functions' environment from the template."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        ddb = boto_session.client("dynamodb")
        secrets = boto_session.client("secretsmanager")
        refs = create_resources(TEMPLATE, boto_session)
        (table_id,) = TEMPLATE.resources_of_type("AWS::DynamoDB::Table")
        (secret_id,) = TEMPLATE.resources_of_type("AWS::SecretsManager::Secret")
        env: dict[str, str] = {}
        for function in TEMPLATE.functions():
            if function.logical_id in FUNCTIONS:
                env.update({k: str(resolve(v, refs, TEMPLATE.conditions)) for k, v in function.environment.items()})
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runtime.reset()
        keys = SigningKeys.from_secret_string(secrets.get_secret_value(SecretId=refs[secret_id])["SecretString"])
        yield Deployment(refs[table_id], refs[secret_id], ddb, DynamoDBStore(ddb, refs[table_id]), keys, env)
        runtime.reset()


@pytest.fixture(scope="session")
def functions() -> dict[str, LocalFunction]:
    """The template's functions by logical id, each loaded from its CodeUri and Handler."""
    return {f.logical_id: LocalFunction(f) for f in TEMPLATE.functions() if f.logical_id in FUNCTIONS}


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def api(aws: Deployment, functions: dict[str, LocalFunction]) -> Invoke:
    result: Invoke = functions["ApiFunction"].invoke
    return result


@pytest.fixture
def callback(aws: Deployment, functions: dict[str, LocalFunction]) -> Invoke:
    result: Invoke = functions["CallbackFunction"].invoke
    return result


@pytest.fixture
def approval(aws: Deployment, functions: dict[str, LocalFunction]) -> Invoke:
    result: Invoke = functions["ApprovalFunction"].invoke
    return result


@pytest.fixture
def secret_key(aws: Deployment) -> str:
    """A secret API key of the `dev` environment."""
    return aws.mint("dev")


@pytest.fixture
def create(api: Invoke, secret_key: str, load_event: Callable[[str], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Create a token through the API handler; returns the 200 body ({id, url, isCached, publicAccessToken})."""

    def _create(body: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
        event = with_json(with_auth(load_event("api_create_token"), key or secret_key), body or {})
        response = api(event)
        assert response["statusCode"] == 200, response
        created: dict[str, Any] = body_of(response)
        return created

    return _create
