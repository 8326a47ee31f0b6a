"""The due index: waiting tokens by deadline, all the timeout sweep reads (one partition per shard)."""

from __future__ import annotations

from ..aws.errors import aws_errors
from . import codecs
from .shards import ShardLayouts


class DueIndexQueries(ShardLayouts):
    def due_shards(self, env: str) -> int:
        """How many due partitions `env` has: the sweep reads each (the read count, which covers every shard a
        token of `env` was ever written to)."""
        return self.read_shards(env)

    def due_tokens(self, env: str, now_ms: int, limit: int, shard: int = 0) -> list[tuple[str, int]]:
        """(token id, timeoutAt) of up to `limit` waiting tokens of `env`'s due shard `shard` whose timeout has
        passed."""
        with aws_errors():
            page = self._ddb.query(
                TableName=self._table,
                IndexName=codecs.DUE_INDEX,
                Limit=limit,
                KeyConditionExpression="duePk = :due AND timeoutAt <= :now",
                ExpressionAttributeValues={":due": {"S": codecs.due_pk(env, shard)}, ":now": {"N": str(now_ms)}},
            )
        return [(codecs.token_id_of(i), int(i["timeoutAt"]["N"])) for i in page.get("Items", [])]
