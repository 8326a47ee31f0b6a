"""Token items: create (with its idempotency claim and tag items), read, and the writes that end a wait."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..aws.errors import aws_errors, error_code, response_of
from ..errors import Unavailable
from ..models import TokenStatus, timed_out_fields
from ..ports import Completion
from . import codecs
from .shards import ShardLayouts

if TYPE_CHECKING:
    from ..bodies import Output
    from ..models import Waitpoint

_TRANSACTION_ATTEMPTS = 4


class TokenItems(ShardLayouts):
    def insert_token(self, token: Waitpoint) -> str:
        """Store a new token; with an idempotency key, atomically claim it. Returns the id that holds the key:
        the new token's id, or the id of the token a live key already points to (then nothing is written)."""
        shards = self.write_shards(token.env)  # cached: no request on the warm path
        put_token: dict[str, Any] = {
            "TableName": self._table,
            "Item": codecs.token_to_item(token, shards),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        put_tags = [{"Put": {"TableName": self._table, "Item": item}} for item in codecs.tag_items(token, shards)]
        if token.idempotency_key is None and not put_tags:
            try:
                with aws_errors():
                    self._ddb.put_item(**put_token, ReturnValuesOnConditionCheckFailure="ALL_OLD")
            except ClientError as exc:
                # The id is new and random, so an item already there is this very write: botocore retried a
                # PutItem whose answer was lost (a timeout or a reset after DynamoDB applied it).
                old = response_of(exc).get("Item") or {}
                if error_code(exc) != codecs.CONDITION_FAILED or old.get("createdAt") != put_token["Item"]["createdAt"]:
                    raise
            return token.id
        if token.idempotency_key is None:
            self._transact([{"Put": put_token}, *put_tags])
            return token.id
        claim = {
            "TableName": self._table,
            "Item": {
                **codecs.idempotency_key(token.env, token.idempotency_key),
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
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = response_of(exc).get("CancellationReasons", [])
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
            item = self._ddb.get_item(TableName=self._table, Key=codecs.token_key(token_id), ConsistentRead=True).get(
                "Item"
            )
        return codecs.item_to_token(item) if item else None

    def complete_token(
        self, token_id: str, env: str | None, output: Output | None, now_ms: int, expires_at: int
    ) -> Completion:
        """First completion wins: a conditional write on WAITING, before the timeout, in `env` (any if None)."""
        return self._complete(token_id, env, output, now_ms, expires_at, unguarded_only=False)[0]

    def reject_token(self, token_id: str, env: str | None, output: Output, now_ms: int, expires_at: int) -> Completion:
        """First writer wins, as for complete: REJECTED with an error output (it joins CompletedIndex)."""
        return self._complete(
            token_id, env, output, now_ms, expires_at, unguarded_only=False, status=TokenStatus.REJECTED
        )[0]

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
        status: TokenStatus = TokenStatus.COMPLETED,
    ) -> tuple[Completion, Waitpoint | None]:
        sets = ["#status = :final", "completedAt = :now", "#ttl = :ttl", codecs.ENTER_COMPLETED]
        values: dict[str, Any] = {
            ":final": {"S": status.value},
            ":waiting": {"S": TokenStatus.WAITING.value},
            ":now": {"N": str(now_ms)},
            ":nowSec": {"N": str(now_ms // 1000)},
            ":ttl": {"N": str(expires_at)},
        }
        names = {"#status": "status", "#ttl": "ttl"}
        if status is TokenStatus.REJECTED:
            sets.append("outputIsError = :isError")
            values[":isError"] = {"BOOL": True}
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
        condition = codecs.STILL_WAITING
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        if unguarded_only:
            condition += " AND attribute_not_exists(completeWhen) AND attribute_not_exists(webhookScheme)"
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=codecs.token_key(token_id),
                    UpdateExpression=f"SET {', '.join(sets)} REMOVE {codecs.LEAVE_WAITING}",
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if error_code(exc) != codecs.CONDITION_FAILED:
                raise
            item = response_of(exc).get("Item")
            old = codecs.item_to_token(item) if item else None
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
                    Key=codecs.token_key(token_id),
                    UpdateExpression=f"ADD {', '.join(adds)} SET lastDeliveryAt = :now",
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                )
        except ClientError as exc:
            if error_code(exc) != codecs.CONDITION_FAILED:
                raise
            return False
        return True

    def time_out_token(self, token_id: str, timeout_at: int, now_ms: int, expires_at: int) -> bool:
        """Persist TIMED_OUT for a waiting token past its timeout; False if it was completed meanwhile."""
        fields = timed_out_fields(timeout_at)
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=codecs.token_key(token_id),
                    UpdateExpression="SET #status = :timedOut, completedAt = timeoutAt, #output = :output, "
                    f"outputType = :outputType, outputIsError = :true, #ttl = :ttl, {codecs.ENTER_TIMED_OUT} "
                    f"REMOVE {codecs.LEAVE_WAITING}",
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
            if error_code(exc) == codecs.CONDITION_FAILED:
                return False
            raise
        return True
