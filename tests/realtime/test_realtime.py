"""Real-time subscriptions end to end, in-process: the local WebSocket gateway (waitpoints_local.websocket), the
realtime function's handler, and moto's DynamoDB. Transitions are synthetic changes handed to fan_out through
boto3's apigatewaymanagementapi client pointed at the gateway's @connections endpoint (the AWS code path)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from waitpoints._subscription import SNAPSHOT, AsyncSubscription, SubscriptionError, _diff
from waitpoints._subscription import Subscription as SdkSubscription
from waitpoints._types import Token
from waitpoints._types import TokenStatus as Status
from waitpoints_core import (
    CreateTokenRequest,
    TokenStatus,
    Waitpoint,
    get_service,
    runtime,
)
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.dynamodb.subscriptions import DynamoDBSubscriptions, connection_key, token_partition
from waitpoints_core.models import timed_out_fields
from waitpoints_core.services.auth import mint_api_key
from waitpoints_core.subscriptions import (
    AUTH_WINDOW_MS,
    CONNECTION_LIFETIME_S,
    MESSAGE_LIMIT,
    TTL_SLACK_S,
    Change,
    Connection,
    Subscription,
    Transition,
    change_between,
    fan_out,
    transition_between,
)
from waitpoints_http import websocket as edge
from waitpoints_local.lambdas import LocalFunction
from waitpoints_local.template import Template
from waitpoints_local.websocket import WebSocketGateway
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.in_process import deployment
from tests.security import events

if TYPE_CHECKING:
    from collections.abc import Iterator

TEMPLATE = Template()
QUIET = 0.3  # how long "nothing more arrives" is watched for


@dataclass
class Realtime:
    gateway: WebSocketGateway
    key: str  # dev's secret key
    other_key: str  # another environment's
    table: str
    store: DynamoDBSubscriptions
    post: Any  # boto3 apigatewaymanagementapi post_to_connection, at the gateway
    clients: ExitStack

    def client(self, credential: str | None = None) -> Client:
        client = Client(self.clients.enter_context(connect(self.gateway.url, open_timeout=5)))
        if credential is not None:
            answer = client.request({"action": "auth", "token": credential})
            assert answer["type"] == "authenticated", answer
        return client

    def token(self, tags: list[str] | None = None, env: str = "dev") -> tuple[Waitpoint, str]:
        request = CreateTokenRequest(tags=tags, timeout="1h") if tags else CreateTokenRequest(timeout="1h")
        created = get_service().tokens.create(env, request)
        return get_service().tokens.retrieve(env, created.id), created.public_access_token

    def publish(self, old: Waitpoint | None, new: Waitpoint) -> Any:
        change = change_between(old, new, edge.renderer(get_service()))
        assert change is not None
        return fan_out(change, self.store, self.post)


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.ws.send(json.dumps(message))
        return self.next()

    def next(self, timeout: float = 5) -> dict[str, Any]:
        return dict(json.loads(self.ws.recv(timeout=timeout)))

    def nothing_more(self) -> None:
        with pytest.raises(TimeoutError):
            self.ws.recv(timeout=QUIET)

    def subscribe(self, **target: str) -> dict[str, Any]:
        return self.request({"action": "subscribe", **target})


@pytest.fixture(scope="module")
def deployed() -> Iterator[Realtime]:
    """One deployment and gateway for the module (a table with six indexes takes seconds to make)."""
    with pytest.MonkeyPatch.context() as monkeypatch, deployment(monkeypatch, TEMPLATE) as (refs, key):
        table = refs["TokensTable"]
        other_key = mint_api_key(DynamoDBStore(boto3.client("dynamodb"), table), "prod")
        (function,) = [f for f in TEMPLATE.functions() if f.logical_id == "RealtimeFunction"]
        handler = LocalFunction(function)
        gateway = WebSocketGateway(handler.invoke).start()
        monkeypatch.setenv("WAITPOINTS_WS_MANAGEMENT_URL", gateway.management_url)
        runtime.reset()
        edge.reset()
        management = boto3.client("apigatewaymanagementapi", endpoint_url=gateway.management_url)
        store = DynamoDBSubscriptions(boto3.client("dynamodb"), table)
        try:
            yield Realtime(gateway, key, other_key, table, store, management.post_to_connection, ExitStack())
        finally:
            gateway.stop()
            edge.reset()


@pytest.fixture
def realtime(deployed: Realtime) -> Iterator[Realtime]:
    """The module's deployment, with this test's clients closed (and so cleaned up) after it."""
    with ExitStack() as clients:
        yield dataclasses.replace(deployed, clients=clients)
    _wait_for(lambda: deployed.gateway.idle)


def _completed(token: Waitpoint, output: Any = None) -> Waitpoint:
    now = int(time.time() * 1000)
    return dataclasses.replace(
        token, status=TokenStatus.COMPLETED, completed_at=now, output=json.dumps(output), output_type="application/json"
    )


def _members(realtime: Realtime, partition: str) -> list[dict[str, Any]]:
    ddb = boto3.client("dynamodb")
    return ddb.query(
        TableName=realtime.table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": partition}}
    )["Items"]


def _wait_for(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- subscribe, fan out, in order --------------------------------------------------------------------------------


def test_a_token_subscriber_gets_each_transition_once_in_order(realtime: Realtime) -> None:
    token, _ = realtime.token()
    client = realtime.client(realtime.key)
    answer = client.subscribe(tokenId=token.id)
    assert answer["type"] == "subscribed" and answer["subscription"] == {"tokenId": token.id}
    assert answer["token"]["status"] == "WAITING" and answer["token"]["id"] == token.id  # the state at subscribing

    extended = dataclasses.replace(token, timeout_at=token.timeout_at + 3_600_000)
    done = _completed(extended, {"approved": True})
    assert realtime.publish(token, extended).sent == 1
    assert realtime.publish(extended, done).sent == 1
    first, second = client.next(), client.next()
    assert (first["type"], first["transition"], first["token"]["status"]) == ("transition", "extended", "WAITING")
    assert (second["transition"], second["token"]["status"]) == ("completed", "COMPLETED")
    assert json.loads(second["token"]["output"]) == {"approved": True} and second["token"]["outputIsError"] is False
    retrieved = get_service().tokens.retrieve("dev", token.id)
    assert set(second["token"]) >= {"id", "url", "status", "tags", "createdAt", "timeoutAt", "outputIsError"}
    assert second["token"]["url"].endswith(
        retrieved.id + "/callback/" + get_service().signing_keys.get().callback_hash(token.id)
    )
    client.nothing_more()


def test_transitions_are_named_created_completed_rejected_timed_out_extended() -> None:
    waiting = Waitpoint("waitpoint_" + "a" * 25, "dev", TokenStatus.WAITING, 1, 10_000, 99)
    rejected = dataclasses.replace(
        _completed(waiting), output='{"code":"WAITPOINT_REJECTED","message":"no"}', output_is_error=True
    )
    assert transition_between(None, waiting) is Transition.CREATED
    assert transition_between(waiting, _completed(waiting)) is Transition.COMPLETED
    assert transition_between(waiting, rejected) is Transition.REJECTED
    assert transition_between(waiting, dataclasses.replace(waiting, **timed_out_fields(10_000))) is Transition.TIMED_OUT
    assert transition_between(waiting, dataclasses.replace(waiting, timeout_at=20_000)) is Transition.EXTENDED
    assert transition_between(waiting, waiting) is None  # e.g. a delivery counted
    assert transition_between(_completed(waiting), _completed(waiting)) is None  # final stays final


def test_two_subscribers_both_receive_and_a_double_match_is_one_message(realtime: Realtime) -> None:
    token, _ = realtime.token(tags=["approvals"])
    first, second = realtime.client(realtime.key), realtime.client(realtime.key)
    assert first.subscribe(tokenId=token.id)["type"] == "subscribed"
    assert first.subscribe(tag="approvals")["type"] == "subscribed"  # matches the same token twice
    assert second.subscribe(tag="approvals")["type"] == "subscribed"
    assert realtime.publish(token, _completed(token)).sent == 2
    for client in (first, second):
        assert client.next()["transition"] == "completed"
        client.nothing_more()


def test_a_tag_subscription_sees_only_that_tags_tokens(realtime: Realtime) -> None:
    mine, _ = realtime.token(tags=["a", "x"])
    other, _ = realtime.token(tags=["b"])
    client = realtime.client(realtime.key)
    assert client.subscribe(tag="a") == {"type": "subscribed", "subscription": {"tag": "a"}}
    assert realtime.publish(other, _completed(other)).sent == 0
    assert realtime.publish(mine, _completed(mine)).sent == 1
    assert client.next()["token"]["id"] == mine.id
    client.nothing_more()


def test_a_created_transition_reaches_tag_subscribers(realtime: Realtime) -> None:
    client = realtime.client(realtime.key)
    client.subscribe(tag="new")
    token, _ = realtime.token(tags=["new"])
    realtime.publish(None, token)
    message = client.next()
    assert (message["transition"], message["token"]["id"], message["token"]["status"]) == (
        "created",
        token.id,
        "WAITING",
    )


# --- who may watch what ----------------------------------------------------------------------------------------


def test_another_environments_key_can_neither_subscribe_nor_receive(realtime: Realtime) -> None:
    token, _ = realtime.token(tags=["shared-name"])
    intruder = realtime.client(realtime.other_key)
    refused = intruder.subscribe(tokenId=token.id)
    assert (refused["type"], refused["code"]) == ("error", "not_found")  # as retrieve: another env's token is absent
    assert intruder.subscribe(tag="shared-name")["type"] == "subscribed"  # prod's own tag of that name
    realtime.publish(token, _completed(token))
    intruder.nothing_more()


def test_an_access_token_watches_only_its_own_token(realtime: Realtime) -> None:
    token, access = realtime.token(tags=["t"])
    other, _ = realtime.token(tags=["t"])
    client = realtime.client(access)
    assert client.subscribe(tokenId=token.id)["type"] == "subscribed"
    for target in ({"tokenId": other.id}, {"tag": "t"}):
        refused = client.subscribe(**target)
        assert (refused["type"], refused["code"]) == ("error", "forbidden"), target
    realtime.publish(other, _completed(other))
    realtime.publish(token, _completed(token))
    assert client.next()["token"]["id"] == token.id
    client.nothing_more()


def test_a_bad_credential_is_told_and_closed(realtime: Realtime) -> None:
    client = realtime.client()
    answer = client.request({"action": "auth", "token": "wp_dev_" + "x" * 43})
    assert (answer["type"], answer["code"]) == ("error", "unauthenticated")
    with pytest.raises(ConnectionClosed):
        client.ws.recv(timeout=5)


def test_nothing_but_auth_before_auth(realtime: Realtime) -> None:
    token, _ = realtime.token()
    client = realtime.client()
    answer = client.subscribe(tokenId=token.id)
    assert (answer["type"], answer["code"]) == ("error", "unauthenticated")
    with pytest.raises(ConnectionClosed):
        client.ws.recv(timeout=5)


def test_auth_after_the_window_is_refused(realtime: Realtime) -> None:

    late = events.websocket("auth", "late-1", {"action": "auth", "token": realtime.key})
    late["requestContext"]["connectedAt"] = int(time.time() * 1000) - AUTH_WINDOW_MS - 1000
    reply = edge.get_realtime().handle("late-1", late["requestContext"]["connectedAt"], late["body"])
    assert reply.close and reply.message["code"] == "unauthenticated"


def test_a_credential_in_the_query_string_is_refused_at_the_handshake(realtime: Realtime) -> None:
    with pytest.raises(InvalidStatus) as refused:
        with connect(f"{realtime.gateway.url}?token={realtime.key}", open_timeout=5):
            pass
    assert refused.value.response.status_code == 401


# --- clean-up, limits, TTL --------------------------------------------------------------------------------------


def test_a_gone_connection_is_dropped_and_does_not_slow_the_others(realtime: Realtime) -> None:
    token, _ = realtime.token(tags=["g"])
    alive = realtime.client(realtime.key)
    alive.subscribe(tag="g")
    # A connection whose $disconnect never ran: its items are there, API Gateway no longer knows it.
    ghost = Connection.opened("ghost-connection=", get_service().auth.authenticate(realtime.key), 0)
    ghost = dataclasses.replace(ghost, expires_at=int(time.time()) + 3600)
    realtime.store.put_connection(ghost)
    for target in (Subscription(token_id=token.id), Subscription(tag="g")):
        assert realtime.store.add_subscription(ghost, target, 25)
    started = time.monotonic()
    result = realtime.publish(token, _completed(token))
    assert (result.sent, result.gone, result.failed) == (1, 1, 0)
    assert time.monotonic() - started < 3.0  # not held up by the ghost (a post to it would wait for its timeout)
    assert alive.next()["transition"] == "completed"
    assert realtime.store.get_connection("ghost-connection=", 0) is None
    assert not [m for m in _members(realtime, token_partition("dev", token.id)) if "ghost" in m["sk"]["S"]]
    assert realtime.publish(token, _completed(token, "again")).gone == 0  # never tried again


def test_a_client_that_goes_away_is_cleaned_up_by_disconnect(realtime: Realtime) -> None:
    token, _ = realtime.token()
    client = realtime.client(realtime.key)
    client.subscribe(tokenId=token.id)
    (connection_id,) = realtime.gateway.connection_ids
    assert len(_members(realtime, token_partition("dev", token.id))) == 1
    client.ws.close()
    _wait_for(lambda: not _members(realtime, token_partition("dev", token.id)))
    assert realtime.store.get_connection(connection_id, 0) is None


def test_connection_and_subscription_items_carry_a_ttl(realtime: Realtime) -> None:
    token, _ = realtime.token()
    client = realtime.client(realtime.key)
    client.subscribe(tokenId=token.id)
    (connection_id,) = realtime.gateway.connection_ids
    item = boto3.client("dynamodb").get_item(TableName=realtime.table, Key=connection_key(connection_id))["Item"]
    ttl, connected = int(item["ttl"]["N"]), int(item["connectedAt"]["N"]) // 1000
    assert ttl == connected + CONNECTION_LIFETIME_S + TTL_SLACK_S
    assert ttl - time.time() <= CONNECTION_LIFETIME_S + TTL_SLACK_S
    (member,) = _members(realtime, token_partition("dev", token.id))
    assert member["ttl"] == item["ttl"] and member["connectionId"]["S"] == connection_id


def test_subscriptions_per_connection_are_limited(realtime: Realtime) -> None:
    client = realtime.client(realtime.key)
    for n in range(25):
        assert client.subscribe(tag=f"t{n}")["type"] == "subscribed"
    assert client.subscribe(tag="t0")["type"] == "subscribed"  # the same one again is not another
    refused = client.subscribe(tag="one-too-many")
    assert (refused["type"], refused["code"]) == ("error", "too_many_subscriptions")
    assert client.request({"action": "unsubscribe", "tag": "t3"})["type"] == "unsubscribed"
    assert client.subscribe(tag="one-too-many")["type"] == "subscribed"


def test_a_subscriber_after_the_completion_gets_the_final_state_in_the_answer(realtime: Realtime) -> None:
    token, _ = realtime.token()
    get_service().tokens.complete(get_service().auth.authenticate(realtime.key), token.id, {"late": True})
    client = realtime.client(realtime.key)
    answer = client.subscribe(tokenId=token.id, id="req-1")
    assert answer["id"] == "req-1" and answer["token"]["status"] == "COMPLETED"
    assert json.loads(answer["token"]["output"]) == {"late": True}


def test_a_large_output_is_left_out_and_retrieve_pointed_to(realtime: Realtime) -> None:
    token, _ = realtime.token()
    client = realtime.client(realtime.key)
    client.subscribe(tokenId=token.id)
    realtime.publish(token, _completed(token, "x" * MESSAGE_LIMIT))
    message = client.next()
    assert message["outputOmitted"] is True and "output" not in message["token"]
    assert message["retrieve"] == f"/api/v1/waitpoints/tokens/{token.id}"


def test_ping_and_unknown_actions(realtime: Realtime) -> None:
    client = realtime.client(realtime.key)
    assert client.request({"action": "ping", "id": "p"}) == {"type": "pong", "id": "p"}
    unknown = client.request({"action": "dance"})
    assert (unknown["type"], unknown["code"]) == ("error", "invalid_request")
    assert client.request({"action": "subscribe", "tokenId": "nope"})["code"] == "invalid_request"


def test_the_gateway_answers_post_to_a_gone_connection_with_gone_exception(realtime: Realtime) -> None:
    management = boto3.client("apigatewaymanagementapi", endpoint_url=realtime.gateway.management_url)
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId="never-was=", Data=b"{}")
    client = realtime.client(realtime.key)
    (connection_id,) = realtime.gateway.connection_ids
    assert "ConnectedAt" in management.get_connection(ConnectionId=connection_id)
    management.post_to_connection(ConnectionId=connection_id, Data=b'{"hello":1}')
    assert client.next() == {"hello": 1}
    management.delete_connection(ConnectionId=connection_id)
    with pytest.raises(ConnectionClosed):
        client.ws.recv(timeout=5)


def test_change_message_is_compact_json() -> None:
    token = Waitpoint("waitpoint_" + "b" * 25, "dev", TokenStatus.WAITING, 1, 10_000, 99)
    change = Change(Transition.CREATED, token, {"id": token.id, "status": "WAITING"})
    assert json.loads(change.message()) == {
        "type": "transition",
        "transition": "created",
        "token": {"id": token.id, "status": "WAITING"},
    }


# --- the SDK's client -------------------------------------------------------------------------------------------


def test_the_sdk_subscription_yields_the_snapshot_then_transitions(realtime: Realtime) -> None:
    token, _ = realtime.token()
    with SdkSubscription(realtime.gateway.url, realtime.key, token_id=token.id) as subscription:
        snapshot = subscription.next(timeout=5)
        assert (snapshot.transition, snapshot.token.id, snapshot.token.status.value) == (SNAPSHOT, token.id, "WAITING")
        realtime.publish(token, _completed(token, {"ok": 1}))
        change = subscription.next(timeout=5)
        assert (change.transition, change.token.output, change.token.is_final) == ("completed", {"ok": 1}, True)
        with pytest.raises(TimeoutError):
            subscription.next(timeout=QUIET)


def test_the_async_sdk_subscription_follows_a_tag(realtime: Realtime) -> None:
    async def scenario() -> list[str]:
        async with AsyncSubscription(realtime.gateway.url, realtime.key, tag="async-tag") as subscription:
            token, _ = await asyncio.to_thread(realtime.token, ["async-tag"])
            await asyncio.to_thread(realtime.publish, None, token)
            await asyncio.to_thread(realtime.publish, token, _completed(token))
            return [(await anext(subscription)).transition for _ in range(2)]

    assert asyncio.run(scenario()) == ["created", "completed"]


def test_the_sdk_refusals_are_subscription_errors(realtime: Realtime) -> None:
    _, access = realtime.token()
    other, _ = realtime.token()
    with pytest.raises(SubscriptionError) as refused:
        SdkSubscription(realtime.gateway.url, access, token_id=other.id).__enter__()
    assert refused.value.code == "forbidden"


def test_polling_names_transitions_as_the_server_does() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    waiting = Token("waitpoint_" + "c" * 25, "u", Status.WAITING, at, timeout_at=at + timedelta(hours=1))
    seen: dict[str, Token] = {}
    assert [c.transition for c in _diff(seen, [waiting], True, True)] == ["snapshot"]
    later = dataclasses.replace(waiting, timeout_at=at + timedelta(hours=2))
    assert [c.transition for c in _diff(seen, [later], False, True)] == ["extended"]
    done = dataclasses.replace(later, status=Status.COMPLETED, raw={"rejected": True})
    assert [c.transition for c in _diff(seen, [done], False, True)] == ["rejected"]
    assert _diff(seen, [done], False, True) == []
