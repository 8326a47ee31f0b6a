"""Tag items: a copy of a tagged token's list fields in the tag's partition, brought up to date when it ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ..aws.errors import aws_errors, error_code
from ..listing import list_sort_key
from ..models import TokenStatus
from . import codecs
from .table import Table

if TYPE_CHECKING:
    from ..models import Waitpoint


class TagItems(Table):
    def sync_tag_items(self, token: Waitpoint) -> int:
        """Copy a final token's status into its tag items; returns how many changed.

        Idempotent: each write is conditional on the tag item existing and still WAITING, so a replayed stream
        record, or a tag item that was never written, changes nothing.
        """
        if token.status is TokenStatus.WAITING:
            return 0
        list_sk = list_sort_key(token.created_at, token.id)
        values = {
            ":status": {"S": token.status.value},
            ":completedAt": {"N": str(token.completed_at if token.completed_at is not None else token.timeout_at)},
            ":isError": {"BOOL": token.output_is_error},
            ":ttl": {"N": str(token.expires_at)},
            ":waiting": {"S": TokenStatus.WAITING.value},
        }
        changed = 0
        for tag in dict.fromkeys(token.tags):
            try:
                with aws_errors():
                    self._ddb.update_item(
                        TableName=self._table,
                        Key=codecs.tag_key(token.env, tag, list_sk, token.shard),
                        UpdateExpression="SET #status = :status, completedAt = :completedAt, "
                        "outputIsError = :isError, #ttl = :ttl",
                        ConditionExpression="attribute_exists(pk) AND #status = :waiting",
                        ExpressionAttributeNames={"#status": "status", "#ttl": "ttl"},
                        ExpressionAttributeValues=values,
                    )
                changed += 1
            except ClientError as exc:
                if error_code(exc) != codecs.CONDITION_FAILED:
                    raise
        return changed
