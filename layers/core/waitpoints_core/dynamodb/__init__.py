"""The DynamoDB adapter: the Store port on one table. `codecs` alone knows the item formats; each other module
holds the reads and writes of one kind of item."""

from __future__ import annotations

from .api_keys import ApiKeyItems
from .due import DueIndexQueries
from .listing import ListingQueries
from .shards import ShardLayouts
from .tags import TagItems
from .tokens import TokenItems
from .waiters import WaiterItems


class DynamoDBStore(TokenItems, ApiKeyItems, WaiterItems, ListingQueries, TagItems, DueIndexQueries, ShardLayouts):
    """Every item module on one client and table: what `runtime` hands the services."""


__all__ = ["DynamoDBStore"]
