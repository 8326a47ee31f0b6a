"""waitpoints_http.resolver.describe_validation_error: pydantic's error lists (as Powertools reports them,
located under `body`) → one sentence naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from waitpoints_http.resolver import describe_validation_error


def error(kind: str, loc: tuple[Any, ...], msg: str) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": None}


def test_no_errors_is_a_generic_message() -> None:
    assert describe_validation_error([]) == "Invalid request"


def test_invalid_json() -> None:
    assert describe_validation_error([error("json_invalid", ("body", 1), "JSON decode error")]) == (
        "Request body is not valid JSON"
    )


def test_body_that_is_not_an_object() -> None:
    errors = [error("model_attributes_type", ("body",), "Input should be a valid dictionary or object")]
    assert describe_validation_error(errors) == "Request body must be a JSON object"


def test_unknown_field_is_named() -> None:
    assert describe_validation_error([error("extra_forbidden", ("body", "foo"), "Extra inputs are not permitted")]) == (
        "foo: unknown field"
    )


def test_model_level_value_error_loses_the_value_error_prefix() -> None:
    errors = [error("value_error", ("body",), "Value error, tags must not be null; leave it out instead")]
    assert describe_validation_error(errors) == "tags must not be null; leave it out instead"


def test_union_branch_names_are_dropped_from_the_path() -> None:
    errors = [
        error("string_type", ("body", "timeout", "str"), "Input should be a valid string"),
        error("int_type", ("body", "timeout", "int"), "Input should be a valid integer"),
    ]
    assert describe_validation_error(errors) == "timeout: Input should be a valid string"


def test_the_most_specific_error_wins_and_list_indexes_are_bracketed() -> None:
    errors = [
        error("string_type", ("body", "tags", "constrained-str"), "Input should be a valid string"),
        error("string_too_short", ("body", "tags", "list[constrained-str]", 1), "String should have at least 1 character"),
    ]
    assert describe_validation_error(errors) == "tags[1]: String should have at least 1 character"


def test_too_long_string_field() -> None:
    errors = [error("string_too_long", ("body", "idempotencyKey"), "String should have at most 2048 characters")]
    assert describe_validation_error(errors) == "idempotencyKey: String should have at most 2048 characters"


def test_nested_field_path_is_dotted() -> None:
    errors = [error("string_type", ("body", "a", "b", 0, "c"), "Input should be a valid string")]
    assert describe_validation_error(errors) == "a.b[0].c: Input should be a valid string"


def test_missing_message_falls_back() -> None:
    assert describe_validation_error([{"type": "x", "loc": ("body", "f")}]) == "f: is invalid"


@pytest.mark.parametrize(
    "body",
    [{"timeout": 1.5}, {"tags": [1]}, {"tags": ["a", ""]}, {"idempotencyKey": ""}, {"bogus": True}, {"tags": None}],
)
def test_real_pydantic_errors_produce_a_sentence_naming_the_field(body: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from waitpoints_core import CreateTokenRequest

    with pytest.raises(ValidationError) as caught:
        CreateTokenRequest.model_validate(body)
    # Powertools reports body errors under a leading "body" location.
    errors = [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()]
    message = describe_validation_error(errors)
    field = next(iter(body))
    assert message.startswith(field)
    assert "constrained-str" not in message
    assert "Value error" not in message
