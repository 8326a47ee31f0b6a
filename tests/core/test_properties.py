"""Property tests of the core parsers: whatever the input, each returns its value or raises only its
documented error (InvalidInput, Unauthenticated, UnsupportedBody, PayloadTooLarge), never anything else."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from waitpoints_core import (
    CreateTokenRequest,
    InvalidInput,
    WaitForTokenRequest,
    WorkflowCreateTokenRequest,
    parse_request,
)
from waitpoints_core.bodies import output_from_callback, parse_json
from waitpoints_core.durations import parse_duration, parse_instant
from waitpoints_core.errors import PayloadTooLarge, Unauthenticated, UnsupportedBody
from waitpoints_core.ids import looks_like_api_key, new_token_id, normalize_token_id
from waitpoints_core.listing import AFTER, BEFORE, Cursor, ListFilters, decode_cursor, encode_cursor
from waitpoints_core.signing import SigningKeys
from waitpoints_http.list_query import parse_list_query
from waitpoints_http.resolver import json_object

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = SigningKeys(current="k1", masters={"k1": b"x" * 64, "k2": b"y" * 64})
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
DURATION_LIKE = st.from_regex(r"\A(\d{1,20}(w|d|hr|h|m|s)){1,4}\Z") | st.text(
    alphabet="0123456789wdhrms -+.", max_size=30
)
ISO_LIKE = st.datetimes().map(lambda d: d.isoformat()) | st.from_regex(
    r"\A[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
)


@FAST
@given(st.text() | DURATION_LIKE)
def test_parse_duration_returns_milliseconds_or_none(text: str) -> None:
    result = parse_duration(text)
    assert result is None or (isinstance(result, int) and result >= 0)


@FAST
@given(st.text() | ISO_LIKE | st.integers().map(str))
@example("0001-01-01T00:00:00+01:00")
@example("9999-12-31T23:59:59-23:59")
def test_parse_instant_returns_epoch_ms_or_none(text: str) -> None:
    result = parse_instant(text)
    assert result is None or isinstance(result, int)


@FAST
@given(st.text() | st.from_regex(r"\A(waitpoint_)?[a-z0-9]{20,30}\s?\Z"))
def test_token_ids_normalize_or_none(raw: str) -> None:
    result = normalize_token_id(raw)
    assert result is None or (result.startswith("waitpoint_") and len(result) == 35 and result[10:].isalnum())
    assert isinstance(looks_like_api_key(raw), bool)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "page[size]",
                "page[after]",
                "page[before]",
                "filter[status]",
                "filter[tags]",
                "filter[idempotencyKey]",
                "filter[createdAt][period]",
                "filter[createdAt][from]",
                "filter[createdAt][to]",
                "other",
            ]
        ),
        st.text(max_size=60) | DURATION_LIKE | ISO_LIKE,
    )
)
def test_list_parameters_parse_or_name_the_parameter(params: dict[str, str]) -> None:
    try:
        parse_list_query(params)
    except InvalidInput as error:
        assert error.message.split(":", 1)[0] in params, error.message


def _cursor(boundary: str = f"1700000000000#{'waitpoint_' + 'a' * 25}") -> str:
    return encode_cursor(Cursor(boundary, True), "dev", ListFilters(), KEYS.sign_cursor)


@FAST
@given(
    st.text(max_size=300)
    | st.builds(lambda c, i, ch: c[:i] + ch + c[i + 1 :], st.just(_cursor()), st.integers(0, 120), st.characters()),
    st.sampled_from([AFTER, BEFORE]),
)
def test_cursors_decode_or_are_invalid_input(text: str, param: str) -> None:
    try:
        cursor = decode_cursor(text, param, "dev", ListFilters(), KEYS.verify_cursor)
    except InvalidInput as error:
        assert error.message.startswith(f"{param}: ")
    else:
        assert text == _cursor() and param == AFTER and cursor.forward


def _b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@FAST
@given(
    st.text(max_size=200)
    | st.builds(lambda h, p, s: f"{_b64(h)}.{_b64(p)}.{s}", JSON, JSON, st.text(max_size=40))
    | st.builds(
        lambda p: KEYS.mint_access_token("dev", new_token_id(), int(time.time() * 1000))[:p], st.integers(0, 400)
    )
)
def test_access_tokens_verify_or_are_unauthenticated(token: str) -> None:
    try:
        env, scopes = KEYS.verify_access_token(token)
    except Unauthenticated:
        return
    assert env == "dev" and all(isinstance(s, str) for s in scopes)


@FAST
@given(
    st.binary(max_size=2000) | JSON.map(lambda v: json.dumps(v).encode()) | st.text().map(str.encode),
    st.none()
    | st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/vnd.api+json; charset=utf-8",
            "image/png",
            "",
            ";;",
        ]
    )
    | st.text(max_size=30),
)
def test_callback_bodies_become_outputs_or_documented_errors(body: bytes, content_type: str | None) -> None:
    try:
        output = output_from_callback(body, content_type)
    except (UnsupportedBody, PayloadTooLarge):
        return
    assert output.type in ("application/json", "text/plain") and isinstance(output.text, str)
    if output.type == "application/json":
        parse_json(output.text)  # what is stored as JSON is JSON


@FAST
@given(st.binary(max_size=500) | JSON.map(lambda v: json.dumps(v).encode()))
def test_request_bodies_are_json_objects_or_invalid_input(body: bytes) -> None:
    try:
        value = json_object(body)
    except InvalidInput:
        return
    assert value == (json.loads(body) if body else {}) and isinstance(value, dict)


@FAST
@given(
    JSON
    | st.dictionaries(
        st.sampled_from(
            ["timeout", "idempotencyKey", "idempotencyKeyTTL", "tags", "environment", "taskToken", "waitpointId", "x"]
        ),
        JSON,
        max_size=5,
    )
)
def test_request_models_parse_or_name_the_field(data: Any) -> None:
    for model in (CreateTokenRequest, WorkflowCreateTokenRequest, WaitForTokenRequest):
        try:
            parse_request(model, data)
        except InvalidInput as error:
            assert error.message and "Traceback" not in error.message
