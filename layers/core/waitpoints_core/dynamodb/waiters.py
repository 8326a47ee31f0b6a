"""Waiter items: the workflows waiting on a token, in the token's partition, keyed by their handle's digest (so
one handle is one waiter, whatever its kind: a Step Functions task token or a durable callback id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..aws.errors import aws_errors, error_code, response_of
from ..errors import Unavailable
from ..models import TokenStatus
from ..ports import Attachment, Waiter, WaiterKind, WaiterListing
from . import codecs
from .table import Table

if TYPE_CHECKING:
    from ..models import Waitpoint

_WAITER_TTL_SECONDS = 400 * 86_400  # a safety net: waiters are deleted once their workflow is resumed


class WaiterItems(Table):
    def attach_waiter(
        self,
        token_id: str,
        env: str | None,
        task_token: str,
        now_ms: int,
        kind: WaiterKind = WaiterKind.STEP_FUNCTIONS,
    ) -> tuple[Attachment, Waitpoint | None]:
        """Record a handle (`task_token`: a task token or a callback id, by `kind`) as waiting, atomically with
        a check that the token still waits.

        The check and the write form one transaction, so a completion is ordered either before it (FINAL:
        the caller resumes the execution itself, with the token returned) or after it (the completion's
        stream record finds this waiter). Nothing in between can leave an execution waiting forever. The
        check is an update that flags the token (codecs.HAS_WAITERS), so the write that ends it knows to
        resume this waiter inline.
        The write is conditional on the handle being new: attaching it again (the durable SDK re-runs a
        submitter that did not checkpoint) is ALREADY_ATTACHED, and the caller resumes nothing, whether the
        waiter still waits for the stream or was resumed (a durable waiter's item stays, marked resumed).
        """
        names = {"#status": "status", "#ttl": "ttl", "#hasWaiters": codecs.HAS_WAITERS}
        values: dict[str, Any] = {
            ":true": {"BOOL": True},
            ":waiting": {"S": TokenStatus.WAITING.value},
            ":now": {"N": str(now_ms)},
            ":nowSec": {"N": str(now_ms // 1000)},
        }
        condition = codecs.STILL_WAITING
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        waiter = codecs.waiter_item(Waiter(token_id, task_token, kind), now_ms, now_ms // 1000 + _WAITER_TTL_SECONDS)
        try:
            with aws_errors():
                self._ddb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": self._table,
                                "Key": codecs.token_key(token_id),
                                "UpdateExpression": "SET #hasWaiters = :true",
                                "ConditionExpression": condition,
                                "ExpressionAttributeNames": names,
                                "ExpressionAttributeValues": values,
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            }
                        },
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": waiter,
                                "ConditionExpression": "attribute_not_exists(sk)",
                            }
                        },
                    ]
                )
        except ClientError as exc:
            reasons = response_of(exc).get("CancellationReasons", [])
            if error_code(exc) != "TransactionCanceledException" or not reasons:
                raise
            codes = [reason.get("Code") for reason in reasons]
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return Attachment.ALREADY_ATTACHED, None
            if codes[0] != "ConditionalCheckFailed":
                raise Unavailable() from exc  # a conflicting transaction: the caller may retry
            item = reasons[0].get("Item")
            token = codecs.item_to_token(item) if item else None
            if token is None or (env is not None and token.env != env) or not token.exists_at(now_ms):
                return Attachment.NOT_FOUND, None
            return Attachment.FINAL, token
        return Attachment.ATTACHED, None

    def waiters(self, token_id: str) -> list[Waiter]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": codecs.token_key(token_id)["pk"],
                ":prefix": {"S": codecs.WAITER_PREFIX},
            },
            ConsistentRead=True,
        )
        return [codecs.item_to_waiter(item) for item in items if codecs.to_resume(item)]

    def token_with_waiters(self, token_id: str) -> tuple[Waitpoint | None, list[Waiter]]:
        """The token and its waiters still to resume, in one Query: the two share the token's partition (what
        the inline resume reads right after the write that ended the token)."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": codecs.token_key(token_id)["pk"]},
            ConsistentRead=True,
        )
        token = next((codecs.item_to_token(item) for item in items if codecs.is_token_item(item)), None)
        waiters = [item for item in items if not codecs.is_token_item(item) and codecs.to_resume(item)]
        return token, [codecs.item_to_waiter(item) for item in waiters]

    def list_waiters(self, token_id: str, limit: int) -> WaiterListing:
        """The token's waiters, resumed ones too, for retrieve: one Query page of at most `limit` + 1 items (the
        extra one says there are more), read without the handles. Oldest attach first."""
        with aws_errors():
            page = self._ddb.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": codecs.token_key(token_id)["pk"],
                    ":prefix": {"S": codecs.WAITER_PREFIX},
                },
                **codecs.WAITER_SUMMARY_PROJECTION,
                Limit=limit + 1,
                ConsistentRead=True,
            )
        items = page.get("Items", [])
        listed = map(codecs.item_to_waiter_summary, items[:limit])
        waiters = sorted(listed, key=lambda w: (w.attached_at or 0, w.digest))
        return WaiterListing(tuple(waiters), truncated=len(items) > limit)

    def delete_waiter(self, waiter: Waiter) -> None:
        with aws_errors():
            self._ddb.delete_item(TableName=self._table, Key=codecs.waiter_key(waiter.token_id, waiter.task_token))

    def mark_resumed(self, waiter: Waiter, now_ms: int) -> None:
        """Keep the waiter, marked resumed: the stream no longer lists it, and attaching its handle again is
        ALREADY_ATTACHED. Creates the item when the handle was resumed at attach time (the token was final).
        An existing item keeps its attach time (`createdAt`), which retrieve shows."""
        item = codecs.waiter_item(waiter, now_ms, now_ms // 1000 + _WAITER_TTL_SECONDS)
        fields = {k: v for k, v in item.items() if k not in ("pk", "sk")}
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": value for i, value in enumerate(fields.values())}
        actions = [
            f"#f{i} = if_not_exists(#f{i}, :f{i})" if name == codecs.WAITER_ATTACHED else f"#f{i} = :f{i}"
            for i, name in enumerate(fields)
        ]
        names["#resumed"], values[":now"] = codecs.WAITER_RESUMED, {"N": str(now_ms)}
        with aws_errors():
            self._ddb.update_item(
                TableName=self._table,
                Key=codecs.waiter_key(waiter.token_id, waiter.handle),
                UpdateExpression="SET " + ", ".join([*actions, "#resumed = :now"]),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
