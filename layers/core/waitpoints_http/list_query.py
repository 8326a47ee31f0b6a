"""Trigger.dev's list query string (`filter[...]`, `page[...]`) → the core's ListQuery.

Any invalid value is InvalidInput naming the parameter. An empty filter value counts as absent (the official SDK
sends `filter[tags]=` for `tags: []`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from waitpoints_core import InvalidInput, ListFilters, ListQuery, TokenStatus
from waitpoints_core.durations import parse_duration, parse_instant
from waitpoints_core.listing import AFTER, BEFORE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from waitpoints_core.models import MAX_TAGS

if TYPE_CHECKING:
    from collections.abc import Mapping

_MAX_IDEMPOTENCY_KEY = 2048
_MAX_TAG_CHARS = 128
_PAGE_SIZE = re.compile(r"\A[0-9]{1,3}\Z")


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """Trigger.dev's list parameters → ListQuery; any invalid value is InvalidInput naming the parameter.

    An empty filter value counts as absent (the SDK sends `filter[tags]=` for `tags: []`).
    """
    return ListQuery(
        filters=ListFilters(
            statuses=_statuses(params.get("filter[status]") or ""),
            tags=_tags(params.get("filter[tags]") or ""),
            idempotency_key=_idempotency_key(params.get("filter[idempotencyKey]") or None),
            created_from=_instant(params, "filter[createdAt][from]"),
            created_to=_instant(params, "filter[createdAt][to]"),
            period_ms=_period(params.get("filter[createdAt][period]") or None),
        ),
        size=_page_size(params.get("page[size]")),
        after=_cursor_text(params, AFTER),
        before=_cursor_text(params, BEFORE),
    )


def _page_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE_SIZE
    if not _PAGE_SIZE.match(text) or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page[size]: must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(text)


def _cursor_text(params: Mapping[str, str], name: str) -> str | None:
    text = params.get(name)
    if text is not None and not text:
        raise InvalidInput(f"{name}: empty cursor; use the value of pagination.next or pagination.previous")
    return text


def _statuses(text: str) -> frozenset[TokenStatus]:
    if not text:
        return frozenset()
    values = [v.strip() for v in text.split(",")]
    allowed = {s.value for s in TokenStatus}
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput(
            f"filter[status]: invalid status values: {', '.join(_clip(v) or '(empty)' for v in bad)} "
            f"(allowed: {', '.join(s.value for s in TokenStatus)})"
        )
    return frozenset(TokenStatus(v) for v in values)


def _tags(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    tags = tuple(dict.fromkeys(text.split(",")))
    if any(not tag for tag in tags):
        raise InvalidInput("filter[tags]: empty tag in the list")
    if any(len(tag) > _MAX_TAG_CHARS for tag in tags):
        raise InvalidInput(f"filter[tags]: each tag is at most {_MAX_TAG_CHARS} characters")
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"filter[tags]: at most {MAX_TAGS} tags")
    return tags


def _idempotency_key(text: str | None) -> str | None:
    if text is not None and len(text) > _MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(f"filter[idempotencyKey]: at most {_MAX_IDEMPOTENCY_KEY} characters")
    return text


def _instant(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if not text:
        return None
    at = parse_instant(text)
    if at is None:
        raise InvalidInput(f"{name}: '{_clip(text)}' is neither epoch milliseconds nor an ISO 8601 date-time")
    return at


def _period(text: str | None) -> int | None:
    if text is None:
        return None
    period = parse_duration(text)
    if not period:
        raise InvalidInput(
            f"filter[createdAt][period]: '{_clip(text)}' is not a positive duration such as '1h' or '7d'"
        )
    return period


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
