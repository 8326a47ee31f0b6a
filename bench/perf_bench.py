"""`make bench`: each operation beside its physical floor, in one run. Writes `.waitpoints/bench.json`.

For create, create with an idempotency hit (`create_cached`), retrieve, complete, callback, list (one page) and
the stream consumer's resume (`resume`), and complete and callback of a token a workflow waits on
(`complete_with_waiter`, `callback_with_waiter`: the request resumes it inline, docs/scale.md):

1. DynamoDB requests per warm call, counted with botocore's `before-call` hook on the handlers' own client, and
   the read/write units consumed. `ReturnConsumedCapacity=TOTAL` is injected by a `before-parameter-build` hook
   here only, so production requests are unchanged. moto answers it with a constant (1 or 0.5 per request),
   so the units reported are computed from the items' sizes with DynamoDB's rules (`capacity()` below), the
   global secondary indexes included.
2. Handler time on the warm path, AWS answering instantly from responses recorded from moto (bench/canned.py):
   p50/p99 over thousands of calls, beside a floor handler per operation that does the least the operation
   could do (parse the event, the AWS calls the design needs, build the response).
3. Cold start, in fresh processes (bench/cold_child.py): import the function's module and run its init, beside
   a floor that imports boto3 and creates a DynamoDB client.
4. Peak RSS of the function's process after init and after 1,000 requests.
5. Requests per second for create and callback on the local stack over loopback, with concurrent clients,
   beside a floor: the callback URL answering 405 to a GET (the whole local path, no AWS call).

Every figure is the median of several runs. Ratios are to the floor measured in the same run.

    python -m bench.perf_bench [--runs 5] [--calls 3000] [--quick] [--no-throughput] [--out .waitpoints/bench.json]

bench.json holds exactly `{"operations": {<operation>: {<the nine figures>}}}`; bench-details.json beside it holds
the rest (the requests by name, RSS after init, the local stack's throughput, dollars per million tokens).
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import math
import os
import pickle
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]

FAKE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
# complete_schema: a complete of a token with a completion schema (issue 15). Its floor is the plain complete's,
# so its columns show what a schema costs; `complete` and `callback` (tokens without one) must not change.
# *_with_waiter: the same on a token a workflow waits on; the winning request resumes it inline (docs/scale.md).
OPERATIONS = (
    "create",
    "create_cached",
    "retrieve",
    "complete",
    "complete_schema",
    "complete_with_waiter",
    "callback",
    "callback_with_waiter",
    "list",
    "resume",
)
KEYS = (
    "ddb_requests",
    "rcu",
    "wcu",
    "handler_p50_us",
    "handler_p99_us",
    "floor_p50_us",
    "cold_ms",
    "cold_floor_ms",
    "rss_mb",
)
FUNCTION_OF = {
    "create": "ApiFunction",
    "create_cached": "ApiFunction",
    "retrieve": "ApiFunction",
    "complete": "ApiFunction",
    "complete_schema": "ApiFunction",
    "complete_with_waiter": "ApiFunction",
    "list": "ApiFunction",
    "callback": "CallbackFunction",
    "callback_with_waiter": "CallbackFunction",
    "resume": "StreamFunction",
}
TOKENS = "/api/v1/waitpoints/tokens"
TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAbench" + "x" * 200  # the waiters' handle: a Step Functions task token's shape
# AWS list prices (us-east-1, 2024)
PRICE_APIGW = 1.00 / 1e6  # HTTP API, per request
PRICE_LAMBDA_GBS = 0.0000133334  # arm64, per GB-second
PRICE_LAMBDA_REQ = 0.20 / 1e6
PRICE_WRU = 0.625 / 1e6  # on-demand write request unit
PRICE_RRU = 0.125 / 1e6
PRICE_SFN = 25.0 / 1e6  # standard workflows, per state transition
DDB_LATENCY_MS = 5  # assumed single-digit-ms DynamoDB round trip inside Lambda, for billed duration


def _read_event(name: str) -> dict[str, Any]:
    return json.loads((REPO / "events" / f"{name}.json").read_text())


# --- DynamoDB capacity, by DynamoDB's rules ---------------------------------------------------------------------


def _value_size(value: dict[str, Any]) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(v)) if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_value_size({"N": n}) for n in v)
    if kind == "L":
        return 3 + sum(1 + _value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(e) for k, e in v.items())
    raise ValueError(kind)


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes as DynamoDB counts them: attribute names plus values."""
    return sum(len(k.encode()) + _value_size(v) for k, v in (item or {}).items())


@dataclass
class Index:
    name: str
    keys: tuple[str, ...]
    include: tuple[str, ...] | None  # None: ALL

    def project(self, item: dict[str, Any] | None) -> dict[str, Any] | None:
        if not item or any(k not in item for k in self.keys):
            return None
        if self.include is None:
            return item
        wanted = {"pk", "sk", *self.keys, *self.include}
        return {k: v for k, v in item.items() if k in wanted}


def indexes_of(table_props: dict[str, Any]) -> list[Index]:
    found = []
    for gsi in table_props.get("GlobalSecondaryIndexes", []):
        projection = gsi.get("Projection", {})
        kind = projection.get("ProjectionType", "ALL")
        include = None if kind == "ALL" else tuple(projection.get("NonKeyAttributes", []))
        found.append(Index(gsi["IndexName"], tuple(k["AttributeName"] for k in gsi["KeySchema"]), include))
    return found


def write_units(
    before: dict[str, Any] | None, after: dict[str, Any] | None, indexes: list[Index], transactional: bool, failed: bool
) -> float:
    """Write units of one item write: the table (1 per KB of the larger image; twice in a transaction) plus one
    write per KB for each index entry put or deleted (two when its key changes). A failed condition still costs
    the table write, and nothing on the indexes."""
    table = max(1, math.ceil(max(item_size(before), item_size(after)) / 1024)) * (2 if transactional else 1)
    if failed:
        return table
    units = 0
    for index in indexes:
        old, new = index.project(before), index.project(after)
        if old is None and new is None:
            continue
        if old is None or new is None:
            units += max(1, math.ceil(item_size(old or new) / 1024))
        elif all(old[k] == new[k] for k in index.keys):
            if old != new:
                units += max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))
        else:
            units += max(1, math.ceil(item_size(old) / 1024)) + max(1, math.ceil(item_size(new) / 1024))
    return table + units


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


class Meter:
    """Counts the requests a client makes and what they consume. Hooks on the handlers' own DynamoDB client;
    `inspect` is a second client (not hooked) that reads the items' images before and after each write."""

    def __init__(self, client: Any, inspect: Any, table: str, indexes: list[Index]) -> None:
        self.client, self.inspect, self.table, self.indexes = client, inspect, table, indexes
        self.calls: list[str] = []
        self.rcu = self.wcu = 0.0
        self.moto_reported = 0.0
        self._pending: list[tuple[str, dict[str, Any], list[tuple[dict[str, Any], str, dict[str, Any] | None]]]] = []
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._inject)
        events.register("provide-client-params.dynamodb", self._remember)
        events.register("before-call.dynamodb", self._count)
        events.register("after-call.dynamodb", self._measure)

    def close(self) -> None:
        events = self.client.meta.events
        events.unregister("before-parameter-build.dynamodb", self._inject)
        events.unregister("provide-client-params.dynamodb", self._remember)
        events.unregister("before-call.dynamodb", self._count)
        events.unregister("after-call.dynamodb", self._measure)

    def take(self) -> tuple[list[str], float, float]:
        result = (self.calls, self.rcu, self.wcu)
        self.calls, self.rcu, self.wcu = [], 0.0, 0.0
        return result

    @staticmethod
    def _inject(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.inspect.get_item(TableName=self.table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return item

    def _remember(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        writes: list[tuple[dict[str, Any], str, dict[str, Any] | None]] = []
        name = model.name
        if name == "PutItem":
            key = {"pk": params["Item"]["pk"], "sk": params["Item"]["sk"]}
            writes.append((key, "write", self._get(key)))
        elif name in ("UpdateItem", "DeleteItem"):
            writes.append((params["Key"], "write", self._get(params["Key"])))
        elif name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                key = body.get("Key") or {"pk": body["Item"]["pk"], "sk": body["Item"]["sk"]}
                writes.append((key, kind, self._get(key)))
        self._pending.append((name, dict(params), writes))

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def _measure(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name, params, writes = self._pending.pop(0)
        reported = parsed.get("ConsumedCapacity")
        for entry in reported if isinstance(reported, list) else [reported] if reported else []:
            self.moto_reported += float(entry.get("CapacityUnits", 0))
        failed = http_response.status_code >= 300
        transactional = name == "TransactWriteItems"
        for key, kind, before in writes:
            after = self._get(key)
            self.wcu += write_units(
                before,
                after,
                self.indexes if kind != "ConditionCheck" else [],
                transactional,
                failed or kind == "ConditionCheck",
            )
        if name == "GetItem":
            self.rcu += read_units(item_size(parsed.get("Item")), bool(params.get("ConsistentRead")))
        elif name == "Query":
            items = parsed.get("Items", [])
            scanned_ratio = parsed.get("ScannedCount", len(items)) / max(len(items), 1)
            size = int(sum(item_size(i) for i in items) * (scanned_ratio if items else 1))
            self.rcu += read_units(size, bool(params.get("ConsistentRead")))


# --- the operations -----------------------------------------------------------------------------------------------


@dataclass
class Op:
    """One operation: how to make its event, what a successful answer looks like, and its floor handler."""

    name: str
    event: Callable[[], dict[str, Any]]
    expect: dict[str, Any]
    floor: Callable[[dict[str, Any]], dict[str, Any]]
    setup: Callable[[], None] = lambda: None  # run before each call in the moto phase (not timed)
    responses: dict[str, dict[str, tuple[int, dict[str, Any]]]] = field(default_factory=dict)


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Floors:
    """The least each operation could do: parse the event, make its one AWS call with the request the design
    needs (the same item, the same update), and build the same response (callback URL HMAC, access token, ISO
    dates) with straight-line code. They use the handlers' own clients: same configuration, same canned answers,
    so the difference to the handler is our code: routing, validation, auth, the domain, metrics and logging."""

    def __init__(self, table: str, keys: Any, api_env: dict[str, str]) -> None:
        from waitpoints_core import aws

        self.ddb = aws.client("dynamodb")
        self.sfn = aws.client("stepfunctions")
        self.table, self.api_env = table, api_env
        self.kid = keys.current
        self.callback_key = keys._callback[keys.current]
        self.jwt_key = keys._jwt[keys.current]
        self.cursor_key = keys._cursor[keys.current]

    def _auth(self, event: dict[str, Any]) -> str:
        key = event["headers"]["authorization"].partition(" ")[2]
        return self.api_env[hashlib.sha256(key.encode()).hexdigest()]

    def _url(self, token_id: str) -> str:
        digest = hmac.new(self.callback_key, token_id.encode(), hashlib.sha256).hexdigest()
        return f"https://x.example/api/v1/waitpoints/tokens/{token_id}/callback/{digest}"

    def _jwt(self, env: str, token_id: str, now: int) -> str:
        header = _b64(json.dumps({"alg": "HS256", "kid": self.kid, "typ": "JWT"}, separators=(",", ":")).encode())
        claims = _b64(
            json.dumps(
                {
                    "sub": env,
                    "pub": True,
                    "scopes": [f"write:waitpoints:{token_id}"],
                    "iss": "waitpoints",
                    "aud": "waitpoints",
                    "iat": now // 1000,
                    "exp": now // 1000 + 86_400,
                },
                separators=(",", ":"),
            ).encode()
        )
        signature = hmac.new(self.jwt_key, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        return f"{header}.{claims}.{_b64(signature)}"

    def _token_item(self, env: str, token_id: str, now: int, timeout_at: int) -> dict[str, Any]:
        list_sk = {"S": f"{now:013d}#{token_id}"}
        return {
            "pk": {"S": f"TOKEN#{token_id}"},
            "sk": {"S": "TOKEN"},
            "env": {"S": env},
            "status": {"S": "WAITING"},
            "createdAt": {"N": str(now)},
            "timeoutAt": {"N": str(timeout_at)},
            "ttl": {"N": str(timeout_at // 1000 + 30 * 86_400)},
            "tags": {"L": []},
            "listPk": {"S": f"LIST#{env}"},
            "listSk": list_sk,
            "waitingSk": list_sk,
            "duePk": {"S": f"DUE#{env}"},
        }

    def _created(self, env: str, token_id: str, now: int, cached: bool) -> dict[str, Any]:
        jwt = self._jwt(env, token_id, now)
        return _json_response(
            200,
            {"id": token_id, "url": self._url(token_id), "isCached": cached, "publicAccessToken": jwt},
            {"x-trigger-jwt": jwt, "x-trigger-jwt-claims": json.dumps({"sub": env, "pub": True})},
        )

    def create(self, event: dict[str, Any]) -> dict[str, Any]:
        env = self._auth(event)
        body = json.loads(event["body"] or "{}")
        token_id = "waitpoint_" + secrets.token_hex(13)[:25]
        now = int(time.time() * 1000)
        timeout_at = now + (3_600_000 if body.get("timeout") == "1h" else 600_000)
        self.ddb.put_item(
            TableName=self.table,
            ConditionExpression="attribute_not_exists(pk)",
            Item=self._token_item(env, token_id, now, timeout_at),
        )
        return self._created(env, token_id, now, False)

    def create_cached(self, event: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        env = self._auth(event)
        body = json.loads(event["body"])
        token_id = "waitpoint_" + secrets.token_hex(13)[:25]
        now = int(time.time() * 1000)
        key_hash = hashlib.sha256(body["idempotencyKey"].encode()).hexdigest()
        claim = {
            "pk": {"S": f"IDEM#{env}#{key_hash}"},
            "sk": {"S": "IDEM"},
            "tokenId": {"S": token_id},
            "expiresAtMs": {"N": str(now + 3_600_000)},
            "ttl": {"N": str(now // 1000 + 3600)},
        }
        token = self._token_item(env, token_id, now, now + 3_600_000)
        token.update(idempotencyKey={"S": body["idempotencyKey"]}, idemPk={"S": f"IDEMK#{env}#{key_hash}"})
        try:
            self.ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": claim,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": token,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            token_id = exc.response["CancellationReasons"][0]["Item"]["tokenId"]["S"]
        return self._created(env, token_id, now, True)

    def retrieve(self, event: dict[str, Any]) -> dict[str, Any]:
        self._auth(event)
        token_id = event["pathParameters"]["id"]
        item = self.ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}}, ConsistentRead=True
        )["Item"]
        body = {
            "id": token_id,
            "url": self._url(token_id),
            "status": item["status"]["S"],
            "createdAt": _iso(int(item["createdAt"]["N"])),
            "tags": [t["S"] for t in item["tags"]["L"]],
            "timeoutAt": _iso(int(item["timeoutAt"]["N"])),
        }
        if "completedAt" in item:
            body["completedAt"] = _iso(int(item["completedAt"]["N"]))
        if "output" in item:
            body["output"], body["outputType"] = item["output"]["S"], item["outputType"]["S"]
        body["outputIsError"] = "outputIsError" in item and item["outputIsError"]["BOOL"]
        waiters = self.ddb.query(  # a secret key's retrieve lists the waiters: at most 100, never their handles
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"TOKEN#{token_id}"}, ":prefix": {"S": "WAITER#"}},
            ProjectionExpression="sk, #kind, #attached, #resumed",
            ExpressionAttributeNames={"#kind": "kind", "#attached": "createdAt", "#resumed": "resumedAt"},
            Limit=101,
            ConsistentRead=True,
        )["Items"]
        body["waiters"] = [
            {"kind": w.get("kind", {"S": "stepFunctions"})["S"], "digest": w["sk"]["S"][7:19]} for w in waiters[:100]
        ]
        return _json_response(200, body)

    def complete(self, event: dict[str, Any]) -> dict[str, Any]:
        env = self._auth(event)
        data = json.loads(event["body"])["data"]
        self._finish(event["pathParameters"]["id"], json.dumps(data), env)
        return _json_response(200, {"success": True})

    def _finish(self, token_id: str, output: str, env: str | None) -> None:
        now = int(time.time() * 1000)
        values = {
            ":c": {"S": "COMPLETED"},
            ":w": {"S": "WAITING"},
            ":now": {"N": str(now)},
            ":nowSec": {"N": str(now // 1000)},
            ":ttl": {"N": str(now // 1000 + 30 * 86_400)},
            ":o": {"S": output},
            ":t": {"S": "application/json"},
        }
        condition = "attribute_exists(pk) AND #s = :w AND timeoutAt > :now AND #ttl > :nowSec"
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        self.ddb.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}},
            UpdateExpression="SET #s = :c, completedAt = :now, #ttl = :ttl, completedSk = listSk, #o = :o, "
            "outputType = :t REMOVE waitingSk, duePk, hasWaiters",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#s": "status", "#o": "output", "#ttl": "ttl"},
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_OLD",  # whether workflows wait (hasWaiters): none here, so nothing more
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def callback(self, event: dict[str, Any]) -> dict[str, Any]:
        params = event["pathParameters"]
        expected = hmac.new(self.callback_key, params["id"].encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["hash"]):
            return _json_response(401, {"error": "bad hash"})
        json.loads(event["body"])  # the body is JSON: stored as sent
        self._finish(params["id"], event["body"], None)
        return _json_response(200, {"success": True})

    def complete_with_waiter(self, event: dict[str, Any]) -> dict[str, Any]:
        response = self.complete(event)
        self._resume_inline(event["pathParameters"]["id"])
        return response

    def callback_with_waiter(self, event: dict[str, Any]) -> dict[str, Any]:
        response = self.callback(event)
        self._resume_inline(event["pathParameters"]["id"])
        return response

    def _resume_inline(self, token_id: str) -> None:
        """What the winner of a waited-on token does after its write: read the token and its waiters (they share a
        partition: one Query), send each its output, delete it."""
        pk = {"S": f"TOKEN#{token_id}"}
        items = self.ddb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": pk},
            ConsistentRead=True,  # as the handler's read right after its own write
        )["Items"]
        output = next(i for i in items if i["sk"]["S"] == "TOKEN").get("output", {}).get("S", "null")
        for waiter in (i for i in items if i["sk"]["S"] != "TOKEN"):
            self.sfn.send_task_success(taskToken=waiter["taskToken"]["S"], output=output)
            self.ddb.delete_item(TableName=self.table, Key={"pk": pk, "sk": waiter["sk"]})

    def list(self, event: dict[str, Any]) -> dict[str, Any]:
        env = self._auth(event)
        page = self.ddb.query(
            TableName=self.table,
            IndexName="AllIndex",
            Limit=26,
            ScanIndexForward=False,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "listPk"},
            ExpressionAttributeValues={":pk": {"S": f"LIST#{env}"}},
        )
        data = []
        for item in page["Items"][:25]:
            token_id = item["pk"]["S"][6:]
            entry = {
                "id": token_id,
                "url": self._url(token_id),
                "status": item["status"]["S"],
                "tags": [t["S"] for t in item["tags"]["L"]],
                "createdAt": _iso(int(item["createdAt"]["N"])),
                "timeoutAt": _iso(int(item["timeoutAt"]["N"])),
            }
            if "completedAt" in item:
                entry["completedAt"] = _iso(int(item["completedAt"]["N"]))
            data.append(entry)
        pagination = {}
        if len(page["Items"]) > 25:
            last = page["Items"][24]
            payload = json.dumps(
                {"b": f"{int(last['createdAt']['N']):013d}#{last['pk']['S'][6:]}", "d": "n", "f": env},
                separators=(",", ":"),
            ).encode()
            pagination["next"] = (
                f"{_b64(payload)}.{_b64(hmac.new(self.cursor_key, payload, hashlib.sha256).digest()[:16])}"
            )
        return _json_response(200, {"data": data, "pagination": pagination})

    def resume(self, event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            pk = record["dynamodb"]["Keys"]["pk"]
            output = record["dynamodb"]["NewImage"].get("output", {}).get("S", "null")
            waiters = self.ddb.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
                ExpressionAttributeValues={":pk": pk, ":w": {"S": "WAITER#"}},
                ConsistentRead=True,
            )
            for waiter in waiters["Items"]:
                self.sfn.send_task_success(taskToken=waiter["taskToken"]["S"], output=output)
                self.ddb.delete_item(TableName=self.table, Key={"pk": pk, "sk": waiter["sk"]})
        return {"batchItemFailures": []}


# --- phase 1: requests and capacity on moto, and the answers to replay ----------------------------------------


class Recorder:
    """Records the last answer to each operation, per service, from the handlers' clients."""

    def __init__(self, services: tuple[str, ...]) -> None:
        from waitpoints_core import aws

        self.answers: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {}
        self.sticky: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {}
        self._bodies: dict[int, Any] = {}
        self._hooks: list[tuple[Any, str, Callable[..., None]]] = []
        for service in services:
            client = aws.client(service)
            hyphen = client.meta.service_model.service_id.hyphenize()
            self._hooks += [
                (client, f"before-call.{hyphen}", self._before),
                (client, f"after-call.{hyphen}", self._after(service)),
            ]
        for client, event, hook in self._hooks:
            client.meta.events.register(event, hook)

    def close(self) -> None:
        for client, event, hook in self._hooks:
            client.meta.events.unregister(event, hook)

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self._bodies[id(model)] = params.get("body")

    def _after(self, service: str) -> Callable[..., None]:
        from .canned import canned_key

        def record(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
            answer = {k: v for k, v in copy.deepcopy(parsed).items() if k != "ConsumedCapacity"}
            answer.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = http_response.status_code
            key = canned_key(model.name, self._bodies.get(id(model)))
            self.answers.setdefault(service, {})[key] = (http_response.status_code, answer)
            if key == "UpdateItem#SCHEMALESS" and http_response.status_code < 300:  # the floors' plain write
                self.answers[service].setdefault("UpdateItem", (http_response.status_code, answer))
            if key in ("GetItem#APIKEY", "GetItem#ENVS", "GetSecretValue"):  # once per container, then cached
                self.sticky.setdefault(service, {})[key] = (http_response.status_code, answer)

        return record

    def take(self) -> dict[str, dict[str, tuple[int, dict[str, Any]]]]:
        answers, self.answers = self.answers, {}
        return answers


@dataclass
class World:
    """In-process moto with the template's table and secret; the functions loaded from their files."""

    table: str
    ddb: Any
    store: Any
    keys: Any
    handlers: dict[str, Any]
    env: dict[str, str]
    secret_key: str
    indexes: list[Index]


# The API's and the WebSocket API's own URLs (the bench sets the one it needs, below; no subscriber listens),
# and the event bus (the bench measures the resume, not the lifecycle events).
UNMEASURED_ENV = frozenset({"WAITPOINTS_WS_MANAGEMENT_URL", "WAITPOINTS_API_URL", "WAITPOINTS_EVENT_BUS"})


@contextmanager
def moto_world() -> Iterator[World]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(FAKE_AWS)
    import boto3
    from moto import mock_aws
    from waitpoints_core import runtime
    from waitpoints_core.dynamodb import DynamoDBStore
    from waitpoints_core.services.auth import mint_api_key
    from waitpoints_core.signing import SigningKeys
    from waitpoints_local.emulator import create_resources
    from waitpoints_local.lambdas import load_handler
    from waitpoints_local.template import Template, resolve

    template = Template()
    with mock_aws():
        session = boto3.session.Session()
        ddb, secrets_client = session.client("dynamodb"), session.client("secretsmanager")
        refs = create_resources(template, session)
        [(table_id, table_props)] = template.resources_of_type("AWS::DynamoDB::Table").items()
        (secret_id,) = template.resources_of_type("AWS::SecretsManager::Secret")
        env: dict[str, str] = {}
        functions = {f.logical_id: f for f in template.functions() if f.logical_id in set(FUNCTION_OF.values())}
        for function in functions.values():
            for name, value in function.environment.items():
                if name in UNMEASURED_ENV:
                    continue
                env[name] = str(resolve(value, refs, template.conditions))
        env["WAITPOINTS_API_URL"] = env.get("WAITPOINTS_API_URL") or "https://bench.example"
        os.environ.update(env)
        runtime.reset()
        keys = SigningKeys.from_secret_string(secrets_client.get_secret_value(SecretId=refs[secret_id])["SecretString"])
        store = DynamoDBStore(ddb, refs[table_id])
        # One list shard: each operation beside its one-request floor. What N shards cost a page (N Queries per
        # round) is make bench-scale's to measure (docs/scale.md, "Measured").
        store.default_shards = 1
        handlers = {lid: load_handler(f) for lid, f in functions.items()}
        yield World(
            refs[table_id], ddb, store, keys, handlers, env, mint_api_key(store, "dev"), indexes_of(table_props)
        )
        runtime.reset()


def build_ops(world: World) -> tuple[list[Op], Floors, Callable[[str], dict[str, Any]]]:
    """The operations' events, made against tokens that exist in moto."""
    from waitpoints_core import Waitpoint, now_ms
    from waitpoints_core.ids import hash_api_key, new_token_id
    from waitpoints_core.models import TokenStatus

    auth = f"Bearer {world.secret_key}"

    def api_event(name: str, token_id: str | None = None, body: Any = None) -> dict[str, Any]:
        event = _read_event(name)
        event["headers"]["authorization"] = auth
        if token_id is not None:
            for path in (event, event["requestContext"]["http"]):
                key = "rawPath" if path is event else "path"
                path[key] = path[key].replace("waitpoint_replacemewitharealtokenid", token_id)
            event["pathParameters"]["id"] = token_id
        if body is not None:
            event["body"] = json.dumps(body, separators=(",", ":"))
            event["headers"]["content-length"] = str(len(event["body"]))
        return event

    def insert(
        status: TokenStatus = TokenStatus.WAITING, tags: list[str] | None = None, schema: str | None = None
    ) -> str:
        now = now_ms()
        token = Waitpoint(
            id=new_token_id(),
            env="dev",
            status=status,
            created_at=now,
            timeout_at=now + 3_600_000,
            expires_at=(now + 40 * 86_400_000) // 1000,
            tags=tags or [],
            completed_at=now if status is TokenStatus.COMPLETED else None,
            output='{"approved":true}' if status is TokenStatus.COMPLETED else None,
            schema=schema,
        )
        world.store.insert_token(token)
        return token.id

    retrieve_id = insert(TokenStatus.COMPLETED, ["order:42"])
    for _ in range(30):
        insert()
    create_event = api_event("api_create_token", body={"timeout": "1h"})
    cached_event = api_event("api_create_token", body={"timeout": "1h", "idempotencyKey": "order-42-approval"})
    list_event = api_event("api_retrieve_token")
    list_event.update(routeKey=f"GET {TOKENS}", rawPath=TOKENS, pathParameters=None, rawQueryString="")
    list_event["requestContext"].update(routeKey=f"GET {TOKENS}")
    list_event["requestContext"]["http"]["path"] = TOKENS

    state: dict[str, str] = {}

    def fresh(name: str) -> Callable[[], None]:
        def setup() -> None:
            state[name] = insert()

        return setup

    def with_waiter(name: str) -> Callable[[], None]:
        def setup() -> None:
            state[name] = insert()
            world.store.attach_waiter(state[name], "dev", TASK_TOKEN, now_ms())  # flags the token: hasWaiters

        return setup

    def complete_event(name: str) -> Callable[[], dict[str, Any]]:
        return lambda: api_event("api_complete_token", state.get(name, retrieve_id))

    schema = '{"type":"object","properties":{"approved":{"type":"boolean"}},"required":["approved"]}'

    def schema_setup() -> None:
        state["complete_schema"] = insert(schema=schema)

    def complete_schema_event() -> dict[str, Any]:
        body = {"data": {"approved": True}}
        return api_event("api_complete_token", state.get("complete_schema", retrieve_id), body)

    def callback_event(name: str) -> Callable[[], dict[str, Any]]:
        return lambda: callback_to(state.get(name, retrieve_id))

    def callback_to(token_id: str) -> dict[str, Any]:
        event = _read_event("callback_json")
        for path in (event, event["requestContext"]["http"]):
            key = "rawPath" if path is event else "path"
            path[key] = (
                path[key]
                .replace("waitpoint_replacemewitharealtokenid", token_id)
                .replace("replace-me-with-the-hash-from-the-callback-url", world.keys.callback_hash(token_id))
            )
        event["pathParameters"] = {"id": token_id, "hash": world.keys.callback_hash(token_id)}
        return event

    def resume_setup() -> None:
        token_id = insert()
        world.ddb.put_item(
            TableName=world.table,
            Item={
                "pk": {"S": f"TOKEN#{token_id}"},
                "sk": {"S": "WAITER#" + "0" * 64},
                "taskToken": {"S": TASK_TOKEN},
                "createdAt": {"N": str(now_ms())},
                "ttl": {"N": str(now_ms() // 1000 + 86_400)},
            },
        )
        state["resume"] = token_id

    def resume_event() -> dict[str, Any]:
        token_id = state.get("resume", retrieve_id)
        text = json.dumps(_read_event("stream_token_completed")).replace("waitpoint_REPLACE_ME_25_CHARACTERS", token_id)
        event: dict[str, Any] = json.loads(text)
        for record in event["Records"]:
            record["dynamodb"]["ApproximateCreationDateTime"] = time.time()
            record["dynamodb"]["NewImage"]["tags"] = record["dynamodb"]["OldImage"]["tags"] = {"L": []}
        return event

    floors = Floors(world.table, world.keys, {hash_api_key(world.secret_key): "dev"})
    ok = {"statusCode": 200}
    ops = [
        Op("create", lambda: create_event, {"statusCode": 200}, floors.create),
        Op("create_cached", lambda: cached_event, {"statusCode": 200}, floors.create_cached),
        Op("retrieve", lambda: api_event("api_retrieve_token", retrieve_id), {"statusCode": 200}, floors.retrieve),
        Op("complete", complete_event("complete"), ok, floors.complete, fresh("complete")),
        Op("complete_schema", complete_schema_event, ok, floors.complete, schema_setup),
        Op("complete_with_waiter", complete_event("cw"), ok, floors.complete_with_waiter, with_waiter("cw")),
        Op("callback", callback_event("callback"), ok, floors.callback, fresh("callback")),
        Op("callback_with_waiter", callback_event("bw"), ok, floors.callback_with_waiter, with_waiter("bw")),
        Op("list", lambda: list_event, {"statusCode": 200}, floors.list),
        Op("resume", resume_event, {"batchItemFailures": []}, floors.resume, resume_setup),
    ]
    return ops, floors, lambda op: {}


@contextmanager
def quiet() -> Iterator[None]:
    """The handlers print an EMF metric line per call (and the stream consumer a log line); send file descriptor 1
    to /dev/null meanwhile (the writes still happen, as on Lambda)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def _check(op: Op, response: dict[str, Any]) -> None:
    if any(response.get(k) != v for k, v in op.expect.items()):
        raise SystemExit(f"{op.name}: unexpected response {response}")


def phase_requests(world: World, ops: list[Op]) -> dict[str, dict[str, float]]:
    """Warm each operation once, then count one call's DynamoDB requests and capacity; record its answers."""
    import boto3
    from waitpoints_core import aws

    recorder = Recorder(("dynamodb", "secretsmanager", "stepfunctions"))
    meter = Meter(aws.client("dynamodb"), boto3.session.Session().client("dynamodb"), world.table, world.indexes)
    figures: dict[str, dict[str, float]] = {}
    context = lambda_context()
    with quiet():
        for op in ops:
            handler = world.handlers[FUNCTION_OF[op.name]]
            op.setup()
            _check(op, handler(op.event(), context))  # warm: the container's first call reads keys and secrets
            recorder.take()
            op.setup()
            meter.take()
            _check(op, handler(op.event(), context))
            calls, rcu, wcu = meter.take()
            figures[op.name] = {"ddb_requests": len(calls), "rcu": rcu, "wcu": wcu, "calls": calls}  # type: ignore[dict-item]
            op.responses = recorder.take()
            for service, answers in recorder.sticky.items():
                op.responses.setdefault(service, {}).update(answers)
    meter.close()
    recorder.close()
    # Step Functions in moto has no execution behind the bench's task token; the warm path is a delivered resume.
    for op in ops:
        if op.name == "resume" or op.name.endswith("_with_waiter"):
            op.responses["stepfunctions"] = {"SendTaskSuccess": (200, {"ResponseMetadata": {"HTTPStatusCode": 200}})}
    # The callback verifies the hash before any call; complete's floor and the callback floor share UpdateItem.
    figures["_moto_reported"] = {"units": meter.moto_reported}
    return figures


# --- phase 2: handler time with canned answers ------------------------------------------------------------------


def _percentile(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000  # ns → µs


def lambda_context() -> Any:
    """The local stack's Lambda context (imported late, like the rest of the code under test)."""
    from waitpoints_local.lambdas import LambdaContext

    return LambdaContext("bench", "00000000-0000-0000-0000-000000000000")


BLOCK = 100


def phase_timing(world: World, ops: list[Op], calls: int, runs: int) -> dict[str, dict[str, float]]:
    import gc

    from .canned import install, uninstall

    context = lambda_context()
    figures: dict[str, dict[str, float]] = {}
    clock = time.perf_counter_ns
    with quiet():
        for op in ops:
            handler = world.handlers[FUNCTION_OF[op.name]]
            install(op.responses)
            event = op.event()
            text = json.dumps(event)  # each call gets a fresh copy (json.loads, outside the clock)
            _check(op, handler(json.loads(text), context))
            _check(op, op.floor(json.loads(text)))
            p50s, p99s, floors = [], [], []
            for _ in range(runs):
                # Handler and floor take turns in blocks of BLOCK calls, so the machine's drift (a shared host's
                # speed moves over seconds) weighs on both alike, while each block still runs warm.
                samples: list[int] = []
                floor_samples: list[int] = []
                gc.collect()  # each run starts without the last one's garbage
                for start in range(0, calls, BLOCK):
                    for call, args, out in ((handler, (context,), samples), (op.floor, (), floor_samples)):
                        batch = [json.loads(text) for _ in range(min(BLOCK, calls - start))]
                        for e in batch:
                            t0 = clock()
                            call(e, *args)
                            out.append(clock() - t0)
                p50s.append(_percentile(samples, 0.5))
                p99s.append(_percentile(samples, 0.99))
                floors.append(_percentile(floor_samples, 0.5))
            uninstall()
            figures[op.name] = {
                "handler_p50_us": statistics.median(p50s),
                "handler_p99_us": statistics.median(p99s),
                "floor_p50_us": statistics.median(floors),
            }
    return figures


# --- phase 3 and 4: cold start and memory in fresh processes ------------------------------------------------------


def phase_cold(world: World, ops: list[Op], runs: int, requests: int) -> dict[str, dict[str, float]]:
    from waitpoints_local.template import Template

    functions = {f.logical_id: f for f in Template().functions()}
    canned = {}
    for op in ops:
        canned[op.name] = {"responses": op.responses, "events": [json.dumps(op.event())], "expect": op.expect}
    env = {
        **os.environ,
        **world.env,
        **FAKE_AWS,
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers/core", "local")),
    }
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # should a request miss its canned answer: never leave the machine
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "canned.pickle"
        path.write_bytes(pickle.dumps(canned))

        def child(target: str, op: str, n: int) -> dict[str, float]:
            out = subprocess.run(
                [sys.executable, str(REPO / "bench/cold_child.py"), target, str(n), str(path), op],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp,
            )
            if out.returncode:
                raise SystemExit(f"cold start child failed ({target} {op}):\n{out.stderr[-3000:]}")
            result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
            return result

        samples: dict[str, list[dict[str, float]]] = {name: [] for name in ["floor", *OPERATIONS]}
        for _ in range(runs):  # interleaved, so drift in the machine's load hits every column alike
            samples["floor"].append(child("floor", "create", 0))
            for op in ops:
                function = functions[FUNCTION_OF[op.name]]
                handler_file = function.code_dir / (function.handler.rpartition(".")[0].replace(".", "/") + ".py")
                samples[op.name].append(child(str(handler_file), op.name, requests))
    return {
        name: {key: statistics.median(s[key] for s in runs_) for key in runs_[0]} for name, runs_ in samples.items()
    }


# --- phase 5: local stack throughput --------------------------------------------------------------------------


def phase_throughput(seconds: float, clients: int, runs: int) -> dict[str, float]:
    import httpx

    from tests.local_stack import running_stack

    state = REPO / ".waitpoints" / "bench-stack"
    state.mkdir(parents=True, exist_ok=True)
    (state / "local.env").unlink(missing_ok=True)
    results: dict[str, list[float]] = {"create": [], "callback": [], "floor": []}
    with running_stack(state) as values:
        url, key = values["WAITPOINTS_API_URL"], values["WAITPOINTS_SECRET_KEY"]
        assert url.startswith("http://127.0.0.1:")
        urls: list[str] = []
        lock = threading.Lock()

        def drive(kind: str) -> float:
            deadline = time.perf_counter() + seconds
            done = [0]
            max_requests = 20_000

            def worker() -> None:
                with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
                    while time.perf_counter() < deadline and done[0] < max_requests:
                        if kind == "create":
                            r = client.post(TOKENS, json={"timeout": "1h"})
                            assert r.status_code == 200, r.text
                            with lock:
                                urls.append(r.json()["url"])
                        elif kind == "callback":
                            with lock:
                                if not urls:
                                    return
                                target = urls.pop()
                            r = client.post(target, json={"ok": True})
                            assert r.status_code == 200, r.text
                        else:
                            r = client.get(f"{TOKENS}/waitpoint_{'a' * 25}/callback/{'0' * 64}")
                            assert r.status_code == 405, r.text
                        with lock:
                            done[0] += 1

            started = time.perf_counter()
            threads = [threading.Thread(target=worker) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return done[0] / (time.perf_counter() - started)

        for kind in ("floor", "create", "callback"):  # warm-up: start every container the runs will use
            drive(kind)
        for _ in range(runs):
            results["floor"].append(drive("floor"))
            results["create"].append(drive("create"))  # also makes the tokens the callback run completes
            results["callback"].append(drive("callback"))
    return {
        "create_rps": statistics.median(results["create"]),
        "callback_rps": statistics.median(results["callback"]),
        "floor_rps": statistics.median(results["floor"]),
        "clients": clients,
        "seconds_per_run": seconds,
        "runs": runs,
    }


# --- report -----------------------------------------------------------------------------------------------------

MEMORY_GB = 0.25  # the template's MemorySize: 256
WAIT_FOR_TOKEN_WCU = 4  # WaitForTokenFunction: one TransactWriteItems, the token flag Update and waiter Put (2 + 2)
EXAMPLE_TRANSITIONS = 5  # statemachine/example.asl.json: CreateToken, HandUrl…, WaitForToken, IsApproved, Approved


def call_cost(o: dict[str, float], *, api: bool) -> dict[str, float]:
    """Dollars per million calls of one operation at list prices: API Gateway (when called through it), the Lambda
    request, its duration at 256 MB (handler time plus DDB_LATENCY_MS per DynamoDB request, billed per ms), and
    the DynamoDB request units."""
    billed_ms = math.ceil(o["handler_p50_us"] / 1000 + DDB_LATENCY_MS * max(o["ddb_requests"], 1))
    return {
        "api_gateway": PRICE_APIGW * 1e6 if api else 0.0,
        "lambda_requests": PRICE_LAMBDA_REQ * 1e6,
        "lambda_duration": billed_ms / 1000 * MEMORY_GB * PRICE_LAMBDA_GBS * 1e6,
        "dynamodb": (o["wcu"] * PRICE_WRU + o["rcu"] * PRICE_RRU) * 1e6,
    }


def dollars_per_million(ops: dict[str, dict[str, float]]) -> dict[str, Any]:
    """What a million tokens cost on AWS at list prices (storage and data transfer left out; TTL deletes and
    Lambda's reads of the stream are free). Two lifecycles:
    - webhook: create and callback through the API, one retrieve, and the stream consumer's invocation for the
      completion (its Query finds no waiter);
    - workflow: CreateTokenFunction and WaitForTokenFunction (invoked by Step Functions, no API Gateway; the wait
      is priced as a create with its transaction's units), the callback that resumes the workflow inline, the
      stream consumer's invocation for the completion (the waiter is gone: its Query finds none), and the example
      workflow's state transitions."""
    per_call = {name: call_cost(o, api=name != "resume") for name, o in ops.items()}
    total = {name: round(sum(c.values()), 3) for name, c in per_call.items()}
    no_waiter = {**ops["resume"], "ddb_requests": 1, "wcu": 0.0}
    stream_only = sum(call_cost(no_waiter, api=False).values())
    create_in_workflow = sum(call_cost(ops["create"], api=False).values())
    wait = create_in_workflow - ops["create"]["wcu"] * PRICE_WRU * 1e6 + WAIT_FOR_TOKEN_WCU * PRICE_WRU * 1e6
    webhook = total["create"] + total["callback"] + total["retrieve"] + stream_only
    resumed = total["callback_with_waiter"] + stream_only
    workflow = create_in_workflow + wait + resumed + EXAMPLE_TRANSITIONS * PRICE_SFN * 1e6
    return {
        "per_million_calls": total,
        "per_call_breakdown": {n: {k: round(v, 3) for k, v in c.items()} for n, c in per_call.items()},
        "webhook_lifecycle": round(webhook, 2),
        "workflow_lifecycle": round(workflow, 2),
        "step_functions_share_of_workflow": round(EXAMPLE_TRANSITIONS * PRICE_SFN * 1e6 / workflow, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3000, help="warm calls per timing run")
    parser.add_argument("--requests", type=int, default=1000, help="requests before reading RSS")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per throughput run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="one run of everything, few calls (for tests)")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / ".waitpoints" / "bench.json")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.calls, args.requests, args.seconds = 1, 20, 5, 0.5
    if args.requests < 1:
        parser.error("--requests must be at least 1 (the first request is timed, RSS is read after the last)")
    with moto_world() as world:
        ops, _, _ = build_ops(world)
        requests = phase_requests(world, ops)
        print("requests and capacity measured", file=sys.stderr)
        timing = phase_timing(world, ops, args.calls, args.runs)
        print("handler time measured", file=sys.stderr)
        cold = phase_cold(world, ops, args.runs, args.requests)
        print("cold start and memory measured", file=sys.stderr)
    throughput = None if args.no_throughput else phase_throughput(args.seconds, args.clients, max(1, min(args.runs, 3)))
    operations = {}
    for name in OPERATIONS:
        operations[name] = {
            "ddb_requests": requests[name]["ddb_requests"],
            "rcu": requests[name]["rcu"],
            "wcu": requests[name]["wcu"],
            "handler_p50_us": round(timing[name]["handler_p50_us"], 1),
            "handler_p99_us": round(timing[name]["handler_p99_us"], 1),
            "floor_p50_us": round(timing[name]["floor_p50_us"], 1),
            "cold_ms": round(cold[name]["cold_ms"], 1),
            "cold_floor_ms": round(cold["floor"]["cold_ms"], 1),
            "rss_mb": round(cold[name]["rss_mb"], 1),
        }
    report = {
        "operations": operations,
        "details": {
            "requests": {name: requests[name]["calls"] for name in OPERATIONS},
            "rss_init_mb": {name: round(cold[name]["rss_init_mb"], 1) for name in OPERATIONS},
            "first_request_ms": {name: round(cold[name]["first_request_ms"], 1) for name in OPERATIONS},
            # whether a fresh container had imported the schema validator after its requests (issue 15)
            "loads_jsonschema": {name: bool(cold[name]["loads_jsonschema"]) for name in OPERATIONS},
            "rss_floor_mb": round(cold["floor"]["rss_mb"], 1),
            "capacity_note": (
                "rcu/wcu computed from item sizes with DynamoDB's rules, GSI writes included; moto "
                f"answers ReturnConsumedCapacity with a constant ({requests['_moto_reported']['units']} "
                "units reported over the measured calls)"
            ),
            "throughput": throughput,
            "dollars_per_million_tokens": dollars_per_million(operations),
            "runs": args.runs,
            "calls_per_run": args.calls,
            "requests_before_rss": args.requests,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"operations": operations}, indent=2) + "\n")  # exactly the contract
    details_path(args.out).write_text(json.dumps(report["details"], indent=2) + "\n")
    print_table(report)
    return 0


def details_path(out: Path) -> Path:
    """Where the figures beside the contract go: requests by name, RSS after init, throughput, dollars."""
    return out.with_name(out.stem + "-details.json")


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def print_table(report: dict[str, Any]) -> None:
    ops, details = report["operations"], report["details"]
    print(
        f"{'operation':<22}{'DDB req':>8}{'RCU':>6}{'WCU':>6}{'p50 µs':>9}{'p99 µs':>9}{'floor µs':>9}{'p50/floor':>10}"
        f"{'cold ms':>9}{'floor ms':>9}{'cold/floor':>11}{'RSS MB':>8}{'RSS/floor':>10}"
    )
    for name, o in ops.items():
        print(
            f"{name:<22}{o['ddb_requests']:>8}{o['rcu']:>6.1f}{o['wcu']:>6.1f}{o['handler_p50_us']:>9.0f}"
            f"{o['handler_p99_us']:>9.0f}{o['floor_p50_us']:>9.0f}{_ratio(o['handler_p50_us'], o['floor_p50_us']):>10}"
            f"{o['cold_ms']:>9.0f}{o['cold_floor_ms']:>9.0f}{_ratio(o['cold_ms'], o['cold_floor_ms']):>11}"
            f"{o['rss_mb']:>8.1f}{_ratio(o['rss_mb'], details['rss_floor_mb']):>10}"
        )
    print(f"DynamoDB requests: {details['requests']}")
    print(f"first request after a cold start, ms: {details['first_request_ms']}")
    print(f"schema validator imported: {details['loads_jsonschema']}")
    print(details["capacity_note"])
    t = details["throughput"]
    if t:
        print(
            f"local stack, {t['clients']} clients: create {t['create_rps']:.0f} req/s "
            f"({_ratio(t['create_rps'], t['floor_rps'])} of floor), callback {t['callback_rps']:.0f} req/s "
            f"({_ratio(t['callback_rps'], t['floor_rps'])}), floor (GET callback → 405) {t['floor_rps']:.0f} req/s"
        )
    cost = details["dollars_per_million_tokens"]
    print("$ per million calls: " + ", ".join(f"{n} {v:.2f}" for n, v in cost["per_million_calls"].items()))
    print(
        f"$ per million tokens: webhook lifecycle {cost['webhook_lifecycle']:.2f}, workflow lifecycle "
        f"{cost['workflow_lifecycle']:.2f} (Step Functions {cost['step_functions_share_of_workflow']:.0%} of it)"
    )


if __name__ == "__main__":
    sys.exit(main())
