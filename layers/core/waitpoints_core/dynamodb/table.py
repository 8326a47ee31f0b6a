"""The one table every item module reads and writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.client import BaseClient


class Table:
    def __init__(self, client: BaseClient, table_name: str) -> None:
        # Typed loosely on purpose: items are built as plain dicts, which the stubs' TypedDicts would make casts.
        self._ddb: Any = client
        self._table = table_name
