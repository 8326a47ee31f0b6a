"""Token items: create (with its idempotency claim and tag items), read, and the writes that end a wait."""

from __future__ import annotations

import dataclasses
import random
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..aws.errors import aws_errors, error_code, response_of
from ..errors import Unavailable
from ..models import Action, TokenStatus, timed_out_fields
from ..ports import Completion
from . import codecs
from .shards import ShardLayouts

if TYPE_CHECKING:
    from ..bodies import Output
    from ..models import Audit, Waitpoint

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
        self,
        token_id: str,
        env: str | None,
        output: Output | None,
        now_ms: int,
        expires_at: int,
        audit: Audit | None = None,
    ) -> Completion:
        """First completion wins: a conditional write on WAITING, before the timeout, in `env` (any if None).
        The audit record, when given, is written by the same update."""
        return self._complete(token_id, env, output, now_ms, expires_at, unguarded_only=False, audit=audit)[0]

    def complete_if_schemaless(
        self,
        token_id: str,
        env: str | None,
        output: Output | None,
        now_ms: int,
        expires_at: int,
        audit: Audit | None = None,
    ) -> tuple[Completion, Waitpoint | None]:
        """The API's complete: one write completes a token without a completion schema. For a waiting token with
        one, returns (GUARDED, the token), read from the failed write itself; its schema is checked first."""
        return self._complete(
            token_id, env, output, now_ms, expires_at, unguarded_only=False, schemaless_only=True, audit=audit
        )

    def reject_token(
        self,
        token_id: str,
        env: str | None,
        output: Output,
        now_ms: int,
        expires_at: int,
        audit: Audit | None = None,
    ) -> Completion:
        """First writer wins, as for complete: REJECTED with an error output (it joins CompletedIndex)."""
        return self._complete(
            token_id, env, output, now_ms, expires_at, unguarded_only=False, status=TokenStatus.REJECTED, audit=audit
        )[0]

    def complete_if_unguarded(
        self, token_id: str, output: Output | None, now_ms: int, expires_at: int, audit: Audit | None = None
    ) -> tuple[Completion, Waitpoint | None]:
        """The callback's first attempt: complete only a token with no rule and no signature check. For a
        guarded token that still waits, returns (GUARDED, the token), read from the failed write itself."""
        return self._complete(token_id, None, output, now_ms, expires_at, unguarded_only=True, audit=audit)

    def _complete(
        self,
        token_id: str,
        env: str | None,
        output: Output | None,
        now_ms: int,
        expires_at: int,
        *,
        unguarded_only: bool,
        schemaless_only: bool = False,
        status: TokenStatus = TokenStatus.COMPLETED,
        audit: Audit | None = None,
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
        if audit is not None:
            sets.append("#audit = :audit")
            names["#audit"] = codecs.AUDIT
            values[":audit"] = codecs.audit_value(audit)
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
        if unguarded_only or schemaless_only:
            condition += f" AND attribute_not_exists({codecs.SCHEMA})"
        try:
            with aws_errors():
                response = self._ddb.update_item(
                    TableName=self._table,
                    Key=codecs.token_key(token_id),
                    UpdateExpression=f"SET {', '.join(sets)} REMOVE {codecs.LEAVE_WAITING}",
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_OLD",
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
            if schemaless_only and old.schema is not None and old.seen_at(now_ms).status is TokenStatus.WAITING:
                return Completion.GUARDED, old
            return Completion.ALREADY_FINAL, old
        return codecs.ending_won(response), None

    def record_delivery(self, token_id: str, delivery_id: str | None, now_ms: int) -> bool:
        """Count a callback that did not complete the token. A delivery id already recorded (a sender's
        retry) is not counted again; returns whether this one was counted.

        Ids are kept as 16-byte digests in a binary set of at most codecs.DELIVERY_DIGESTS_CAP entries (about
        20 KiB, whatever the ids hold): past the cap a delivery is counted without de-duplication, so no
        sequence of deliveries can grow the item towards DynamoDB's 400 KB limit (codecs.ITEM_BUDGET)."""
        if delivery_id is None:
            return self._count_delivery(token_id, now_ms, None)
        digest = codecs.delivery_digest(delivery_id)
        try:
            return self._count_delivery(token_id, now_ms, digest)
        except ClientError as exc:
            if error_code(exc) != codecs.CONDITION_FAILED:
                raise
            old = response_of(exc).get("Item") or {}
        seen = {bytes(d) for d in old.get(codecs.DELIVERY_DIGESTS, {}).get("BS", [])}
        if digest in seen or old.get("status", {}).get("S") != TokenStatus.WAITING.value:
            return False
        # Not a retry, yet refused: the set is full. Count it, without its id.
        return self._count_delivery(token_id, now_ms, None)

    def _count_delivery(self, token_id: str, now_ms: int, digest: bytes | None) -> bool:
        """One conditional ADD: the counter, and the digest when there is one and the set has room (a refused
        digest raises the condition failure, with the old item, for record_delivery to tell why)."""
        adds = ["deliveries :one"]
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":now": {"N": str(now_ms)},
            ":waiting": {"S": TokenStatus.WAITING.value},
        }
        condition = "attribute_exists(pk) AND #status = :waiting"
        if digest is not None:
            names["#ids"] = codecs.DELIVERY_DIGESTS
            adds.append("#ids :ids")
            values[":ids"] = {"BS": [digest]}
            values[":id"] = {"B": digest}
            values[":cap"] = {"N": str(codecs.DELIVERY_DIGESTS_CAP)}
            condition += " AND NOT contains(#ids, :id) AND (attribute_not_exists(#ids) OR size(#ids) < :cap)"
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=codecs.token_key(token_id),
                    UpdateExpression=f"ADD {', '.join(adds)} SET lastDeliveryAt = :now",
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    **({"ReturnValuesOnConditionCheckFailure": "ALL_OLD"} if digest is not None else {}),
                )
        except ClientError as exc:
            if digest is None and error_code(exc) == codecs.CONDITION_FAILED:
                return False
            raise
        return True

    def time_out_token(self, token_id: str, timeout_at: int, now_ms: int, expires_at: int) -> Completion:
        """Persist TIMED_OUT for a waiting token past its timeout; ALREADY_FINAL if it was completed meanwhile."""
        fields = timed_out_fields(timeout_at)
        try:
            with aws_errors():
                response = self._ddb.update_item(
                    TableName=self._table,
                    Key=codecs.token_key(token_id),
                    UpdateExpression="SET #status = :timedOut, completedAt = timeoutAt, #output = :output, "
                    f"outputType = :outputType, outputIsError = :true, #ttl = :ttl, #audit = :audit, "
                    f"{codecs.ENTER_TIMED_OUT} REMOVE {codecs.LEAVE_WAITING}",
                    # The deadline is the one this sweep read: an extend since then moved it, and wins.
                    ConditionExpression="#status = :waiting AND timeoutAt <= :now AND timeoutAt = :timeoutAt",
                    ExpressionAttributeNames=_TIMED_OUT_NAMES,
                    ExpressionAttributeValues={
                        **_timed_out_values(fields, fields["audit"], now_ms, expires_at),
                        ":timeoutAt": {"N": str(timeout_at)},
                    },
                    ReturnValues="UPDATED_OLD",
                )
        except ClientError as exc:
            if error_code(exc) == codecs.CONDITION_FAILED:
                return Completion.ALREADY_FINAL
            raise
        return codecs.ending_won(response)

    def force_time_out_token(
        self, token_id: str, env: str, now_ms: int, expires_at: int, audit: Audit
    ) -> tuple[Completion, Waitpoint | None]:
        """An operator times a waiting token out now: first writer wins, as for complete. Its `timeoutAt` becomes
        now (the deadline it timed out at), and it moves from the waiting and due indexes to TimedOutIndex.
        Returns the outcome and, when it did not win, the token as the failed write found it."""
        fields = timed_out_fields(now_ms)
        audit = dataclasses.replace(audit, action=Action.FORCE_TIMEOUT, at=now_ms)
        try:
            with aws_errors():
                response = self._ddb.update_item(
                    TableName=self._table,
                    Key=codecs.token_key(token_id),
                    UpdateExpression="SET #status = :timedOut, completedAt = :now, timeoutAt = :now, "
                    "#output = :output, outputType = :outputType, outputIsError = :true, #ttl = :ttl, "
                    f"#audit = :audit, {codecs.ENTER_TIMED_OUT} REMOVE {codecs.LEAVE_WAITING}",
                    ConditionExpression=f"{codecs.STILL_WAITING} AND env = :env",
                    ExpressionAttributeNames=_TIMED_OUT_NAMES,
                    ExpressionAttributeValues={
                        **_timed_out_values(fields, audit, now_ms, expires_at),
                        ":nowSec": {"N": str(now_ms // 1000)},
                        ":env": {"S": env},
                    },
                    ReturnValues="UPDATED_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if error_code(exc) != codecs.CONDITION_FAILED:
                raise
            return self._why_not(exc, env, now_ms)
        return codecs.ending_won(response), None

    def extend_token(
        self, token: Waitpoint, timeout_at: int, now_ms: int, expires_at: int
    ) -> tuple[Completion, Waitpoint | None]:
        """Move a waiting token's deadline later: one conditional write on the token (still waiting, before its
        deadline, in its environment, the deadline still earlier than the new one), in one transaction with its
        tag items' copies. DynamoDB moves it within the due index (keyed on `timeoutAt`); lazy reads and the sweep
        see the new deadline. Racing a completion or the sweep, exactly one of them wins."""
        condition = f"{codecs.STILL_WAITING} AND env = :env AND timeoutAt < :timeoutAt"
        values: dict[str, Any] = {
            ":waiting": {"S": TokenStatus.WAITING.value},
            ":now": {"N": str(now_ms)},
            ":nowSec": {"N": str(now_ms // 1000)},
            ":env": {"S": token.env},
            ":timeoutAt": {"N": str(timeout_at)},
            ":ttl": {"N": str(expires_at)},
        }
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": codecs.token_key(token.id),
            "UpdateExpression": "SET timeoutAt = :timeoutAt, #ttl = :ttl",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status", "#ttl": "ttl"},
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        tags = codecs.tag_keys(token)
        try:
            with aws_errors():
                if not tags:
                    self._ddb.update_item(**update)
                    return Completion.WON, None
                tag_updates = [
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": key,
                            "UpdateExpression": "SET timeoutAt = :timeoutAt, #ttl = :ttl",
                            "ConditionExpression": "attribute_exists(pk) AND #status = :waiting",
                            "ExpressionAttributeNames": {"#status": "status", "#ttl": "ttl"},
                            "ExpressionAttributeValues": {k: values[k] for k in (":timeoutAt", ":ttl", ":waiting")},
                        }
                    }
                    for key in tags
                ]
                self._ddb.transact_write_items(TransactItems=[{"Update": update}, *tag_updates])
        except ClientError as exc:
            code = error_code(exc)
            if code == codecs.CONDITION_FAILED:
                return self._why_not(exc, token.env, now_ms)
            if code != "TransactionCanceledException":
                raise
            reasons = response_of(exc).get("CancellationReasons", [])
            if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
                raise Unavailable() from exc  # a conflicting write in flight: the caller may retry
            item = reasons[0].get("Item")
            old = codecs.item_to_token(item) if item else None
            return self._judge(old, token.env, now_ms)
        return Completion.WON, None

    def _why_not(self, exc: ClientError, env: str | None, now_ms: int) -> tuple[Completion, Waitpoint | None]:
        item = response_of(exc).get("Item")
        return self._judge(codecs.item_to_token(item) if item else None, env, now_ms)

    @staticmethod
    def _judge(old: Waitpoint | None, env: str | None, now_ms: int) -> tuple[Completion, Waitpoint | None]:
        if old is None or (env is not None and old.env != env) or not old.exists_at(now_ms):
            return Completion.NOT_FOUND, None
        return Completion.ALREADY_FINAL, old.seen_at(now_ms)


_TIMED_OUT_NAMES = {"#status": "status", "#output": "output", "#ttl": "ttl", "#audit": codecs.AUDIT}


def _timed_out_values(fields: dict[str, Any], audit: Audit, now_ms: int, expires_at: int) -> dict[str, Any]:
    """The values every write that times a token out sets (the sweep's and an operator's)."""
    return {
        ":timedOut": {"S": TokenStatus.TIMED_OUT.value},
        ":waiting": {"S": TokenStatus.WAITING.value},
        ":output": {"S": fields["output"]},
        ":outputType": {"S": fields["output_type"]},
        ":true": {"BOOL": True},
        ":ttl": {"N": str(expires_at)},
        ":now": {"N": str(now_ms)},
        ":audit": codecs.audit_value(audit),
    }
