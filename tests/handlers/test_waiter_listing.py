"""Retrieve lists a token's waiters (issue 17): the DynamoDB adapter's bounded, handle-free Query, the service's
secret-key-only rule, and the API handler's `waiters` / `waitersTruncated` on in-process moto.

A waiter's handle (a Step Functions task token, a durable callback id) resumes its workflow: it is a credential,
so nothing here may carry it, only the first 12 hex digits of its SHA-256."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_core import Attachment, CreateTokenRequest, Principal, WaiterKind, WaiterSummary, get_service
from waitpoints_core import aws as aws_clients
from waitpoints_core.config import MAX_LISTED_WAITERS
from waitpoints_core.durations import format_iso
from waitpoints_core.ports import Waiter

from .support import body_of, with_auth, with_id

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
Create = Callable[..., dict[str, Any]]
TASK = "AQCEAAAAKgAAAAMAAAAAAAAAAVsecret-task-token-" + "t" * 200  # the shape of a task token, and long
CALLBACK = "c2VjcmV0LWNhbGxiYWNrLWlk" + "Q" * 40  # a durable callback id: [A-Za-z0-9+/]+={0,2}


def short(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()[:12]


def now() -> int:
    return int(time.time() * 1000)


def retrieve(api: Invoke, load_event: LoadEvent, key: str | None, token_id: str) -> dict[str, Any]:
    return api(with_id(with_auth(load_event("api_retrieve_token"), key), token_id))


class Queries:
    """The DynamoDB Query requests the store's client sends (their parameters), and their answers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []

    def request(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(json.loads(params["body"]))

    def answer(self, parsed: dict[str, Any], **_: Any) -> None:
        self.answers.append(parsed)


@pytest.fixture
def queries(aws: Deployment) -> Iterator[Queries]:
    """On both clients: the Deployment's store (the adapter tests) and the service's (runtime caches it)."""
    seen = Queries()
    clients = (aws.ddb, aws_clients.client("dynamodb"))
    for client in clients:
        client.meta.events.register("before-call.dynamodb.Query", seen.request)
        client.meta.events.register("after-call.dynamodb.Query", seen.answer)
    yield seen
    for client in clients:
        client.meta.events.unregister("before-call.dynamodb.Query", seen.request)
        client.meta.events.unregister("after-call.dynamodb.Query", seen.answer)


def token(aws: Deployment) -> str:
    return get_service().tokens.create("dev", CreateTokenRequest.model_validate({"timeout": "1h"})).id


# --- the adapter ------------------------------------------------------------------------------------------


def test_the_listing_reads_kind_digest_and_times_never_the_handle(aws: Deployment, queries: Queries) -> None:
    store, token_id = aws.store, token(aws)
    before = now()
    assert store.attach_waiter(token_id, "dev", TASK, before)[0] is Attachment.ATTACHED
    assert store.attach_waiter(token_id, "dev", CALLBACK, before + 5, WaiterKind.DURABLE)[0] is Attachment.ATTACHED
    store.mark_resumed(Waiter(token_id, CALLBACK, WaiterKind.DURABLE), before + 60_000)
    queries.requests.clear()
    queries.answers.clear()

    listing = store.list_waiters(token_id, 10)

    assert listing.truncated is False
    assert listing.waiters == (
        WaiterSummary(WaiterKind.STEP_FUNCTIONS, short(TASK), before),
        WaiterSummary(WaiterKind.DURABLE, short(CALLBACK), before + 5, before + 60_000),  # attach time kept
    )
    (request,) = queries.requests
    assert request["ConsistentRead"] is True and request["Limit"] == 11
    assert "taskToken" not in json.dumps(request) and "callbackId" not in json.dumps(request)
    (answer,) = queries.answers
    assert TASK not in json.dumps(answer) and CALLBACK not in json.dumps(answer)  # never read out of the table


def test_marking_resumed_at_attach_time_records_both_times(aws: Deployment) -> None:
    """A durable waiter attached to a token already final is resumed at once: its item is created marked."""
    token_id = token(aws)
    aws.store.mark_resumed(Waiter(token_id, CALLBACK, WaiterKind.DURABLE), 1_000)
    (listed,) = aws.store.list_waiters(token_id, 10).waiters
    assert (listed.attached_at, listed.resumed_at) == (1_000, 1_000)


def test_the_listing_is_bounded_and_says_when_there_are_more(aws: Deployment, queries: Queries) -> None:
    token_id, at = token(aws), now()
    for i in range(4):
        aws.store.attach_waiter(token_id, "dev", f"task-{i}", at + i)
    exact = aws.store.list_waiters(token_id, 4)
    assert len(exact.waiters) == 4 and exact.truncated is False
    bounded = aws.store.list_waiters(token_id, 3)
    assert len(bounded.waiters) == 3 and bounded.truncated is True
    assert [w.attached_at for w in bounded.waiters] == sorted(w.attached_at or 0 for w in bounded.waiters)
    assert [r["Limit"] for r in queries.requests] == [5, 4]  # one page, never more than the bound + 1 items


def test_a_waiter_item_from_before_kinds_lists_as_step_functions(aws: Deployment) -> None:
    token_id = token(aws)
    item = {
        "pk": {"S": f"TOKEN#{token_id}"},
        "sk": {"S": "WAITER#" + hashlib.sha256(b"old-task").hexdigest()},
        "taskToken": {"S": "old-task"},
        "createdAt": {"N": "1700000000000"},
        "ttl": {"N": str(int(time.time()) + 3600)},
    }
    aws.ddb.put_item(TableName=aws.table, Item=item)
    assert aws.store.list_waiters(token_id, 10).waiters == (
        WaiterSummary(WaiterKind.STEP_FUNCTIONS, short("old-task"), 1_700_000_000_000),
    )


# --- the service ------------------------------------------------------------------------------------------


def test_only_a_secret_key_gets_the_waiters(aws: Deployment, queries: Queries) -> None:
    token_id = token(aws)
    aws.store.attach_waiter(token_id, "dev", TASK, now())
    tokens = get_service().tokens
    _, listing = tokens.retrieve_with_waiters(Principal(env="dev"), token_id)
    assert listing is not None and [w.digest for w in listing.waiters] == [short(TASK)]
    queries.requests.clear()
    scoped = Principal(env="dev", scopes=(f"write:waitpoints:{token_id}",))
    read, none = tokens.retrieve_with_waiters(scoped, token_id)
    assert read.id == token_id and none is None and queries.requests == []  # no Query for anyone else


# --- the API handler --------------------------------------------------------------------------------------


def test_retrieve_lists_each_waiter_and_no_handle(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create({"timeout": "1h"})["id"]
    at = now()
    aws.store.attach_waiter(token_id, "dev", TASK, at)
    aws.store.attach_waiter(token_id, "dev", CALLBACK, at + 1, WaiterKind.DURABLE)
    aws.store.mark_resumed(Waiter(token_id, CALLBACK, WaiterKind.DURABLE), at + 2)

    response = retrieve(api, load_event, secret_key, token_id)

    assert response["statusCode"] == 200
    body = body_of(response)
    assert body["waiters"] == [
        {"kind": "stepFunctions", "digest": short(TASK), "attachedAt": format_iso(at)},
        {
            "kind": "durable",
            "digest": short(CALLBACK),
            "attachedAt": format_iso(at + 1),
            "resumedAt": format_iso(at + 2),
        },
    ]
    assert "waitersTruncated" not in body
    assert TASK not in response["body"] and CALLBACK not in response["body"]
    assert hashlib.sha256(TASK.encode()).hexdigest() not in response["body"]  # not even the full digest


def test_retrieve_without_waiters_lists_none(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    body = body_of(retrieve(api, load_event, secret_key, create()["id"]))
    assert body["waiters"] == [] and "waitersTruncated" not in body


def test_retrieve_lists_at_most_the_bound_and_flags_the_rest(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id, at = create({"timeout": "1h"})["id"], now()
    for i in range(MAX_LISTED_WAITERS + 1):
        aws.store.attach_waiter(token_id, "dev", f"task-{i}", at)
    body = body_of(retrieve(api, load_event, secret_key, token_id))
    assert len(body["waiters"]) == MAX_LISTED_WAITERS and body["waitersTruncated"] is True


def test_a_resumed_step_functions_waiter_is_no_longer_listed(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    """A Step Functions waiter is deleted once resumed; a durable one stays, marked (see the adapter above)."""
    token_id = create({"timeout": "1h"})["id"]
    aws.store.attach_waiter(token_id, "dev", TASK, now())
    aws.store.delete_waiter(Waiter(token_id, TASK))
    assert body_of(retrieve(api, load_event, secret_key, token_id))["waiters"] == []


def test_the_openapi_document_describes_the_waiters_and_retrieve_matches_it(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    import jsonschema

    event = load_event("api_retrieve_token")
    event.update(routeKey="GET /api/v1/openapi.json", rawPath="/api/v1/openapi.json", pathParameters={})
    event["requestContext"]["http"]["path"] = "/api/v1/openapi.json"
    event["headers"].pop("authorization", None)
    document = body_of(api(event))
    schemas = document["components"]["schemas"]
    assert {"waiters", "waitersTruncated"} <= set(schemas["TokenBody"]["properties"])
    assert "waiters" not in schemas["ListedTokenBody"]["properties"]  # list pages stay one Query
    assert set(schemas["WaiterBody"]["properties"]) == {"kind", "digest", "attachedAt", "resumedAt"}

    token_id, at = create({"timeout": "1h"})["id"], now()
    for i in range(MAX_LISTED_WAITERS):
        aws.store.attach_waiter(token_id, "dev", f"task-{i}", at)
    aws.store.attach_waiter(token_id, "dev", CALLBACK, at, WaiterKind.DURABLE)
    aws.store.mark_resumed(Waiter(token_id, CALLBACK, WaiterKind.DURABLE), at + 1)
    body = body_of(retrieve(api, load_event, secret_key, token_id))
    assert body["waitersTruncated"] is True
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/TokenBody", "components": document["components"]}
    )
    validator.validate(body)
    validator.validate({**body, "waiters": [*body["waiters"][:1], {"kind": "durable", "digest": short(CALLBACK)}]})
    with pytest.raises(jsonschema.ValidationError):  # the schema is closed: a handle would not fit it
        validator.validate({**body, "waiters": [{**body["waiters"][0], "taskToken": TASK}]})
