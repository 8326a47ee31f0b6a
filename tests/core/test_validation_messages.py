"""describe_validation_error (used by waitpoints_http.resolver for 400 answers): pydantic's error lists →
one sentence naming the field. Powertools reports body errors under a leading "body" location, which the
resolver skips (skip=1)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from waitpoints_core import CreateTokenRequest, describe_validation_error
from waitpoints_http import resolver


def error(kind: str, loc: tuple[Any, ...], msg: str, value: Any = None) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def describe_body(errors: list[dict[str, Any]]) -> str:
    """As the resolver calls it for Powertools' errors."""
    return describe_validation_error(errors, skip=1)


def test_the_resolver_uses_this_function() -> None:
    assert resolver.describe_validation_error is describe_validation_error


def test_no_errors_is_a_generic_message() -> None:
    assert describe_body([]) == "Invalid request"


def test_invalid_json() -> None:
    assert describe_body([error("json_invalid", ("body", 1), "JSON decode error")]) == "Request body is not valid JSON"


@pytest.mark.parametrize("kind", ["model_attributes_type", "model_type", "dict_type"])
def test_body_that_is_not_an_object(kind: str) -> None:
    assert (
        describe_body([error(kind, ("body",), "Input should be a valid dictionary")])
        == "Request body must be a JSON object"
    )


def test_unknown_field_is_named() -> None:
    assert (
        describe_body([error("extra_forbidden", ("body", "foo"), "Extra inputs are not permitted")])
        == "foo: unknown field"
    )


def test_missing_field_is_named() -> None:
    assert describe_body([error("missing", ("body", "environment"), "Field required")]) == "environment: required"


def test_model_level_value_error_loses_the_value_error_prefix() -> None:
    errors = [error("value_error", ("body",), "Value error, tags must not be null; leave it out instead")]
    assert describe_body(errors) == "tags must not be null; leave it out instead"


def test_union_branch_names_are_dropped_from_the_path() -> None:
    errors = [
        error("string_type", ("body", "timeout", "str"), "Input should be a valid string"),
        error("int_type", ("body", "timeout", "int"), "Input should be a valid integer"),
    ]
    assert describe_body(errors) == "timeout: Input should be a valid string"


def test_the_most_specific_error_wins_and_list_indexes_are_bracketed() -> None:
    errors = [
        error("string_type", ("body", "tags", "constrained-str"), "Input should be a valid string"),
        error(
            "string_too_short", ("body", "tags", "list[constrained-str]", 1), "String should have at least 1 character"
        ),
    ]
    assert describe_body(errors) == "tags[1]: String should have at least 1 character"


def test_too_long_string_field() -> None:
    errors = [error("string_too_long", ("body", "idempotencyKey"), "String should have at most 2048 characters")]
    assert describe_body(errors) == "idempotencyKey: String should have at most 2048 characters"


def test_nested_field_path_is_dotted() -> None:
    assert describe_body([error("string_type", ("body", "a", "b", 0, "c"), "Input should be a valid string")]) == (
        "a.b[0].c: Input should be a valid string"
    )


def test_without_skip_the_whole_location_is_named() -> None:
    assert describe_validation_error([error("extra_forbidden", ("foo",), "Extra inputs are not permitted")]) == (
        "foo: unknown field"
    )


def test_missing_message_falls_back() -> None:
    assert describe_body([{"type": "x", "loc": ("body", "f")}]) == "f: is invalid"


def test_the_input_value_is_never_echoed() -> None:
    secret = "wp_dev_" + "s" * 43
    message = describe_body(
        [error("string_too_long", ("body", "idempotencyKey"), "String should have at most 2048 characters", secret)]
    )
    assert secret not in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"timeout": 1.5}, "timeout: Input should be a valid string"),
        ({"tags": [1]}, "tags[0]: Input should be a valid string"),
        ({"tags": ["a", ""]}, "tags[1]: String should have at least 1 character"),
        ({"idempotencyKey": ""}, "idempotencyKey: String should have at least 1 character"),
        ({"bogus": True}, "bogus: unknown field"),
        ({"tags": None}, "tags must not be null; leave it out instead"),
    ],
)
def test_real_pydantic_errors(body: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CreateTokenRequest.model_validate(body)
    as_powertools_reports_them = [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()]
    assert describe_body(as_powertools_reports_them) == expected
    assert describe_validation_error(caught.value.errors()) == expected
