"""describe_validation_error (what parse_request answers 400 with): pydantic's error lists → one sentence naming
the field, never the value."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from waitpoints_core import CreateTokenRequest, InvalidInput, describe_validation_error, parse_request


def error(kind: str, loc: tuple[Any, ...], msg: str, value: Any = None) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def test_no_errors_is_a_generic_message() -> None:
    assert describe_validation_error([]) == "Invalid request"


@pytest.mark.parametrize("kind", ["model_attributes_type", "model_type", "dict_type"])
def test_body_that_is_not_an_object(kind: str) -> None:
    assert (
        describe_validation_error([error(kind, (), "Input should be a valid dictionary")])
        == "Request body must be a JSON object"
    )


def test_unknown_field_is_named() -> None:
    assert (
        describe_validation_error([error("extra_forbidden", ("foo",), "Extra inputs are not permitted")])
        == "foo: unknown field"
    )


def test_missing_field_is_named() -> None:
    assert describe_validation_error([error("missing", ("environment",), "Field required")]) == "environment: required"


def test_model_level_value_error_loses_the_value_error_prefix() -> None:
    errors = [error("value_error", (), "Value error, tags must not be null; leave it out instead")]
    assert describe_validation_error(errors) == "tags must not be null; leave it out instead"


def test_union_branch_names_are_dropped_from_the_path() -> None:
    errors = [
        error("string_type", ("timeout", "str"), "Input should be a valid string"),
        error("int_type", ("timeout", "int"), "Input should be a valid integer"),
    ]
    assert describe_validation_error(errors) == "timeout: Input should be a valid string"


def test_the_most_specific_error_wins_and_list_indexes_are_bracketed() -> None:
    errors = [
        error("string_type", ("tags", "constrained-str"), "Input should be a valid string"),
        error("string_too_short", ("tags", "list[constrained-str]", 1), "String should have at least 1 character"),
    ]
    assert describe_validation_error(errors) == "tags[1]: String should have at least 1 character"


def test_too_long_string_field() -> None:
    errors = [error("string_too_long", ("idempotencyKey",), "String should have at most 2048 characters")]
    assert describe_validation_error(errors) == "idempotencyKey: String should have at most 2048 characters"


def test_nested_field_path_is_dotted() -> None:
    assert describe_validation_error([error("string_type", ("a", "b", 0, "c"), "Input should be a valid string")]) == (
        "a.b[0].c: Input should be a valid string"
    )


def test_missing_message_falls_back() -> None:
    assert describe_validation_error([{"type": "x", "loc": ("f",)}]) == "f: is invalid"


def test_the_input_value_is_never_echoed() -> None:
    secret = "wp_dev_" + "s" * 43
    message = describe_validation_error(
        [error("string_too_long", ("idempotencyKey",), "String should have at most 2048 characters", secret)]
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
    assert describe_validation_error(caught.value.errors()) == expected
    with pytest.raises(InvalidInput) as invalid:
        parse_request(CreateTokenRequest, body)
    assert invalid.value.message == expected
