"""An in-memory stand-in for the table and its indexes, fast enough for 10^6 tokens: Put, conditional-free
Update by whole image, and the Query shapes the DynamoDB adapter sends (key condition, FilterExpression,
Limit, ScanIndexForward, ExclusiveStartKey), with DynamoDB's capacity rules. The indexes, their keys and their
projections are read from template.yaml; items come from the adapter's own codecs. Used by `bench.scale_sim` and
`bench.list_bench --memory` (moto is exact but reads a whole partition per Query, too slow at this size).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from waitpoints_local.template import Template

KB = 1024


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value, in bytes (its name is counted by the caller)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return len(str(v).lstrip("-").replace(".", "")) // 2 + 1 + 1
    if kind == "B":
        return len(v)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind in ("SS", "NS"):
        return sum(len(str(x).encode()) for x in v)
    if kind == "L":
        return 3 + sum(attribute_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(x) + 1 for k, x in v.items())
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(item: dict[str, Any] | None) -> int:
    return max(1, math.ceil(item_size(item) / KB)) if item else 0


@dataclass(frozen=True)
class Index:
    name: str | None  # None: the table itself
    pk: str
    sk: str
    sk_type: str  # "S" or "N"
    projection: frozenset[str] | None  # None: ALL


def template_indexes() -> list[Index]:
    (props,) = Template().resources_of_type("AWS::DynamoDB::Table").values()
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    found = [Index(None, "pk", "sk", "S", None)]
    for gsi in props.get("GlobalSecondaryIndexes", []):
        keys = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
        projection = gsi["Projection"]
        keep = None
        if projection["ProjectionType"] != "ALL":
            keep = frozenset(projection.get("NonKeyAttributes", [])) | {"pk", "sk", keys["HASH"], keys["RANGE"]}
        found.append(Index(gsi["IndexName"], keys["HASH"], keys["RANGE"], types[keys["RANGE"]], keep))
    return found


def _sort_value(index: Index, item: dict[str, Any]) -> Any:
    value = item[index.sk]
    return int(value["N"]) if index.sk_type == "N" else value["S"]


@dataclass
class Consumed:
    requests: int = 0
    scanned: int = 0
    returned: int = 0
    read_units: float = 0.0
    by_operation: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class MemTable:
    """The table and every index of template.yaml, in memory. `query` answers like botocore's client."""

    def __init__(self) -> None:
        self.indexes = {index.name: index for index in template_indexes()}
        # (index name, partition value) -> sorted [(sort value, table pk, table sk)], and the items by table key
        self.partitions: dict[tuple[str | None, str], list[tuple[Any, str, str]]] = defaultdict(list)
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.consumed = Consumed()

    def put(self, item: dict[str, Any]) -> None:
        key = (item["pk"]["S"], item["sk"]["S"])
        old = self.items.get(key)
        if old is not None:
            self._unindex(old)
        self.items[key] = item
        for index in self.indexes.values():
            if index.pk in item and index.sk in item:
                bisect.insort(self.partitions[(index.name, item[index.pk]["S"])], (_sort_value(index, item), *key))

    def _unindex(self, item: dict[str, Any]) -> None:
        key = (item["pk"]["S"], item["sk"]["S"])
        for index in self.indexes.values():
            if index.pk in item and index.sk in item:
                rows = self.partitions[(index.name, item[index.pk]["S"])]
                at = bisect.bisect_left(rows, (_sort_value(index, item), *key))
                if at < len(rows) and rows[at] == (_sort_value(index, item), *key):
                    del rows[at]

    # --- botocore's query, for the request shapes of dynamodb/listing.py and dynamodb/due.py -------------------

    def query(self, **request: Any) -> dict[str, Any]:
        self.consumed.requests += 1
        self.consumed.by_operation["Query"] += 1
        index = self.indexes[request.get("IndexName")]
        names = request.get("ExpressionAttributeNames", {})
        values = request.get("ExpressionAttributeValues", {})
        condition = request["KeyConditionExpression"]
        match = re.fullmatch(r"(\S+) = (:\w+)(?: AND (\S+) (BETWEEN|>=|<=) (:\w+)(?: AND (:\w+))?)?", condition)
        if not match:
            raise ValueError(condition)
        pk_name, pk_value, _, op, first, second = match.groups()
        assert names.get(pk_name, pk_name) == index.pk, (condition, index)

        def value(token: str) -> Any:
            v = values[token]
            return int(v["N"]) if "N" in v else v["S"]

        rows = self.partitions.get((index.name, value(pk_value)), [])
        lo, hi = 0, len(rows)
        if op == "BETWEEN":
            lo, hi = bisect.bisect_left(rows, (value(first),)), bisect.bisect_right(rows, (value(second), "\uffff"))
        elif op == ">=":
            lo = bisect.bisect_left(rows, (value(first),))
        elif op == "<=":
            hi = bisect.bisect_right(rows, (value(first), "\uffff"))
        forward = request.get("ScanIndexForward", True)
        start = request.get("ExclusiveStartKey")
        if start is not None:
            at = (_sort_value(index, start), start["pk"]["S"], start["sk"]["S"])
            if forward:
                lo = max(lo, bisect.bisect_right(rows, at))
            else:
                hi = min(hi, bisect.bisect_left(rows, at))
        limit = request.get("Limit")
        span = range(lo, hi) if forward else range(hi - 1, lo - 1, -1)
        chosen = list(span[:limit]) if limit is not None else list(span)
        keep = _filter(request.get("FilterExpression"), names, values)
        items, size = [], 0
        for i in chosen:
            _, pk, sk = rows[i]
            item = self.items[(pk, sk)]
            if index.projection is not None:
                item = {k: v for k, v in item.items() if k in index.projection}
            size += item_size(item)
            if keep(item):
                items.append(item)
        answer: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(chosen)}
        if limit is not None and len(chosen) == limit and chosen:
            _, pk, sk = rows[chosen[-1]]
            last = self.items[(pk, sk)]
            answer["LastEvaluatedKey"] = {k: last[k] for k in {"pk", "sk", index.pk, index.sk}}
        self.consumed.scanned += len(chosen)
        self.consumed.returned += len(items)
        self.consumed.read_units += max(0.5, math.ceil(size / (4 * KB)) * 0.5)  # eventually consistent
        return answer


def _filter(expression: str | None, names: dict[str, str], values: dict[str, Any]) -> Any:
    """A FilterExpression of the adapter's shapes (=, >, <=, AND, OR, parentheses) as a Python predicate."""
    if not expression:
        return lambda item: True
    code = expression
    for token in sorted(names, key=len, reverse=True):
        code = code.replace(token, f"_a({names[token]!r})")
    code = re.sub(r"(?<![\w'])([a-zA-Z]\w*)(?=\s*(?:=|>|<))", lambda m: f"_a({m.group(1)!r})", code)
    for token in sorted(values, key=len, reverse=True):
        v = values[token]
        literal = repr(int(v["N"])) if "N" in v else repr(v.get("S", v.get("BOOL")))
        code = code.replace(token, literal)
    code = code.replace(" AND ", " and ").replace(" OR ", " or ").replace(" = ", " == ")
    compiled = compile(code, "<filter>", "eval")

    def keep(item: dict[str, Any]) -> bool:
        def _a(name: str) -> Any:
            v = item.get(name)
            if v is None:
                return None
            return int(v["N"]) if "N" in v else v.get("S", v.get("BOOL"))

        try:
            return bool(eval(compiled, {"_a": _a}))
        except TypeError:  # a comparison with a missing attribute: DynamoDB evaluates it as false
            return False

    return keep


def _bulk_load(self: MemTable, items: list[dict[str, Any]]) -> None:
    """Many puts of new items at once: append, then sort each partition once."""
    touched = set()
    for item in items:
        key = (item["pk"]["S"], item["sk"]["S"])
        self.items[key] = item
        for index in self.indexes.values():
            if index.pk in item and index.sk in item:
                part = (index.name, item[index.pk]["S"])
                self.partitions[part].append((_sort_value(index, item), *key))
                touched.add(part)
    for part in touched:
        self.partitions[part].sort()


MemTable.bulk_load = _bulk_load  # type: ignore[attr-defined]
