"""DynamoDB storage: the only module that knows the table's keys, attribute names and conditions.

Items (one table, `pk`/`sk` strings, TTL attribute `ttl` in epoch seconds):

    TOKEN#<id>            TOKEN   a waitpoint token
    IDEM#<env>#<sha256>   IDEM    a live idempotency key → the token it created
    APIKEY#<sha256>       APIKEY  a secret API key's environment (keys are stored only as hashes)
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .bodies import Output
from .errors import Unavailable
from .models import TokenStatus, Waitpoint

if TYPE_CHECKING:
    from botocore.client import BaseClient

_TOKEN_SK = "TOKEN"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_ATTEMPTS = 4


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
    if token.idempotency_key is not None:
        item["idempotencyKey"] = {"S": token.idempotency_key}
        item["idempotencyKeyExpiresAt"] = {"N": str(token.idempotency_key_expires_at)}
    return item


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


_RETRYABLE_CODES = {
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionInProgressException",
}


@contextmanager
def _aws_errors() -> Iterator[None]:
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
            with _aws_errors():
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
                with _aws_errors():
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
        with _aws_errors():
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
        condition = "attribute_exists(pk) AND #status = :waiting AND timeoutAt > :now AND #ttl > :nowSec"
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        names = {"#status": "status", "#ttl": "ttl"}
        if output is not None:
            names["#output"] = "output"
        try:
            with _aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=token_key(token_id),
                    UpdateExpression="SET " + ", ".join(sets),
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
        with _aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=api_key_key(key_hash)).get("Item")
        return item["env"]["S"] if item else None

    def put_api_key(self, key_hash: str, env: str, now_ms: int) -> None:
        with _aws_errors():
            self._ddb.put_item(
                TableName=self._table,
                Item={**api_key_key(key_hash), "env": {"S": env}, "createdAt": {"N": str(now_ms)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
