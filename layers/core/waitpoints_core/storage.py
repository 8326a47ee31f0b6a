"""DynamoDB storage: with storage_listing.py (its listing queries), the only code that knows the table's keys,
attribute names and conditions.

Items (one table, `pk`/`sk` strings, TTL attribute `ttl` in epoch seconds):

    TOKEN#<id>                 TOKEN             a waitpoint token
    TOKEN#<id>                 WAITER#<sha256>   a Step Functions task token waiting on that token
    TAG#<env>#<sha256(tag)>    <listSk>          a copy of a tagged token's list fields, one per tag
    IDEM#<env>#<sha256>        IDEM              a live idempotency key → the token it created
    APIKEY#<sha256>            APIKEY            a secret API key's environment (keys are stored only as hashes)
    APIKEYS                    <env>#<key id>    the key registry: id, environment, a short hint, creation time
    ENVS                       ENVS              the set of environment names (the timeout sweep visits each)

Token items also carry the keys of the list indexes (README, "Listing"): `listPk`/`listSk` always,
`waitingSk` and `duePk` while WAITING, `completedSk` or `timedOutSk` once final, `idemPk` with a key.
The sparse DueIndex (duePk = DUE#<env>, timeoutAt) holds exactly the waiting tokens, in timeout order: all
the timeout sweep reads.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import Unavailable
from .listing import list_sort_key
from .models import TokenStatus, Waitpoint, timed_out_fields

if TYPE_CHECKING:
    from collections.abc import Iterator

    from botocore.client import BaseClient

    from .bodies import Output

_TOKEN_SK = "TOKEN"
_WAITER_PREFIX = "WAITER#"
_ENVS_KEY = {"pk": {"S": "ENVS"}, "sk": {"S": "ENVS"}}
_KEYS_PK = "APIKEYS"
_WAITER_TTL_SECONDS = 400 * 86_400  # a safety net: waiters are deleted once notified
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_ATTEMPTS = 4

# Update-expression actions shared by every write that ends a token's wait: complete and the callback here, the
# timeout sweep elsewhere. DynamoDB copies one attribute into another inside the UpdateItem, so the writer needs
# neither the token's environment nor its creation time to move it between the sparse list indexes:
#     f"SET <its own actions>, {ENTER_COMPLETED} REMOVE {LEAVE_WAITING}"
ENTER_COMPLETED = "completedSk = listSk"  # SET action: join CompletedIndex at the token's list position
ENTER_TIMED_OUT = "timedOutSk = listSk"  # SET action: join TimedOutIndex at the token's list position
LEAVE_WAITING = "waitingSk, duePk"  # REMOVE actions: leave WaitingIndex and DueIndex

ALL_INDEX = "AllIndex"  # listPk / listSk: every token of an environment
WAITING_INDEX = "WaitingIndex"  # listPk / waitingSk: WAITING tokens (sparse)
COMPLETED_INDEX = "CompletedIndex"  # listPk / completedSk (sparse)
TIMED_OUT_INDEX = "TimedOutIndex"  # listPk / timedOutSk (sparse)
IDEMPOTENCY_KEY_INDEX = "IdempotencyKeyIndex"  # idemPk / listSk (sparse)
DUE_INDEX = "DueIndex"  # duePk / timeoutAt (N): WAITING tokens by deadline (sparse)
# What every list index projects (and what a tag item copies): never `output`, which can be 256 KiB.
LIST_FIELDS = (
    "env",
    "status",
    "tags",
    "createdAt",
    "timeoutAt",
    "completedAt",
    "idempotencyKey",
    "idempotencyKeyExpiresAt",
    "outputIsError",
    "ttl",
)
_MAX_FETCH = 1000


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
    GUARDED = "guarded"  # waiting, but a callback must pass the token's rule or signature check first


def token_key(token_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": _TOKEN_SK}}


def idempotency_key(env: str, key: str) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return {"pk": {"S": f"IDEM#{env}#{digest}"}, "sk": {"S": "IDEM"}}


def api_key_key(key_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"APIKEY#{key_hash}"}, "sk": {"S": "APIKEY"}}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def tag_key(env: str, tag: str, list_sk: str) -> dict[str, Any]:
    return {"pk": {"S": f"TAG#{env}#{_digest(tag)}"}, "sk": {"S": list_sk}}


def _list_fields(token: Waitpoint) -> dict[str, Any]:
    item: dict[str, Any] = {
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
    if token.completed_at is not None:
        item["completedAt"] = {"N": str(token.completed_at)}
        item["outputIsError"] = {"BOOL": token.output_is_error}
    return item


def token_to_item(token: Waitpoint) -> dict[str, Any]:
    """The token item, with the keys that place it in the list indexes for its status."""
    list_sk = {"S": list_sort_key(token.created_at, token.id)}
    item: dict[str, Any] = {
        **token_key(token.id),
        **_list_fields(token),
        "listPk": {"S": f"LIST#{token.env}"},
        "listSk": list_sk,
    }
    if token.status is TokenStatus.WAITING:
        item["waitingSk"] = list_sk
        item["duePk"] = {"S": f"DUE#{token.env}"}
    else:
        item["completedSk" if token.status is TokenStatus.COMPLETED else "timedOutSk"] = list_sk
    if token.idempotency_key is not None:
        item["idemPk"] = {"S": f"IDEMK#{token.env}#{_digest(token.idempotency_key)}"}
    if token.output is not None:
        item["output"] = {"S": token.output}
        item["outputType"] = {"S": token.output_type or "application/json"}
    if token.complete_when is not None:
        item["completeWhen"] = {"S": json.dumps(token.complete_when, separators=(",", ":"))}
    if token.webhook_scheme is not None and token.webhook_secret is not None:
        item["webhookScheme"] = {"S": token.webhook_scheme}
        item["webhookSecret"] = {"B": token.webhook_secret}
    return item


def tag_items(token: Waitpoint) -> list[dict[str, Any]]:
    """One item per distinct tag: the token's list fields in the tag's partition, at the token's list position."""
    list_sk = list_sort_key(token.created_at, token.id)
    fields = {"id": {"S": token.id}, **_list_fields(token)}
    return [{**tag_key(token.env, tag, list_sk), **fields} for tag in dict.fromkeys(token.tags)]


def token_from_image(image: dict[str, Any] | None) -> Waitpoint | None:
    """The token in a stream record's image, or None when the image is another kind of item."""
    return item_to_token(image) if image and image.get("sk", {}).get("S") == _TOKEN_SK else None


def item_to_token(item: dict[str, Any]) -> Waitpoint:
    get = item.get
    completed_at, key, key_expires_at = get("completedAt"), get("idempotencyKey"), get("idempotencyKeyExpiresAt")
    output, output_type, is_error = get("output"), get("outputType"), get("outputIsError")
    tags = get("tags")
    return Waitpoint(
        id=item["id"]["S"] if "id" in item else item["pk"]["S"].removeprefix("TOKEN#"),
        env=item["env"]["S"],
        status=TokenStatus(item["status"]["S"]),
        created_at=int(item["createdAt"]["N"]),
        timeout_at=int(item["timeoutAt"]["N"]),
        expires_at=int(item["ttl"]["N"]),
        tags=[t["S"] for t in tags["L"]] if tags else [],
        completed_at=int(completed_at["N"]) if completed_at else None,
        idempotency_key=key["S"] if key else None,
        idempotency_key_expires_at=int(key_expires_at["N"]) if key_expires_at else None,
        output=output["S"] if output else None,
        output_type=output_type["S"] if output_type else None,
        output_is_error=is_error.get("BOOL", False) if is_error else False,
        **({} if _EXTENSIONS.isdisjoint(item) else _extensions(item)),  # most items have none (a list page: all)
    )


_EXTENSION_FIELDS = (
    "outputRef",
    "outputSize",
    "completeWhen",
    "webhookScheme",
    "webhookSecret",
    "deliveries",
    "lastDeliveryAt",
)
_EXTENSIONS = frozenset(_EXTENSION_FIELDS)


def _extensions(item: dict[str, Any]) -> dict[str, Any]:
    """The fields only some tokens have: an output in S3, a completion rule, a webhook secret, deliveries."""
    ref, size, rule, scheme, secret, deliveries, last = map(item.get, _EXTENSION_FIELDS)
    return {
        "output_ref": ref["S"] if ref else None,
        "output_size": int(size["N"]) if size else None,
        "complete_when": json.loads(rule["S"]) if rule else None,
        "webhook_scheme": scheme["S"] if scheme else None,
        "webhook_secret": bytes(secret["B"]) if secret else None,
        "deliveries": int(deliveries["N"]) if deliveries else 0,
        "last_delivery_at": int(last["N"]) if last else None,
    }


_STILL_WAITING = "attribute_exists(pk) AND #status = :waiting AND timeoutAt > :now AND #ttl > :nowSec"

_RETRYABLE_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
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


from .storage_listing import ListingQueries  # noqa: E402 - it uses the item codecs above


class DynamoDBStore(ListingQueries):
    def __init__(self, client: BaseClient, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def insert_token(self, token: Waitpoint) -> str:
        """Store a new token; with an idempotency key, atomically claim it. Returns the id that holds the key:
        the new token's id, or the id of the token a live key already points to (then nothing is written)."""
        put_token = {
            "TableName": self._table,
            "Item": token_to_item(token),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        put_tags = [{"Put": {"TableName": self._table, "Item": item}} for item in tag_items(token)]
        if token.idempotency_key is None and not put_tags:
            try:
                with aws_errors():
                    self._ddb.put_item(**put_token, ReturnValuesOnConditionCheckFailure="ALL_OLD")
            except ClientError as exc:
                # The id is new and random, so an item already there is this very write: botocore retried a
                # PutItem whose answer was lost (a timeout or a reset after DynamoDB applied it).
                old = exc.response.get("Item") or {}
                if (
                    exc.response["Error"]["Code"] != _CONDITION_FAILED
                    or old.get("createdAt") != put_token["Item"]["createdAt"]
                ):
                    raise
            return token.id
        if token.idempotency_key is None:
            self._transact([{"Put": put_token}, *put_tags])
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
        held_by = self._transact([{"Put": claim}, {"Put": put_token}, *put_tags])
        return held_by or token.id

    def _transact(self, items: list[dict[str, Any]]) -> str | None:
        """Run a create transaction; None when it went through, else the token id a live idempotency key
        (the first item, when it is a claim) already holds."""
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                with aws_errors():
                    self._ddb.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons", [])
                first = reasons[0] if reasons else {}
                if first.get("Code") == "ConditionalCheckFailed" and "tokenId" in first.get("Item", {}):
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

    def complete_token(
        self, token_id: str, env: str | None, output: Output | None, now_ms: int, expires_at: int
    ) -> Completion:
        """First completion wins: a conditional write on WAITING, before the timeout, in `env` (any if None)."""
        return self._complete(token_id, env, output, now_ms, expires_at, unguarded_only=False)[0]

    def complete_if_unguarded(
        self, token_id: str, output: Output | None, now_ms: int, expires_at: int
    ) -> tuple[Completion, Waitpoint | None]:
        """The callback's first attempt: complete only a token with no rule and no signature check. For a
        guarded token that still waits, returns (GUARDED, the token), read from the failed write itself."""
        return self._complete(token_id, None, output, now_ms, expires_at, unguarded_only=True)

    def _complete(
        self,
        token_id: str,
        env: str | None,
        output: Output | None,
        now_ms: int,
        expires_at: int,
        *,
        unguarded_only: bool,
    ) -> tuple[Completion, Waitpoint | None]:
        sets = ["#status = :completed", "completedAt = :now", "#ttl = :ttl", ENTER_COMPLETED]
        values: dict[str, Any] = {
            ":completed": {"S": TokenStatus.COMPLETED.value},
            ":waiting": {"S": TokenStatus.WAITING.value},
            ":now": {"N": str(now_ms)},
            ":nowSec": {"N": str(now_ms // 1000)},
            ":ttl": {"N": str(expires_at)},
        }
        names = {"#status": "status", "#ttl": "ttl"}
        if output is not None:
            sets.append("outputType = :outputType")
            values[":outputType"] = {"S": output.type}
            if output.ref is None:
                sets.append("#output = :output")
                values[":output"] = {"S": output.text}
                names["#output"] = "output"
            else:
                sets += ["outputRef = :outputRef", "outputSize = :outputSize"]
                values[":outputRef"] = {"S": output.ref}
                values[":outputSize"] = {"N": str(output.byte_size)}
        condition = _STILL_WAITING
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        if unguarded_only:
            condition += " AND attribute_not_exists(completeWhen) AND attribute_not_exists(webhookScheme)"
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=token_key(token_id),
                    UpdateExpression=f"SET {', '.join(sets)} REMOVE {LEAVE_WAITING}",
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            item = exc.response.get("Item")
            old = item_to_token(item) if item else None
            if old is None or (env is not None and old.env != env) or not old.exists_at(now_ms):
                return Completion.NOT_FOUND, None
            if unguarded_only and old.guarded and old.seen_at(now_ms).status is TokenStatus.WAITING:
                return Completion.GUARDED, old
            return Completion.ALREADY_FINAL, old
        return Completion.WON, None

    def record_delivery(self, token_id: str, delivery_id: str | None, now_ms: int) -> bool:
        """Count a callback that did not complete the token. A delivery id already recorded (a sender's
        retry) is not counted again; returns whether this one was counted."""
        adds = ["deliveries :one"]
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":now": {"N": str(now_ms)},
            ":waiting": {"S": TokenStatus.WAITING.value},
        }
        condition = "attribute_exists(pk) AND #status = :waiting"
        if delivery_id is not None:
            adds.append("deliveryIds :ids")
            values[":ids"] = {"SS": [delivery_id]}
            values[":id"] = {"S": delivery_id}
            condition += " AND NOT contains(deliveryIds, :id)"
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=token_key(token_id),
                    UpdateExpression=f"ADD {', '.join(adds)} SET lastDeliveryAt = :now",
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            return False
        return True

    def get_api_key_env(self, key_hash: str) -> str | None:
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=api_key_key(key_hash)).get("Item")
        return item["env"]["S"] if item else None

    def put_api_key(self, key_hash: str, env: str, hint: str, now_ms: int) -> None:
        """Store a key's hash, list it in the key registry, and record its environment in the set the
        timeout sweep visits: one transaction."""
        key_id = key_hash[:16]
        with aws_errors():
            self._ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {**api_key_key(key_hash), "env": {"S": env}, "createdAt": {"N": str(now_ms)}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": {"S": _KEYS_PK},
                                "sk": {"S": f"{env}#{key_id}"},
                                "keyId": {"S": key_id},
                                "keyHash": {"S": key_hash},
                                "env": {"S": env},
                                "hint": {"S": hint},
                                "createdAt": {"N": str(now_ms)},
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": _ENVS_KEY,
                            "UpdateExpression": "ADD #names :env",
                            "ExpressionAttributeNames": {"#names": "names"},
                            "ExpressionAttributeValues": {":env": {"SS": [env]}},
                        }
                    },
                ]
            )

    def api_keys(self) -> list[ApiKeyInfo]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": _KEYS_PK}},
        }
        found: list[ApiKeyInfo] = []
        while True:
            with aws_errors():
                page = self._ddb.query(**request)
            found += [
                ApiKeyInfo(i["keyId"]["S"], i["env"]["S"], i["hint"]["S"], int(i["createdAt"]["N"]))
                for i in page.get("Items", [])
            ]
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
                    self._ddb.transact_write_items(
                        TransactItems=[
                            {"Delete": {"TableName": self._table, "Key": api_key_key(key_hash)}},
                            {"Delete": {"TableName": self._table, "Key": registry}},
                        ]
                    )
                return info
        return None

    def environments(self) -> list[str]:
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=_ENVS_KEY, ConsistentRead=True).get("Item")
        return sorted(item["names"]["SS"]) if item else []

    # --- Step Functions waiters and timeouts ----------------------------------------------------------

    def attach_waiter(
        self, token_id: str, env: str | None, task_token: str, now_ms: int
    ) -> tuple[Attachment, Waitpoint | None]:
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
                self._ddb.transact_write_items(
                    TransactItems=[
                        {
                            "ConditionCheck": {
                                "TableName": self._table,
                                "Key": token_key(token_id),
                                "ConditionExpression": condition,
                                "ExpressionAttributeNames": names,
                                "ExpressionAttributeValues": values,
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            }
                        },
                        {"Put": {"TableName": self._table, "Item": waiter}},
                    ]
                )
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
            self._ddb.delete_item(
                TableName=self._table, Key={"pk": {"S": f"TOKEN#{waiter.token_id}"}, "sk": {"S": waiter.sort_key}}
            )

    def due_tokens(self, env: str, now_ms: int, limit: int) -> list[tuple[str, int]]:
        """(token id, timeoutAt) of up to `limit` waiting tokens of `env` whose timeout has passed."""
        with aws_errors():
            page = self._ddb.query(
                TableName=self._table,
                IndexName=DUE_INDEX,
                Limit=limit,
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
                    f"outputType = :outputType, outputIsError = :true, #ttl = :ttl, {ENTER_TIMED_OUT} "
                    f"REMOVE {LEAVE_WAITING}",
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
