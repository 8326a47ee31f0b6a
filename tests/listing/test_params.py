"""Trigger.dev's list query parameters: every valid form, and a 400 naming the parameter for every invalid one."""

from __future__ import annotations

import pytest
from waitpoints_core import InvalidInput, TokenStatus
from waitpoints_core.listing import DEFAULT_PAGE_SIZE, ListFilters
from waitpoints_http.list_query import parse_list_query

W, C, T = TokenStatus.WAITING, TokenStatus.COMPLETED, TokenStatus.TIMED_OUT


def error(params: dict[str, str]) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_list_query(params)
    return caught.value.message


def test_defaults() -> None:
    query = parse_list_query({})
    assert query.size == DEFAULT_PAGE_SIZE == 25
    assert query.filters == ListFilters() and query.after is None and query.before is None


@pytest.mark.parametrize(("text", "size"), [("1", 1), ("100", 100), ("025", 25), ("7", 7)])
def test_page_size(text: str, size: int) -> None:
    assert parse_list_query({"page[size]": text}).size == size


@pytest.mark.parametrize("text", ["0", "101", "1000", "-1", "abc", "", "1.5", " 5", "5 ", "1e1", "+5", "٣"])
def test_bad_page_size(text: str) -> None:
    assert error({"page[size]": text}).startswith("page[size]: ")


@pytest.mark.parametrize(
    ("text", "statuses"),
    [
        ("WAITING", {W}),
        ("COMPLETED", {C}),
        ("TIMED_OUT", {T}),
        ("WAITING,COMPLETED", {W, C}),
        ("TIMED_OUT,WAITING,COMPLETED", {W, C, T}),
        ("WAITING, TIMED_OUT", {W, T}),
        ("WAITING,WAITING", {W}),
    ],
)
def test_statuses(text: str, statuses: set[TokenStatus]) -> None:
    assert parse_list_query({"filter[status]": text}).filters.statuses == statuses


def test_all_three_statuses_is_no_status_filter() -> None:
    assert parse_list_query({"filter[status]": "WAITING,COMPLETED,TIMED_OUT"}).filters.status_subset == frozenset()


@pytest.mark.parametrize("text", ["waiting", "PENDING", "WAITING,", "WAITING,,COMPLETED", "COMPLETED,DONE", ","])
def test_bad_statuses(text: str) -> None:
    message = error({"filter[status]": text})
    assert message.startswith("filter[status]: invalid status values: ") and "WAITING, COMPLETED, TIMED_OUT" in message


def test_tags_are_a_comma_list_kept_as_given() -> None:
    assert parse_list_query({"filter[tags]": "a,b c,a,user:42"}).filters.tags == ("a", "b c", "user:42")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a,,b", "empty tag"),
        (",a", "empty tag"),
        ("x" * 129, "at most 128"),
        (",".join(f"t{i}" for i in range(11)), "at most 10"),
    ],
)
def test_bad_tags(text: str, problem: str) -> None:
    message = error({"filter[tags]": text})
    assert message.startswith("filter[tags]: ") and problem in message


def test_idempotency_key() -> None:
    assert parse_list_query({"filter[idempotencyKey]": "order,42"}).filters.idempotency_key == "order,42"
    assert error({"filter[idempotencyKey]": "k" * 2049}).startswith("filter[idempotencyKey]: ")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1700000000000", 1_700_000_000_000),
        ("2023-11-14T22:13:20.000Z", 1_700_000_000_000),
        ("2023-11-14T22:13:20", 1_700_000_000_000),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000_000),
        ("0", 0),
    ],
)
@pytest.mark.parametrize("name", ["from", "to"])
def test_created_bounds(name: str, text: str, ms: int) -> None:
    filters = parse_list_query({f"filter[createdAt][{name}]": text}).filters
    assert (filters.created_from if name == "from" else filters.created_to) == ms


@pytest.mark.parametrize("text", ["yesterday", "2023-13-01", "1e12", "-5", "1700000000000000000", "12:00"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_bad_created_bounds(name: str, text: str) -> None:
    assert error({f"filter[createdAt][{name}]": text}).startswith(f"filter[createdAt][{name}]: ")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1h", 3_600_000),
        ("24h", 86_400_000),
        ("7d", 604_800_000),
        ("30d", 2_592_000_000),
        ("90m", 5_400_000),
        ("1w", 604_800_000),
    ],
)
def test_period(text: str, ms: int) -> None:
    assert parse_list_query({"filter[createdAt][period]": text}).filters.period_ms == ms


@pytest.mark.parametrize("text", ["1 hour", "h", "0s", "0d", "-1h", "1y", "soon"])
def test_bad_period(text: str) -> None:
    assert error({"filter[createdAt][period]": text}).startswith("filter[createdAt][period]: ")


def test_window_takes_the_later_of_from_and_period() -> None:
    now = 10_000_000
    assert ListFilters(period_ms=1000).window(now) == (now - 1000, None)
    assert ListFilters(created_from=now - 10, period_ms=1000).window(now) == (now - 10, None)
    assert ListFilters(created_from=5, period_ms=1000, created_to=now - 500).window(now) == (now - 1000, now - 500)
    assert ListFilters().window(now) == (None, None)


@pytest.mark.parametrize(
    "name",
    [
        "filter[status]",
        "filter[tags]",
        "filter[idempotencyKey]",
        "filter[createdAt][from]",
        "filter[createdAt][to]",
        "filter[createdAt][period]",
    ],
)
def test_an_empty_filter_is_no_filter(name: str) -> None:
    # The SDK sends `filter[tags]=` for `tags: []`.
    assert parse_list_query({name: ""}).filters == ListFilters()


@pytest.mark.parametrize("name", ["page[after]", "page[before]"])
def test_an_empty_cursor_is_400(name: str) -> None:
    assert error({name: ""}).startswith(f"{name}: ")


def test_unknown_parameters_are_ignored() -> None:
    assert parse_list_query({"filter[type]": "MANUAL", "limit": "5"}) == parse_list_query({})
