"""DynamoDB storage: the only module that knows the table's keys, attribute names and conditions.

Items (one table, `pk`/`sk` strings, TTL attribute `ttl` in epoch seconds):

    TOKEN#<id>            TOKEN             a waitpoint token
    TOKEN#<id>            WAITER#<sha256>   a Step Functions task token waiting on that token
    IDEM#<env>#<sha256>   IDEM              a live idempotency key → the token it created
    APIKEY#<sha256>       APIKEY            a secret API key's environment (keys are stored only as hashes)
    APIKEYS               <env>#<key id>    the key registry: id, environment, a short hint, creation time
    ENVS                  ENVS              the set of environment names (the timeout sweep visits each)

While a token is WAITING it carries `duePk` = `DUE#<env>`: the sparse DueIndex (duePk, timeoutAt) lists
exactly the waiting tokens of an environment in timeout order, which is all the sweep reads.
"""

from __future__ import annotations

import hashlib
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import Unavailable
from .models import TokenStatus, Waitpoint, timed_out_fields

if TYPE_CHECKING:
    from .bodies import Output
    from collections.abc import Iterator
    from botocore.client import BaseClient

_TOKEN_SK = "TOKEN"
_WAITER_PREFIX = "WAITER#"
_ENVS_KEY = {"pk": {"S": "ENVS"}, "sk": {"S": "ENVS"}}
_KEYS_PK = "APIKEYS"
DUE_INDEX = "DueIndex"
_WAITER_TTL_SECONDS = 400 * 86_400  # a safety net: waiters are deleted once notified
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_ATTEMPTS = 4


class Attachment(Enum):
    ATTACHED = "attached"  # the token is waiting; its completion will resume the execution
    FINAL = "final"  # the token is already completed or timed out
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Waiter:
    token_id: str
    sort_key: str
    task_token: str


@dataclass(frozen=True)
class ApiKeyInfo:
    key_id: str  # the first 16 hex digits of the key's hash: enough to name it, useless to authenticate
    env: str
    hint: str  # the key's first characters, e.g. "wp_dev_Jl5H…"
    created_at: int


class Completion(Enum):
    WON = "won"
    ALREADY_FINAL = "already_final"  # completed earlier, or past its timeout
    NOT_FOUND = "not_found"


def token_key(token_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": _TOKEN_SK}}


def idempotency_key(env: str, key: str) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return {"pk": {"S": f"IDEM#{env}#{digest}"}, "sk": {"S": "IDEM"}}


def api_key_key(key_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"APIKEY#{key_hash}"}, "sk": {"S": "APIKEY"}}


def token_to_item(token: Waitpoint) -> dict[str, Any]:
    item: dict[str, Any] = {
        **token_key(token.id),
        "env": {"S": token.env},
        "status": {"S": token.status.value},
        "createdAt": {"N": str(token.created_at)},
        "timeoutAt": {"N": str(token.timeout_at)},
        "ttl": {"N": str(token.expires_at)},
        "tags": {"L": [{"S": t} for t in token.tags]},
    }
    if token.status is TokenStatus.WAITING:
        item["duePk"] = {"S": f"DUE#{token.env}"}
    if token.idempotency_key is not None:
        item["idempotencyKey"] = {"S": token.idempotency_key}
        item["idempotencyKeyExpiresAt"] = {"N": str(token.idempotency_key_expires_at)}
    return item


def token_from_image(image: dict[str, Any] | None) -> Waitpoint | None:
    """The token in a stream record's image, or None when the image is another kind of item."""
    return item_to_token(image) if image and image.get("sk", {}).get("S") == _TOKEN_SK else None


def item_to_token(item: dict[str, Any]) -> Waitpoint:
    def num(name: str) -> int | None:
        return int(item[name]["N"]) if name in item else None

    def text(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    return Waitpoint(
        id=item["pk"]["S"].removeprefix("TOKEN#"),
        env=item["env"]["S"],
        status=TokenStatus(item["status"]["S"]),
        created_at=int(item["createdAt"]["N"]),
        timeout_at=int(item["timeoutAt"]["N"]),
        expires_at=int(item["ttl"]["N"]),
        tags=[t["S"] for t in item.get("tags", {}).get("L", [])],
        completed_at=num("completedAt"),
        idempotency_key=text("idempotencyKey"),
        idempotency_key_expires_at=num("idempotencyKeyExpiresAt"),
        output=text("output"),
        output_type=text("outputType"),
        output_is_error=item.get("outputIsError", {}).get("BOOL", False),
    )


LEAVE_WAITING = "REMOVE duePk"  # a token that stops waiting leaves the sparse indexes of waiting tokens
_STILL_WAITING = "attribute_exists(pk) AND #status = :waiting AND timeoutAt > :now AND #ttl > :nowSec"

_RETRYABLE_CODES = {
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionInProgressException",
}


@contextmanager
def aws_errors() -> Iterator[None]:
    """Throttling, 5xx and network failures that outlast the client's retries become Unavailable (503)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _RETRYABLE_CODES or status >= 500:
            raise Unavailable() from exc
        raise
    except BotoCoreError as exc:
        raise Unavailable() from exc


class DynamoDBStore:
    def __init__(self, client: BaseClient, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def insert_token(self, token: Waitpoint) -> str:
        """Store a new token; with an idempotency key, atomically claim it. Returns the id that holds the key:
        the new token's id, or the id of the token a live key already points to (then nothing is written)."""
        put_token = {"TableName": self._table, "Item": token_to_item(token), "ConditionExpression": "attribute_not_exists(pk)"}
        if token.idempotency_key is None:
            with aws_errors():
                self._ddb.put_item(**put_token)
            return token.id
        claim = {
            "TableName": self._table,
            "Item": {
                **idempotency_key(token.env, token.idempotency_key),
                "tokenId": {"S": token.id},
                "expiresAtMs": {"N": str(token.idempotency_key_expires_at)},
                "ttl": {"N": str(-(-(token.idempotency_key_expires_at or 0) // 1000))},
            },
            # A key whose TTL has passed but that DynamoDB has not deleted yet counts as absent.
            "ConditionExpression": "attribute_not_exists(pk) OR expiresAtMs <= :now",
            "ExpressionAttributeValues": {":now": {"N": str(token.created_at)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                with aws_errors():
                    self._ddb.transact_write_items(TransactItems=[{"Put": claim}, {"Put": put_token}])
                return token.id
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons", [])
                first = reasons[0] if reasons else {}
                if first.get("Code") == "ConditionalCheckFailed" and "Item" in first:
                    return str(first["Item"]["tokenId"]["S"])
                if attempt + 1 == _TRANSACTION_ATTEMPTS:
                    raise Unavailable() from exc
                # TransactionConflict: another create with this key is in flight; back off and try again.
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def get_token(self, token_id: str) -> Waitpoint | None:
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=token_key(token_id), ConsistentRead=True).get("Item")
        return item_to_token(item) if item else None

    def complete_token(self, token_id: str, env: str | None, output: Output | None, now_ms: int, expires_at: int) -> Completion:
        """First completion wins: a conditional write on WAITING, before the timeout, in `env` (any if None)."""
        sets = ["#status = :completed", "completedAt = :now", "#ttl = :ttl"]
        values: dict[str, Any] = {
            ":completed": {"S": TokenStatus.COMPLETED.value},
            ":waiting": {"S": TokenStatus.WAITING.value},
            ":now": {"N": str(now_ms)},
            ":nowSec": {"N": str(now_ms // 1000)},
            ":ttl": {"N": str(expires_at)},
        }
        if output is not None:
            sets += ["#output = :output", "outputType = :outputType"]
            values[":output"] = {"S": output.text}
            values[":outputType"] = {"S": output.type}
        condition = _STILL_WAITING
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        names = {"#status": "status", "#ttl": "ttl"}
        if output is not None:
            names["#output"] = "output"
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=token_key(token_id),
                    UpdateExpression="SET " + ", ".join(sets) + " " + LEAVE_WAITING,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            item = exc.response.get("Item")
            if not item:
                return Completion.NOT_FOUND
            old = item_to_token(item)
            if (env is not None and old.env != env) or not old.exists_at(now_ms):
                return Completion.NOT_FOUND
            return Completion.ALREADY_FINAL
        return Completion.WON

    def get_api_key_env(self, key_hash: str) -> str | None:
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=api_key_key(key_hash)).get("Item")
        return item["env"]["S"] if item else None

    def put_api_key(self, key_hash: str, env: str, hint: str, now_ms: int) -> None:
        """Store a key's hash, list it in the key registry, and record its environment in the set the
        timeout sweep visits: one transaction."""
        key_id = key_hash[:16]
        with aws_errors():
            self._ddb.transact_write_items(TransactItems=[
                {"Put": {
                    "TableName": self._table,
                    "Item": {**api_key_key(key_hash), "env": {"S": env}, "createdAt": {"N": str(now_ms)}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }},
                {"Put": {
                    "TableName": self._table,
                    "Item": {"pk": {"S": _KEYS_PK}, "sk": {"S": f"{env}#{key_id}"}, "keyId": {"S": key_id},
                             "keyHash": {"S": key_hash}, "env": {"S": env}, "hint": {"S": hint},
                             "createdAt": {"N": str(now_ms)}},
                }},
                {"Update": {
                    "TableName": self._table, "Key": _ENVS_KEY, "UpdateExpression": "ADD #names :env",
                    "ExpressionAttributeNames": {"#names": "names"},
                    "ExpressionAttributeValues": {":env": {"SS": [env]}},
                }},
            ])

    def api_keys(self) -> list[ApiKeyInfo]:
        request: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": "pk = :pk",
                                   "ExpressionAttributeValues": {":pk": {"S": _KEYS_PK}}}
        found: list[ApiKeyInfo] = []
        while True:
            with aws_errors():
                page = self._ddb.query(**request)
            found += [ApiKeyInfo(i["keyId"]["S"], i["env"]["S"], i["hint"]["S"], int(i["createdAt"]["N"]))
                      for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def revoke_api_key(self, key_id: str) -> ApiKeyInfo | None:
        """Delete a key (by its id) and its registry entry; None if there is no such key."""
        for info in self.api_keys():
            if info.key_id == key_id:
                registry = {"pk": {"S": _KEYS_PK}, "sk": {"S": f"{info.env}#{key_id}"}}
                with aws_errors():
                    key_hash = self._ddb.get_item(TableName=self._table, Key=registry)["Item"]["keyHash"]["S"]
                    self._ddb.transact_write_items(TransactItems=[
                        {"Delete": {"TableName": self._table, "Key": api_key_key(key_hash)}},
                        {"Delete": {"TableName": self._table, "Key": registry}},
                    ])
                return info
        return None

    def environments(self) -> list[str]:
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=_ENVS_KEY, ConsistentRead=True).get("Item")
        return sorted(item["names"]["SS"]) if item else []

    # --- Step Functions waiters and timeouts ----------------------------------------------------------

    def attach_waiter(self, token_id: str, env: str | None, task_token: str, now_ms: int) -> tuple[Attachment, Waitpoint | None]:
        """Record a task token as waiting, atomically with a check that the token still waits.

        The check and the write form one transaction, so a completion is ordered either before it (FINAL:
        the caller resumes the execution itself, with the token returned) or after it (the completion's
        stream record finds this waiter). Nothing in between can leave an execution waiting forever.
        """
        names = {"#status": "status", "#ttl": "ttl"}
        values: dict[str, Any] = {
            ":waiting": {"S": TokenStatus.WAITING.value},
            ":now": {"N": str(now_ms)},
            ":nowSec": {"N": str(now_ms // 1000)},
        }
        condition = _STILL_WAITING
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        waiter = {
            "pk": {"S": f"TOKEN#{token_id}"},
            "sk": {"S": _WAITER_PREFIX + hashlib.sha256(task_token.encode()).hexdigest()},
            "taskToken": {"S": task_token},
            "createdAt": {"N": str(now_ms)},
            "ttl": {"N": str(now_ms // 1000 + _WAITER_TTL_SECONDS)},
        }
        try:
            with aws_errors():
                self._ddb.transact_write_items(TransactItems=[
                    {"ConditionCheck": {
                        "TableName": self._table, "Key": token_key(token_id), "ConditionExpression": condition,
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }},
                    {"Put": {"TableName": self._table, "Item": waiter}},
                ])
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if exc.response["Error"]["Code"] != "TransactionCanceledException" or not reasons:
                raise
            if reasons[0].get("Code") != "ConditionalCheckFailed":
                raise Unavailable() from exc  # a conflicting transaction: the caller may retry
            item = reasons[0].get("Item")
            token = item_to_token(item) if item else None
            if token is None or (env is not None and token.env != env) or not token.exists_at(now_ms):
                return Attachment.NOT_FOUND, None
            return Attachment.FINAL, token
        return Attachment.ATTACHED, None

    def waiters(self, token_id: str) -> list[Waiter]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"TOKEN#{token_id}"}, ":prefix": {"S": _WAITER_PREFIX}},
            "ConsistentRead": True,
        }
        found: list[Waiter] = []
        while True:
            with aws_errors():
                page = self._ddb.query(**request)
            found += [Waiter(token_id, i["sk"]["S"], i["taskToken"]["S"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_waiter(self, waiter: Waiter) -> None:
        with aws_errors():
            self._ddb.delete_item(TableName=self._table,
                                  Key={"pk": {"S": f"TOKEN#{waiter.token_id}"}, "sk": {"S": waiter.sort_key}})

    def due_tokens(self, env: str, now_ms: int, limit: int) -> list[tuple[str, int]]:
        """(token id, timeoutAt) of up to `limit` waiting tokens of `env` whose timeout has passed."""
        with aws_errors():
            page = self._ddb.query(
                TableName=self._table, IndexName=DUE_INDEX, Limit=limit,
                KeyConditionExpression="duePk = :due AND timeoutAt <= :now",
                ExpressionAttributeValues={":due": {"S": f"DUE#{env}"}, ":now": {"N": str(now_ms)}},
            )
        return [(i["pk"]["S"].removeprefix("TOKEN#"), int(i["timeoutAt"]["N"])) for i in page.get("Items", [])]

    def time_out_token(self, token_id: str, timeout_at: int, now_ms: int, expires_at: int) -> bool:
        """Persist TIMED_OUT for a waiting token past its timeout; False if it was completed meanwhile."""
        fields = timed_out_fields(timeout_at)
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=token_key(token_id),
                    UpdateExpression="SET #status = :timedOut, completedAt = timeoutAt, #output = :output, "
                    "outputType = :outputType, outputIsError = :true, #ttl = :ttl " + LEAVE_WAITING,
                    ConditionExpression="#status = :waiting AND timeoutAt <= :now",
                    ExpressionAttributeNames={"#status": "status", "#output": "output", "#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":timedOut": {"S": TokenStatus.TIMED_OUT.value},
                        ":waiting": {"S": TokenStatus.WAITING.value},
                        ":output": {"S": fields["output"]},
                        ":outputType": {"S": fields["output_type"]},
                        ":true": {"BOOL": True},
                        ":ttl": {"N": str(expires_at)},
                        ":now": {"N": str(now_ms)},
                    },
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == _CONDITION_FAILED:
                return False
            raise
        return True
