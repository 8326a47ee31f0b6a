"""The one table every item module reads and writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..aws.errors import aws_errors

if TYPE_CHECKING:
    from botocore.client import BaseClient


class Table:
    def __init__(self, client: BaseClient, table_name: str) -> None:
        # Typed loosely on purpose: items are built as plain dicts, which the stubs' TypedDicts would make casts.
        self._ddb: Any = client
        self._table = table_name

    def _query_all(self, **request: Any) -> list[dict[str, Any]]:
        """Every item a Query finds, page after page (for partitions that stay small: waiters, the key registry)."""
        found: list[dict[str, Any]] = []
        while True:
            with aws_errors():
                page = self._ddb.query(TableName=self._table, **request)
            found += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
