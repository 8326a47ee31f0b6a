"""The due index: waiting tokens by deadline, all the timeout sweep reads."""

from __future__ import annotations

from ..aws.errors import aws_errors
from . import codecs
from .table import Table


class DueIndexQueries(Table):
    def due_tokens(self, env: str, now_ms: int, limit: int) -> list[tuple[str, int]]:
        """(token id, timeoutAt) of up to `limit` waiting tokens of `env` whose timeout has passed."""
        with aws_errors():
            page = self._ddb.query(
                TableName=self._table,
                IndexName=codecs.DUE_INDEX,
                Limit=limit,
                KeyConditionExpression="duePk = :due AND timeoutAt <= :now",
                ExpressionAttributeValues={":due": {"S": codecs.due_pk(env)}, ":now": {"N": str(now_ms)}},
            )
        return [(codecs.token_id_of(i), int(i["timeoutAt"]["N"])) for i in page.get("Items", [])]
