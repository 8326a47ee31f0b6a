"""How many AWS requests each handler makes: the callback rejects a bad hash without touching the table, and
every operation is one DynamoDB request once the container is warm, but retrieve, which reads the token and then
its waiters (two), and a completion of a token that workflows wait on, whose inline resume reads them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse
from waitpoints_core import aws as aws_clients

from .support import body_of, with_auth, with_hash, with_id, with_json

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]


class CallLog:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def take(self) -> list[str]:
        calls, self.calls = self.calls, []
        return calls


def _record(service: str) -> Iterator[CallLog]:
    log = CallLog()
    client = aws_clients.client(service)  # the very client the handlers' service uses (runtime caches it)
    client.meta.events.register(f"before-call.{client.meta.service_model.endpoint_prefix}", log)
    yield log
    client.meta.events.unregister(f"before-call.{client.meta.service_model.endpoint_prefix}", log)


@pytest.fixture
def ddb_calls(aws: Deployment) -> Iterator[CallLog]:
    yield from _record("dynamodb")


@pytest.fixture
def secret_calls(aws: Deployment) -> Iterator[CallLog]:
    yield from _record("secretsmanager")


def test_wrong_hash_makes_no_dynamodb_call(callback: Invoke, load_event: LoadEvent, ddb_calls: CallLog) -> None:
    event = with_hash(with_id(load_event("callback_json"), "waitpoint_" + "a" * 25), "f" * 64)
    assert callback(event)["statusCode"] == 401
    assert ddb_calls.take() == []


def test_a_burst_of_wrong_hashes_makes_no_dynamodb_calls_and_reads_the_secret_once(
    callback: Invoke, load_event: LoadEvent, ddb_calls: CallLog, secret_calls: CallLog
) -> None:
    for i in range(20):
        event = with_hash(with_id(load_event("callback_json"), "waitpoint_" + "a" * 25), f"{i:064x}")
        assert callback(event)["statusCode"] == 401
    assert ddb_calls.take() == []
    assert secret_calls.take() == ["GetSecretValue"]


def test_the_counter_sees_the_handlers_calls(
    callback: Invoke, aws: Deployment, load_event: LoadEvent, ddb_calls: CallLog
) -> None:
    """Guards the test above: the hook is on the client the handlers use, so a real call is counted."""
    token_id = "waitpoint_" + "a" * 25
    event = with_hash(with_id(load_event("callback_json"), token_id), aws.keys.callback_hash(token_id))
    assert callback(event)["statusCode"] == 404
    assert ddb_calls.take() == ["UpdateItem"]


def test_each_operation_is_one_dynamodb_request_when_warm(
    api: Invoke, callback: Invoke, secret_key: str, load_event: LoadEvent, ddb_calls: CallLog, secret_calls: CallLog
) -> None:
    def create() -> dict[str, Any]:
        response = api(with_json(with_auth(load_event("api_create_token"), secret_key), {"timeout": "1h"}))
        assert response["statusCode"] == 200
        created: dict[str, Any] = body_of(response)
        return created

    create()  # warm-up: reads the API key, the environment's shard layout and the signing keys into the caches
    assert ddb_calls.take() == ["GetItem", "GetItem", "PutItem"]
    assert secret_calls.take() == ["GetSecretValue"]

    created = create()
    assert ddb_calls.take() == ["PutItem"]

    retrieve = with_id(with_auth(load_event("api_retrieve_token"), secret_key), created["id"])
    assert api(retrieve)["statusCode"] == 200
    assert ddb_calls.take() == ["GetItem", "Query"]  # the token, then its waiters (a secret key's retrieve lists them)

    unknown = with_id(with_auth(load_event("api_retrieve_token"), secret_key), "waitpoint_" + "b" * 25)
    assert api(unknown)["statusCode"] == 404
    assert ddb_calls.take() == ["GetItem"]  # no token, no look for its waiters

    complete = with_id(with_auth(load_event("api_complete_token"), secret_key), created["id"])
    assert api(complete)["statusCode"] == 200
    assert ddb_calls.take() == ["UpdateItem"]  # the write alone: it says no workflow waits (no inline resume)

    other = create()
    ddb_calls.take()
    *_, token_id, _, url_hash = other["url"].split("/")
    assert callback(with_hash(with_id(load_event("callback_json"), token_id), url_hash))["statusCode"] == 200
    assert ddb_calls.take() == ["UpdateItem"]
    assert secret_calls.take() == []


def test_a_completion_resumes_inline_only_the_tokens_workflows_wait_on(
    aws: Deployment, create: Callable[..., dict[str, Any]], callback: Invoke, load_event: LoadEvent, ddb_calls: CallLog
) -> None:
    waited_on = create()
    assert aws.store.attach_waiter(waited_on["id"], "dev", "a-task-token", int(time.time() * 1000))
    ddb_calls.take()
    *_, token_id, _, url_hash = waited_on["url"].split("/")
    assert callback(with_hash(with_id(load_event("callback_json"), token_id), url_hash))["statusCode"] == 200
    # the write, then the inline resume: one Query of the token's partition reads the token as completed and its
    # waiters (its target is called next; this made-up task token is refused there, and the waiter left to the stream)
    assert ddb_calls.take()[:2] == ["UpdateItem", "Query"]


def test_create_with_idempotency_key_is_one_transaction_when_warm(
    api: Invoke, secret_key: str, load_event: LoadEvent, ddb_calls: CallLog
) -> None:
    event = with_auth(load_event("api_create_token"), secret_key)  # carries an idempotencyKey
    assert api(event)["statusCode"] == 200
    ddb_calls.take()
    again = with_auth(load_event("api_create_token"), secret_key)
    assert body_of(api(again))["isCached"] is True
    assert ddb_calls.take() == ["TransactWriteItems"]


# --- AWS failing ---------------------------------------------------------------------------------------


def _throttle(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """Answer a DynamoDB call as a throttled one would end after the client's retries."""
    error = {"Code": "ThrottlingException", "Message": "Rate of requests exceeds the allowed throughput."}
    return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), {
        "Error": error,
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


@pytest.fixture
def throttled_dynamodb(aws: Deployment) -> Iterator[None]:
    client = aws_clients.client("dynamodb")
    client.meta.events.register_first("before-call.dynamodb", _throttle)
    yield
    client.meta.events.unregister("before-call.dynamodb", _throttle)


@pytest.mark.usefixtures("throttled_dynamodb")
def test_throttled_api_answers_503_with_retry_after(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    response = api(with_auth(load_event("api_create_token"), secret_key))
    assert response["statusCode"] == 503
    assert {k.lower(): v for k, v in response["headers"].items()}["retry-after"] == "1"
    assert "retry" in body_of(response)["error"]


@pytest.mark.usefixtures("throttled_dynamodb")
def test_throttled_callback_answers_503_with_retry_after(
    callback: Invoke, aws: Deployment, load_event: LoadEvent
) -> None:
    token_id = "waitpoint_" + "a" * 25
    response = callback(with_hash(with_id(load_event("callback_json"), token_id), aws.keys.callback_hash(token_id)))
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"
