"""Real-time subscriptions through the real interfaces: the local stack (`make run`) in a subprocess, real
WebSocket clients at its WAITPOINTS_WS_URL, tokens created and completed over HTTP (the API and the callback
URL), transitions arriving from the table's stream through the stream consumer's fan-out."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from waitpoints import AsyncClient, Client, TokenStatus

from tests.local_stack import REPO, admin, running_stack

if TYPE_CHECKING:
    from collections.abc import Iterator

    from websockets.sync.client import ClientConnection

pytestmark = pytest.mark.stack

TOKENS = "/api/v1/waitpoints/tokens"
QUIET = 1.5  # how long "nothing more arrives" is watched for: the stream poller and the fan-out take ~0.1-0.5 s
ARRIVES = 10.0  # how long a message may take to arrive on a loaded machine


@dataclass
class Live:
    values: dict[str, str]  # local.env
    state_dir: Path
    other_key: str  # another environment's
    clients: ExitStack

    @property
    def url(self) -> str:
        return self.values["WAITPOINTS_API_URL"]

    @property
    def ws_url(self) -> str:
        return self.values["WAITPOINTS_WS_URL"]

    @property
    def key(self) -> str:
        return self.values["WAITPOINTS_SECRET_KEY"]

    def http(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        response = httpx.request(
            method, self.url + path, json=body, headers={"Authorization": f"Bearer {key or self.key}"}, timeout=30
        )
        assert response.status_code < 300, response.text
        return response.json()

    def create(self, **body: Any) -> dict[str, Any]:
        return dict(self.http("POST", TOKENS, {"timeout": "1h", **body}))

    def settled(self, **body: Any) -> dict[str, Any]:
        """A token whose `created` transition has been fanned out already (seen by a tag subscriber), so a
        subscriber to its id from now on gets only what follows (the stream keeps a token's records in order)."""
        marker = f"settle-{time.monotonic_ns()}"
        with self.socket(self.key) as watcher:
            watcher.subscribe(tag=marker)
            token = self.create(**{**body, "tags": [*body.pop("tags", []), marker]})
            assert watcher.transitions(1) == [("created", token["id"], "WAITING")]
        return token

    def complete(self, token_id: str, data: Any) -> None:
        self.http("POST", f"{TOKENS}/{token_id}/complete", {"data": data})

    def socket(self, credential: str | None = None) -> Socket:
        from websockets.sync.client import connect

        socket = Socket(self.clients.enter_context(connect(self.ws_url, open_timeout=10)))
        if credential is not None:
            answer = socket.request({"action": "auth", "token": credential})
            assert answer["type"] == "authenticated", answer
        return socket

    def members(self, partition: str) -> list[dict[str, Any]]:
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=self.values["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        table = self.values["WAITPOINTS_TABLE_NAME"]
        query = ddb.query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": partition}}
        )
        return list(query["Items"])


class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ws.close()

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.ws.send(json.dumps(message))
        return self.next()

    def next(self, timeout: float = ARRIVES) -> dict[str, Any]:
        return dict(json.loads(self.ws.recv(timeout=timeout)))

    def transitions(self, n: int) -> list[tuple[str, str, str]]:
        """The next n messages, as (transition, token id, status)."""
        got = [self.next() for _ in range(n)]
        assert all(m["type"] == "transition" for m in got), got
        return [(m["transition"], m["token"]["id"], m["token"]["status"]) for m in got]

    def nothing_more(self, quiet: float = QUIET) -> None:
        with pytest.raises(TimeoutError):
            self.ws.recv(timeout=quiet)

    def subscribe(self, **target: str) -> dict[str, Any]:
        return self.request({"action": "subscribe", **target})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state_dir = tmp_path_factory.mktemp("realtime-stack")
    with running_stack(state_dir) as values:
        other = admin("api_keys", state_dir, "--env", "prod").stdout.strip()
        assert other.startswith("wp_prod_"), other
        yield {"values": values, "state_dir": state_dir, "other_key": other}


@pytest.fixture
def live(stack: dict[str, Any]) -> Iterator[Live]:
    with ExitStack() as clients:
        yield Live(stack["values"], stack["state_dir"], stack["other_key"], clients)


def test_local_env_names_the_websocket_url_beside_every_other_line(live: Live) -> None:
    assert live.ws_url.startswith("ws://127.0.0.1:") and live.ws_url.endswith("/local")
    for name in (
        "WAITPOINTS_API_URL",
        "WAITPOINTS_SECRET_KEY",
        "AWS_ENDPOINT_URL",
        "WAITPOINTS_TABLE_NAME",
        "WAITPOINTS_EXAMPLE_STATE_MACHINE_ARN",
        "WAITPOINTS_SIGNING_SECRET_ARN",
    ):
        assert live.values.get(name), name
    assert "WebSocket API:    " + live.ws_url in (live.state_dir / "stack.log").read_text()  # make run prints it


def test_completed_through_the_api_one_message(live: Live) -> None:
    token = live.settled(description="Waiting for approval")
    socket = live.socket(live.key)
    answer = socket.subscribe(tokenId=token["id"])
    assert answer["type"] == "subscribed" and answer["token"]["status"] == "WAITING"
    assert answer["token"]["description"] == "Waiting for approval"
    live.complete(token["id"], {"approved": True})
    (message,) = [socket.next()]
    assert message["type"] == "transition" and message["transition"] == "completed"
    assert message["token"]["output"] == '{"approved":true}'
    assert message["token"]["description"] == "Waiting for approval"
    retrieved = live.http("GET", f"{TOKENS}/{token['id']}")
    assert retrieved.pop("waiters") == []  # README: real-time messages leave `waiters` out
    assert message["token"] == retrieved  # retrieve's other fields, exactly
    socket.nothing_more()


def test_completed_through_the_callback_url_one_message(live: Live) -> None:
    token = live.settled()
    socket = live.socket(live.key)
    socket.subscribe(tokenId=token["id"])
    assert httpx.post(token["url"], json={"via": "callback"}, timeout=30).status_code == 200
    assert socket.transitions(1) == [("completed", token["id"], "COMPLETED")]
    assert httpx.post(token["url"], json={"again": True}, timeout=30).status_code == 200  # first completion won
    socket.nothing_more()


def test_a_tag_subscriber_sees_each_transition_once_in_order(live: Live) -> None:
    socket = live.socket(live.key)
    socket.subscribe(tag="order-flow")
    first = live.create(tags=["order-flow"])
    second = live.create(tags=["order-flow"], timeout="2s")  # the sweep times it out
    live.complete(first["id"], "done")
    got = socket.transitions(4)
    for token_id, final in ((first["id"], ("completed", "COMPLETED")), (second["id"], ("timed_out", "TIMED_OUT"))):
        mine = [(t, s) for t, i, s in got if i == token_id]
        assert mine == [("created", "WAITING"), final], got  # one per transition, in the token's order
    socket.nothing_more()


def test_two_subscribers_both_receive(live: Live) -> None:
    token = live.settled(tags=["both"])
    by_id, by_tag = live.socket(live.key), live.socket(live.key)
    by_id.subscribe(tokenId=token["id"])
    by_tag.subscribe(tag="both")
    by_tag.subscribe(tokenId=token["id"])  # two matching subscriptions, still one message
    live.complete(token["id"], 1)
    assert by_id.transitions(1) == by_tag.transitions(1) == [("completed", token["id"], "COMPLETED")]
    by_id.nothing_more(0.3)
    by_tag.nothing_more()


def test_a_tag_subscription_sees_only_that_tag(live: Live) -> None:
    socket = live.socket(live.key)
    socket.subscribe(tag="mine")
    live.create(tags=["theirs"])
    mine = live.create(tags=["mine", "other"])
    assert socket.transitions(1) == [("created", mine["id"], "WAITING")]
    socket.nothing_more()


def test_another_environment_and_another_tokens_access_token_get_nothing(live: Live) -> None:
    token, neighbour = live.settled(tags=["secret-tag"]), live.settled()
    prod = live.socket(live.other_key)
    assert prod.subscribe(tokenId=token["id"])["code"] == "not_found"
    assert prod.subscribe(tag="secret-tag")["type"] == "subscribed"  # prod's own tag of that name: no dev token
    scoped = live.socket(neighbour["publicAccessToken"])
    assert scoped.subscribe(tokenId=token["id"])["code"] == "forbidden"
    assert scoped.subscribe(tag="secret-tag")["code"] == "forbidden"
    own = live.socket(token["publicAccessToken"])
    assert own.subscribe(tokenId=token["id"])["type"] == "subscribed"
    live.complete(token["id"], "x")
    assert own.transitions(1) == [("completed", token["id"], "COMPLETED")]
    prod.nothing_more()
    scoped.nothing_more(0.3)


def test_a_dropped_client_is_cleaned_up_and_does_not_slow_the_others(live: Live) -> None:
    token = live.settled()
    dropped, kept = live.socket(live.key), live.socket(live.key)
    dropped.subscribe(tokenId=token["id"])
    kept.subscribe(tokenId=token["id"])
    partition = f"SUB#dev#TOKEN#{token['id']}"
    assert len(live.members(partition)) == 2
    dropped.ws.socket.close()  # gone without a close frame: the gateway sees the TCP connection end
    deadline = time.monotonic() + ARRIVES
    while len(live.members(partition)) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(live.members(partition)) == 1  # $disconnect deleted its items
    started = time.monotonic()
    live.complete(token["id"], "ok")
    assert kept.transitions(1) == [("completed", token["id"], "COMPLETED")]
    assert time.monotonic() - started < 5  # not held up by the one that left (typically ~0.2 s)


def test_a_late_subscriber_gets_the_final_state_in_the_answer(live: Live) -> None:
    token = live.create()
    live.complete(token["id"], {"late": True})
    time.sleep(0.5)  # the completion's stream record has been fanned out to nobody
    socket = live.socket(live.key)
    answer = socket.subscribe(tokenId=token["id"])
    assert answer["token"]["status"] == "COMPLETED" and answer["token"]["output"] == '{"late":true}'
    socket.nothing_more()  # not a replay log: no message for what happened before


# --- the SDK: for_token over the subscription and by polling ---------------------------------------------------


def _result(result: Any) -> tuple[Any, ...]:
    return (result.ok, result.token.status, result.output, type(result.error).__name__, result.token.description)


def _complete_later(live: Live, token_id: str, data: Any, after: float) -> None:
    import threading

    threading.Timer(after, live.complete, (token_id, data)).start()


def test_for_token_over_the_subscription_and_by_polling_give_the_same_results(live: Live) -> None:
    with Client(live.url, live.key, ws_url=live.ws_url) as client:
        assert client.ws_url == live.ws_url
        results: dict[bool, list[tuple[Any, ...]]] = {}
        for realtime in (True, False):
            done = client.create_token(timeout="1h", description="d")
            _complete_later(live, done.id, {"n": 1}, 0.5)
            expiring = client.create_token(timeout="1s")
            waiting = client.create_token(timeout="1h")
            started = time.monotonic()
            gave_up = client.for_token(waiting, timeout=1.0, realtime=realtime)
            waited = time.monotonic() - started
            assert 1.0 <= waited < 6.0, waited  # the same deadline either way
            results[realtime] = [
                _result(client.for_token(done, timeout=20, realtime=realtime)),
                _result(client.for_token(expiring, timeout=20, realtime=realtime)),
                _result(gave_up),
            ]
    assert results[True] == results[False]
    assert results[True] == [
        (True, TokenStatus.COMPLETED, {"n": 1}, "NoneType", "d"),
        (False, TokenStatus.TIMED_OUT, None, "WaitpointTimeoutError", None),
        (False, TokenStatus.WAITING, None, "WaitTimeoutError", None),
    ]


def test_for_token_falls_back_to_polling_when_the_websocket_api_is_unreachable(live: Live) -> None:
    with Client(live.url, live.key, ws_url="ws://127.0.0.1:9/nowhere") as client:
        token = client.create_token(timeout="1h")
        _complete_later(live, token.id, "fallback", 0.3)
        assert client.for_token(token, timeout=20).unwrap() == "fallback"


def test_async_for_token_over_the_subscription(live: Live) -> None:
    async def main() -> tuple[Any, ...]:
        async with AsyncClient(live.url, live.key, ws_url=live.ws_url) as client:
            token = await client.create_token(timeout="1h", description="async")
            _complete_later(live, token.id, [1, 2], 0.3)
            return _result(await client.for_token(token, timeout=20))

    assert asyncio.run(main()) == (True, TokenStatus.COMPLETED, [1, 2], "NoneType", "async")


# --- the CLI ------------------------------------------------------------------------------------------------


def _cli(live: Live, *args: str, **kwargs: Any) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAITPOINTS_")}
    paths = os.pathsep.join(str(REPO / p) for p in ("sdk", "layers/core", "local", "admin", "."))
    env.update(PYTHONPATH=paths, NO_COLOR="1", WAITPOINTS_STATE_DIR=str(live.state_dir))  # reads local.env
    return kwargs.pop("runner", subprocess.run)(
        [sys.executable, "-m", "waitpoints.cli", *args], env=env, text=True, cwd=REPO, **kwargs
    )


def test_cli_watch_prints_a_tags_transitions_as_json_lines_and_wait_subscribes(live: Live) -> None:
    watcher = _cli(
        live,
        "tokens",
        "watch",
        "--tag",
        "cli-watch",
        "--json",
        "--count",
        "2",
        runner=subprocess.Popen,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(2.0)  # it has subscribed (the CLI starts in well under that)
        created = _cli(
            live,
            "tokens",
            "create",
            "--tag",
            "cli-watch",
            "--description",
            "Waiting for approval",
            "--quiet",
            capture_output=True,
            check=True,
        ).stdout.strip()
        _complete_later(live, created, {"ok": True}, 1.0)
        waited = _cli(live, "tokens", "wait", created, "--timeout", "30s", capture_output=True, timeout=60)
        assert waited.returncode == 0, waited.stderr
        assert json.loads(waited.stdout) == {"ok": True}
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(m["transition"], m["token"]["id"]) for m in lines] == [("created", created), ("completed", created)], err
    assert lines[1]["token"]["output"] == '{"ok":true}' and lines[1]["outputOmitted"] is False
    assert lines[0]["token"]["description"] == "Waiting for approval"
    shown = _cli(live, "tokens", "retrieve", created, capture_output=True, check=True).stdout
    assert "Waiting for approval" in shown


def test_cli_watch_one_token_prints_its_snapshot_then_transitions(live: Live) -> None:
    token = live.settled()
    _complete_later(live, token["id"], None, 1.5)
    watched = _cli(live, "tokens", "watch", "--id", token["id"], "--count", "2", capture_output=True, timeout=60)
    assert watched.returncode == 0, watched.stderr
    first, second = watched.stdout.splitlines()
    assert first.split()[:3] == ["snapshot", token["id"], "WAITING"]
    assert second.split()[:3] == ["completed", token["id"], "COMPLETED"]
