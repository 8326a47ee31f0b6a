"""Subscription items: the WebSocket connections watching tokens and tags, in the tokens table.

    CONN#<connection id>            CONN                 an authenticated connection: env, scopes, its subscriptions
    SUB#<env>#TOKEN#<token id>      CONN#<connection id> a connection watching one token
    SUB#<env>#TAG#<sha256(tag)>     CONN#<connection id> a connection watching a tag

Every item carries `ttl` (epoch seconds): the connection's 2-hour lifetime plus slack. $disconnect deletes the
items; TTL only cleans up after a disconnect that never ran, and since DynamoDB deletes expired items late,
reads treat an item whose `ttl` has passed as absent. Subscription partitions are keyed by environment, so a
token of another environment can never be found through them. None of these items has `sk` = TOKEN, so the
stream consumer's filter never passes their stream records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..aws.errors import aws_errors, error_code
from ..subscriptions import Connection, Subscription
from .codecs import CONDITION_FAILED, item_to_token, token_key
from .table import Table

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..models import Waitpoint

_CONN_SK = "CONN"
_MEMBER_PREFIX = "CONN#"


def connection_key(connection_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CONN#{connection_id}"}, "sk": {"S": _CONN_SK}}


def token_partition(env: str, token_id: str) -> str:
    return f"SUB#{env}#TOKEN#{token_id}"


def tag_partition(env: str, tag_digest: str) -> str:
    return f"SUB#{env}#TAG#{tag_digest}"


def _partition(env: str, subscription: Subscription) -> str:
    if subscription.token_id is not None:
        return token_partition(env, subscription.token_id)
    return tag_partition(env, subscription.tag_digest)


def _member(subscription: Subscription) -> str:
    """How a subscription is listed on its connection's item (the plain tag: the item is the connection's own)."""
    return f"token:{subscription.token_id}" if subscription.token_id is not None else f"tag:{subscription.tag}"


def _from_member(text: str) -> Subscription:
    kind, _, value = text.partition(":")
    return Subscription(token_id=value) if kind == "token" else Subscription(tag=value)


class DynamoDBSubscriptions(Table):
    """The SubscriberStore port (waitpoints_core.subscriptions) on the tokens table."""

    def put_connection(self, connection: Connection) -> None:
        item: dict[str, Any] = {
            **connection_key(connection.id),
            "env": {"S": connection.env},
            "connectedAt": {"N": str(connection.connected_at)},
            "ttl": {"N": str(connection.expires_at)},
        }
        if connection.scopes is not None:
            item["scopes"] = {"L": [{"S": s} for s in connection.scopes]}
        with aws_errors():
            self._ddb.put_item(TableName=self._table, Item=item)

    def get_connection(self, connection_id: str, now_s: int) -> Connection | None:
        with aws_errors():
            item = self._ddb.get_item(
                TableName=self._table, Key=connection_key(connection_id), ConsistentRead=True
            ).get("Item")
        if not item or int(item["ttl"]["N"]) <= now_s:
            return None
        scopes = item.get("scopes")
        return Connection(
            id=connection_id,
            env=item["env"]["S"],
            scopes=tuple(s["S"] for s in scopes["L"]) if scopes else None,
            connected_at=int(item["connectedAt"]["N"]),
            expires_at=int(item["ttl"]["N"]),
            subscriptions=frozenset(_from_member(m) for m in item.get("subs", {}).get("SS", [])),
        )

    def add_subscription(self, connection: Connection, subscription: Subscription, limit: int) -> bool:
        """List the subscription on the connection (at most `limit` of them), then write its membership item.
        False when the connection is at its limit. Subscribing twice is one subscription."""
        member = _member(subscription)
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=connection_key(connection.id),
                    UpdateExpression="ADD subs :member",
                    ConditionExpression=(
                        "attribute_exists(pk) AND (attribute_not_exists(subs) OR size(subs) < :limit "
                        "OR contains(subs, :one))"
                    ),
                    ExpressionAttributeValues={
                        ":member": {"SS": [member]},
                        ":one": {"S": member},
                        ":limit": {"N": str(limit)},
                    },
                )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                raise
            return False
        with aws_errors():
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": _partition(connection.env, subscription)},
                    "sk": {"S": _MEMBER_PREFIX + connection.id},
                    "connectionId": {"S": connection.id},
                    "ttl": {"N": str(connection.expires_at)},
                },
            )
        return True

    def remove_subscription(self, connection: Connection, subscription: Subscription) -> None:
        with aws_errors():
            self._ddb.delete_item(
                TableName=self._table,
                Key={
                    "pk": {"S": _partition(connection.env, subscription)},
                    "sk": {"S": _MEMBER_PREFIX + connection.id},
                },
            )
        try:
            with aws_errors():
                self._ddb.update_item(
                    TableName=self._table,
                    Key=connection_key(connection.id),
                    UpdateExpression="DELETE subs :member",
                    ConditionExpression="attribute_exists(pk)",  # never recreate a dropped connection's item
                    ExpressionAttributeValues={":member": {"SS": [_member(subscription)]}},
                )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                raise

    def subscribers(self, env: str, token_id: str, tags: Iterable[str], now_s: int) -> list[str]:
        """The connections watching the token or any of its tags, each once, in the order found."""
        partitions = [token_partition(env, token_id)]
        partitions += [tag_partition(env, Subscription(tag=t).tag_digest) for t in tags]
        found: dict[str, None] = {}
        for partition in partitions:
            for item in self._members(partition):
                if int(item["ttl"]["N"]) > now_s:
                    found[item["connectionId"]["S"]] = None
        return list(found)

    def _members(self, partition: str) -> Iterable[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ProjectionExpression": "connectionId, #ttl",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
        }
        while True:
            with aws_errors():
                page = self._ddb.query(**request)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def drop_connection(self, connection_id: str) -> None:
        """Delete a connection's item and its subscriptions' items. Idempotent."""
        with aws_errors():
            item = self._ddb.get_item(
                TableName=self._table, Key=connection_key(connection_id), ConsistentRead=True
            ).get("Item")
        if not item:
            return
        env = item["env"]["S"]
        for member in item.get("subs", {}).get("SS", []):
            with aws_errors():
                self._ddb.delete_item(
                    TableName=self._table,
                    Key={
                        "pk": {"S": _partition(env, _from_member(member))},
                        "sk": {"S": _MEMBER_PREFIX + connection_id},
                    },
                )
        with aws_errors():
            self._ddb.delete_item(TableName=self._table, Key=connection_key(connection_id))

    def get_token(self, token_id: str) -> Waitpoint | None:
        """The token item (never its S3 output: a subscription's answer points to retrieve for that)."""
        with aws_errors():
            item = self._ddb.get_item(TableName=self._table, Key=token_key(token_id)).get("Item")
        return item_to_token(item) if item else None
