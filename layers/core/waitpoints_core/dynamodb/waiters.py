"""Waiter items: the workflows waiting on a token, in the token's partition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..aws.errors import aws_errors, error_code, response_of
from ..errors import Unavailable
from ..models import TokenStatus
from ..ports import Attachment, Waiter
from . import codecs
from .table import Table

if TYPE_CHECKING:
    from ..models import Waitpoint

_WAITER_TTL_SECONDS = 400 * 86_400  # a safety net: waiters are deleted once their workflow is resumed


class WaiterItems(Table):
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
        condition = codecs.STILL_WAITING
        if env is not None:
            condition += " AND env = :env"
            values[":env"] = {"S": env}
        waiter = codecs.waiter_item(Waiter(token_id, task_token), now_ms, now_ms // 1000 + _WAITER_TTL_SECONDS)
        try:
            with aws_errors():
                self._ddb.transact_write_items(
                    TransactItems=[
                        {
                            "ConditionCheck": {
                                "TableName": self._table,
                                "Key": codecs.token_key(token_id),
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
            reasons = response_of(exc).get("CancellationReasons", [])
            if error_code(exc) != "TransactionCanceledException" or not reasons:
                raise
            if reasons[0].get("Code") != "ConditionalCheckFailed":
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
        return [codecs.item_to_waiter(item) for item in items]

    def delete_waiter(self, waiter: Waiter) -> None:
        with aws_errors():
            self._ddb.delete_item(TableName=self._table, Key=codecs.waiter_key(waiter.token_id, waiter.task_token))
