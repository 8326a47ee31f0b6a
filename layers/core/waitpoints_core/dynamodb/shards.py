"""Each environment's shard counts, on the ENVS item: written when its first key is minted, raised by
`make shards` (waitpoints_admin.shards), read back and cached like the environments are (docs/scale.md)."""

from __future__ import annotations

import time

from ..aws.errors import aws_errors
from . import codecs
from .table import Table

LAYOUT_CACHE_SECONDS = 60.0  # as long as a key or the environment set is cached: `make shards` waits this out
_MISS_REREAD_SECONDS = 1.0  # an environment not in the cached item (minted since) is re-read at most this often


class ShardLayouts(Table):
    _layouts: dict[str, tuple[int, int]] | None = None
    _layouts_read_at = 0.0
    layout_cache_seconds = LAYOUT_CACHE_SECONDS

    def shard_layout(self, env: str) -> tuple[int, int]:
        """(shards new tokens are written to, shards a reader must query) for `env`; (1, 1) for an environment
        recorded before sharding or not recorded at all. One GetItem per container per cache period."""
        layouts, age = self._layouts, time.monotonic() - self._layouts_read_at
        if layouts is None or age > self.layout_cache_seconds or (env not in layouts and age > _MISS_REREAD_SECONDS):
            layouts = self.read_shard_layouts()
        return layouts.get(env, (1, 1))

    def write_shards(self, env: str) -> int:
        return self.shard_layout(env)[0]

    def read_shards(self, env: str) -> int:
        return self.shard_layout(env)[1]

    def read_shard_layouts(self) -> dict[str, tuple[int, int]]:
        """Every environment's layout, read now (consistently) and cached."""
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=codecs.ENVS_KEY, ConsistentRead=True).get("Item")
        self._layouts, self._layouts_read_at = codecs.item_to_shard_layouts(item), time.monotonic()
        return self._layouts

    def set_shard_layout(self, env: str, write: int, read: int) -> None:
        """Record `env`'s shard counts. Readers always query at least as many shards as writers write to, and
        neither count ever goes down (a token's shard is fixed at create): both conditions are in the write."""
        if not 1 <= write <= read <= codecs.MAX_SHARDS:
            raise ValueError(f"need 1 <= write ({write}) <= read ({read}) <= {codecs.MAX_SHARDS}")
        with aws_errors():
            self._ddb.update_item(
                TableName=self._table,
                Key=codecs.ENVS_KEY,
                UpdateExpression="SET #write = :write, #read = :read",
                ConditionExpression="contains(#names, :env) AND (attribute_not_exists(#write) OR #write <= :write) "
                "AND (attribute_not_exists(#read) OR #read <= :read)",
                ExpressionAttributeNames={**codecs.shard_layout_names(env), "#names": "names"},
                ExpressionAttributeValues={
                    ":write": {"N": str(write)},
                    ":read": {"N": str(read)},
                    ":env": {"S": env},
                },
            )
        self._layouts = None

    def set_new_environment_shards(self, shards: int) -> None:
        """The shards every environment minted from now on starts with, for the whole table (the local stack
        lowers it: moto serves one request at a time, and a page queries every shard)."""
        if not 1 <= shards <= codecs.MAX_SHARDS:
            raise ValueError(f"shards: 1 to {codecs.MAX_SHARDS}, not {shards}")
        with aws_errors():
            self._ddb.update_item(
                TableName=self._table,
                Key=codecs.ENVS_KEY,
                UpdateExpression="SET #new = :shards",
                ExpressionAttributeNames={"#new": codecs.NEW_ENV_SHARDS_ATTR},
                ExpressionAttributeValues={":shards": {"N": str(shards)}},
            )
