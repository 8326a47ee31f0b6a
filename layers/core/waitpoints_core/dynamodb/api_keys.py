"""API key items: a key's hash → its environment, the key registry, and the set of environments."""

from __future__ import annotations

from typing import Any

from ..aws.errors import aws_errors
from ..ports import ApiKeyInfo
from . import codecs
from .table import Table


class ApiKeyItems(Table):
    # For environments this store mints; None: the table's default (ShardLayouts.set_new_environment_shards).
    default_shards: int | None = None

    def get_api_key_env(self, key_hash: str) -> str | None:
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=codecs.api_key_key(key_hash)).get("Item")
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
                            "Item": {
                                **codecs.api_key_key(key_hash),
                                "env": {"S": env},
                                "createdAt": {"N": str(now_ms)},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": codecs.registry_item(ApiKeyInfo(key_id, env, hint, now_ms), key_hash),
                        }
                    },
                    {"Update": self._record_environment(env)},
                ]
            )

    def _record_environment(self, env: str) -> dict[str, Any]:
        """Add `env` to the set the sweep visits. A new environment starts with `default_shards` or the table's
        default; one that exists keeps its layout (one recorded before sharding has none: 1 shard, its tokens' keys
        unchanged)."""
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=codecs.ENVS_KEY, ConsistentRead=True).get("Item")
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": codecs.ENVS_KEY,
            "UpdateExpression": "ADD #names :env",
            "ExpressionAttributeNames": {"#names": "names"},
            "ExpressionAttributeValues": {":env": {"SS": [env]}},
        }
        if env in codecs.item_to_shard_layouts(item):
            return update
        update["UpdateExpression"] += " SET #write = :shards, #read = :shards"
        update["ConditionExpression"] = "attribute_not_exists(#names) OR NOT contains(#names, :name)"
        update["ExpressionAttributeNames"].update(codecs.shard_layout_names(env))
        shards = self.default_shards or codecs.item_to_new_environment_shards(item)
        update["ExpressionAttributeValues"].update({":name": {"S": env}, ":shards": {"N": str(shards)}})
        return update

    def api_keys(self) -> list[ApiKeyInfo]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": codecs.KEYS_PK}}
        )
        return [codecs.item_to_key_info(item) for item in items]

    def revoke_api_key(self, key_id: str) -> ApiKeyInfo | None:
        """Delete a key (by its id) and its registry entry; None if there is no such key."""
        for info in self.api_keys():
            if info.key_id == key_id:
                registry = codecs.registry_key(info.env, key_id)
                with aws_errors():
                    key_hash = self._ddb.get_item(TableName=self._table, Key=registry)["Item"]["keyHash"]["S"]
                    self._ddb.transact_write_items(
                        TransactItems=[
                            {"Delete": {"TableName": self._table, "Key": codecs.api_key_key(key_hash)}},
                            {"Delete": {"TableName": self._table, "Key": registry}},
                        ]
                    )
                return info
        return None

    def environments(self) -> list[str]:
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=codecs.ENVS_KEY, ConsistentRead=True).get("Item")
        return sorted(item["names"]["SS"]) if item else []
