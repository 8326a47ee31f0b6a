"""Completion data and callback bodies → the stored output (text and content type)."""

from __future__ import annotations

import json
import math

import pytest
from waitpoints_core.bodies import Output, check_body_size, output_from_callback, output_from_value
from waitpoints_core.errors import InvalidInput, PayloadTooLarge, UnsupportedBody

JSON = "application/json"
TEXT = "text/plain"


# --- output_from_value (the complete API's `data`) -----------------------------------------------------


def test_string_is_stored_raw_as_text_plain() -> None:
    assert output_from_value('hello "world"') == Output('hello "world"', TEXT)


def test_empty_string_is_still_a_string() -> None:
    assert output_from_value("") == Output("", TEXT)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"a": 1, "b": [True, None]}, '{"a":1,"b":[true,null]}'),
        ([1, "two", 3.5], '[1,"two",3.5]'),
        ({}, "{}"),
        ([], "[]"),
        (42, "42"),
        (-0.5, "-0.5"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
    ],
)
def test_other_json_values_are_stored_as_compact_json(value: object, text: str) -> None:
    assert output_from_value(value) == Output(text, JSON)


def test_non_ascii_is_kept_not_escaped() -> None:
    assert output_from_value({"name": "Zoë ☃"}).text == '{"name":"Zoë ☃"}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {"x": [math.nan]}])
def test_nan_and_infinity_are_invalid_input(bad: object) -> None:
    with pytest.raises(InvalidInput, match="NaN"):
        output_from_value(bad)


# --- output_from_callback (the callback URL's whole body) ----------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.api+json",
        "application/cloudevents+json; charset=UTF-8",
    ],
)
def test_json_content_types_store_the_json_text_as_received(content_type: str) -> None:
    body = b' { "status" : "ok", "n": 1.0, "big": 1e15 }\n'
    assert output_from_callback(body, content_type) == Output('{ "status" : "ok", "n": 1.0, "big": 1e15 }', JSON)


def test_json_string_body_is_stored_as_text() -> None:
    assert output_from_callback(b'"done"', "application/json") == Output("done", TEXT)


def test_invalid_json_with_json_content_type_is_kept_as_text() -> None:
    assert output_from_callback(b"{not json", "application/json") == Output("{not json", TEXT)


def test_nan_in_json_body_is_kept_as_text_not_stored_as_json() -> None:
    assert output_from_callback(b'{"x": NaN}', "application/json") == Output('{"x": NaN}', TEXT)


def test_form_fields_become_an_object_of_strings() -> None:
    out = output_from_callback(b"status=approved&by=Jane+Doe&note=a%26b", "application/x-www-form-urlencoded")
    assert out.type == JSON
    assert json.loads(out.text) == {"status": "approved", "by": "Jane Doe", "note": "a&b"}


def test_repeated_form_field_becomes_a_list() -> None:
    out = output_from_callback(b"tag=a&tag=b&one=1", "application/x-www-form-urlencoded; charset=utf-8")
    assert json.loads(out.text) == {"tag": ["a", "b"], "one": "1"}


def test_blank_form_field_is_kept() -> None:
    assert json.loads(output_from_callback(b"a=&b=2", "application/x-www-form-urlencoded").text) == {"a": "", "b": "2"}


def test_json_object_posted_as_form_is_parsed_as_json() -> None:
    """What `curl -d '{"a":1}' URL` sends: form encoding by default, with a JSON body."""
    out = output_from_callback(b'{"approved": true, "n": 2}', "application/x-www-form-urlencoded")
    assert out == Output('{"approved": true, "n": 2}', JSON)


def test_json_array_posted_as_form_is_parsed_as_json() -> None:
    assert output_from_callback(b"  [1,2]", "application/x-www-form-urlencoded") == Output("[1,2]", JSON)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain; charset=utf-8", "text/csv", "application/xml", None, ""]
)
def test_text_and_unknown_or_missing_content_types_store_a_string(content_type: str | None) -> None:
    assert output_from_callback(b'{"a":1} is not parsed here', content_type) == Output(
        '{"a":1} is not parsed here', TEXT
    )


def test_json_looking_text_without_content_type_stays_text() -> None:
    assert output_from_callback(b'{"a":1}', None) == Output('{"a":1}', TEXT)


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain", None])
def test_empty_body_is_an_empty_object(content_type: str | None) -> None:
    assert output_from_callback(b"", content_type) == Output("{}", JSON)


def test_utf8_text_is_kept_exactly() -> None:
    body = "Zoë says ☃\nline two".encode()
    assert output_from_callback(body, "text/plain") == Output("Zoë says ☃\nline two", TEXT)


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain", "application/json", None])
def test_non_utf8_body_is_unsupported(content_type: str | None) -> None:
    with pytest.raises(UnsupportedBody, match="UTF-8"):
        output_from_callback(b"\xff\xfe\x00binary", content_type)


# --- size limits ---------------------------------------------------------------------------------------


def test_body_at_the_limit_is_accepted() -> None:
    check_body_size(10 * 1024, 10 * 1024, "Request body")


def test_body_over_the_limit_names_size_and_limit() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        check_body_size(262_145, 262_144, "Callback body")
    assert caught.value.message == "Callback body is 262145 bytes; the limit is 262144 bytes (256 KiB)"


def test_create_limit_message_names_10_kib() -> None:
    with pytest.raises(PayloadTooLarge, match=r"the limit is 10240 bytes \(10 KiB\)"):
        check_body_size(10_241, 10_240, "Request body")


# --- bodies that are hard to digest (see also tests/handlers/test_hostile_bodies.py) -------------------


def test_deeply_nested_json_callback_is_kept_as_text() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert output_from_callback(deep, "application/json") == Output(deep.decode(), TEXT)


def test_integer_over_python_digit_limit_is_kept_as_text() -> None:
    assert output_from_callback(b"9" * 5_000, "application/json") == Output("9" * 5_000, TEXT)


@pytest.mark.parametrize("body", [b'{"x": 1e999}', b"1e309", b"[-1e309]", b"1" * 400 + b".5"])
def test_number_overflowing_a_double_is_refused_as_complete_refuses_it(body: bytes) -> None:
    """It used to be stored as the JSON received, which every reader parses as Infinity (issue 14, #9)."""
    with pytest.raises(InvalidInput, match="too large for a double"):
        output_from_callback(body, "application/json")
    with pytest.raises(InvalidInput, match="too large for a double"):
        output_from_value(float("inf"))


@pytest.mark.parametrize("body", [b'"\\ud800"', b'{"a": "\\udfff"}', b'{"\\ud800": 1}', b'["\\udc00\\ud800"]'])
def test_lone_surrogate_in_a_json_body_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidInput, match="surrogate"):
        output_from_callback(body, "application/json")


def test_escaped_backslash_before_u_is_not_a_surrogate() -> None:
    assert output_from_callback(b'{"a": "\\\\ud800"}', "application/json").type == JSON


def test_lone_surrogate_in_complete_data_is_refused() -> None:
    with pytest.raises(InvalidInput, match="surrogate"):
        output_from_value({"k": "\ud800"})
    with pytest.raises(InvalidInput, match="surrogate"):
        output_from_value("\udfff")
