"""Completion schemas (issue 15): checked once at create, validated on every completion.

Whatever the schema (small, hypothesis-generated) and whatever the JSON data, `validate` returns or raises
SchemaMismatch naming a JSONPath that exists in the data and a schema keyword: never another exception."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from waitpoints_core import schemas
from waitpoints_core.errors import InvalidInput, SchemaMismatch
from waitpoints_core.schemas import MAX_SCHEMA_BYTES, check_schema, json_path, json_pointer, validate

CORE = Path(__file__).resolve().parents[2] / "layers" / "core"
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FINITE = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | st.integers() | FINITE | st.text(max_size=6)
KEYS = st.sampled_from(["a", "b", "odd key", "~/"]) | st.text(max_size=4)
JSON = st.recursive(
    SCALARS | st.sampled_from([10**400, -(10**30), 1e308, 5e-324]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=16,
)
TYPES = st.sampled_from(["null", "boolean", "integer", "number", "string", "array", "object"])
NAMES = st.sampled_from(["a", "b", "odd key", "~/", "é"])


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        TYPES.map(lambda t: {"type": t}),
        st.lists(TYPES, min_size=1, max_size=3, unique=True).map(lambda ts: {"type": ts}),
        st.integers(-5, 5).map(lambda n: {"minimum": n}),
        st.integers(-5, 5).map(lambda n: {"exclusiveMaximum": n}),
        st.sampled_from([0.5, 2, 3, 1e-9]).map(lambda n: {"multipleOf": n}),
        st.integers(0, 4).map(lambda n: {"minLength": n}),
        st.integers(0, 4).map(lambda n: {"maxLength": n}),
        st.sampled_from(["^a", "b$", "^[0-9]+$", "x*"]).map(lambda p: {"pattern": p}),
        st.lists(SCALARS, min_size=1, max_size=3).map(lambda v: {"enum": v}),
        SCALARS.map(lambda v: {"const": v}),
        st.sampled_from(["email", "date-time", "textarea"]).map(lambda f: {"type": "string", "format": f}),
        st.just({"$ref": "#/$defs/positive"}),
        st.booleans(),
    )


SCHEMAS = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.builds(
            lambda props, req, extra: {
                "type": "object",
                "properties": props,
                "required": req,
                **({"additionalProperties": extra} if extra is not None else {}),
            },
            st.dictionaries(NAMES, inner, max_size=3),
            st.lists(NAMES, max_size=2, unique=True),
            st.none() | st.booleans() | inner,
        ),
        st.builds(lambda items, n: {"type": "array", "items": items, "maxItems": n}, inner, st.integers(0, 3)),
        st.lists(inner, min_size=1, max_size=3).map(lambda s: {"anyOf": s}),
        st.lists(inner, min_size=1, max_size=3).map(lambda s: {"oneOf": s}),
        inner.map(lambda s: {"not": s}),
        st.builds(lambda a, b: {"allOf": [a, b]}, inner, inner),
    ),
    max_leaves=8,
).map(lambda s: s if isinstance(s, dict) else {"allOf": [s]})


def _with_defs(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "$defs": {"positive": {"type": "number", "exclusiveMinimum": 0}}}


def _follow(data: object, pointer: str) -> None:
    """Asserts the JSON Pointer of an error names a place in the data (or the property a `required` misses)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = data
    for index, part in enumerate(parts):
        if isinstance(node, list):
            node = node[int(part)]
        else:
            assert isinstance(node, dict), (data, pointer)
            if part not in node:
                assert index == len(parts) - 1, (data, pointer)  # only the missing required property itself
                return
            node = node[part]


@FAST
@given(SCHEMAS, JSON)
@example({"type": "number", "multipleOf": 0.5}, 10**400)
@example({"type": "number", "multipleOf": 1e-9}, 1e308)
@example({"type": "integer", "maximum": 1.5}, 10**400)
@example({"$ref": "#/$defs/positive"}, -1)
def test_every_mismatch_is_a_schema_mismatch_naming_a_path_in_the_data(schema: dict[str, Any], data: object) -> None:
    from jsonschema import Draft202012Validator

    schema = _with_defs(schema)
    text = check_schema(schema)
    try:
        validate(text, data)
    except SchemaMismatch as mismatch:
        assert mismatch.path.startswith("$") and mismatch.rule
        assert mismatch.message.startswith(mismatch.path + ": ")
        assert 1 <= len(mismatch.errors) <= schemas.MAX_REPORTED_ERRORS
        assert mismatch.errors[0]["path"] == mismatch.path and mismatch.errors[0]["rule"] == mismatch.rule
        for error in mismatch.errors:
            assert error["rule"] and len(error["message"]) <= schemas.MAX_MESSAGE_CHARS
            if error["rule"] not in ("depth", "number"):
                _follow(data, error["pointer"])
        verdict = False
    else:
        verdict = True
    try:
        expected = Draft202012Validator(json.loads(text)).is_valid(data)
    except (ArithmeticError, ValueError):
        return  # jsonschema itself cannot decide (an int too large for a float): we said 422, not 500
    assert verdict is expected


def test_validate_names_the_path_and_rule() -> None:
    schema = check_schema(
        {
            "type": "object",
            "properties": {
                "amount": {"type": "integer", "minimum": 1},
                "items": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["amount"],
        }
    )
    with pytest.raises(SchemaMismatch) as caught:
        validate(schema, {"amount": 0})
    assert (caught.value.path, caught.value.rule) == ("$.amount", "minimum")
    assert caught.value.message == "$.amount: minimum: 0 is less than the minimum of 1"
    with pytest.raises(SchemaMismatch) as caught:
        validate(schema, {"amount": 2, "items": ["a", 3]})
    assert (caught.value.path, caught.value.rule) == ("$.items[1]", "type")
    assert caught.value.errors[0]["pointer"] == "/items/1"
    with pytest.raises(SchemaMismatch) as caught:
        validate(schema, {})
    assert (caught.value.path, caught.value.rule) == ("$.amount", "required")
    validate(schema, {"amount": 1, "items": []})
    validate(None, object())  # no schema: anything goes


def test_paths_stay_unambiguous_for_odd_property_names() -> None:
    assert json_path([]) == "$"
    assert json_path(["a", 0, "odd key", 'q"', "a.b"]) == '$.a[0]["odd key"]["q\\""]["a.b"]'
    assert json_pointer(["a/b", "c~d", 2]) == "/a~1b/c~0d/2"


def test_format_is_an_annotation_and_textarea_a_hint() -> None:
    validate(check_schema({"type": "string", "format": "email"}), "not an e-mail")
    validate(check_schema({"type": "string", "format": "textarea"}), "line 1\nline 2")


def test_canonical_text_is_compact_and_keeps_the_creators_order() -> None:
    text = check_schema({"properties": {"z": {"type": "string"}, "a": {"type": "number"}}, "type": "object"})
    assert text == '{"properties":{"z":{"type":"string"},"a":{"type":"number"}},"type":"object"}'
    assert check_schema(json.loads(text)) == text


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ([], "JSON object"),
        (True, "JSON object"),
        ({"type": "strin"}, "$.type"),
        ({"properties": {"a": {"minimum": "1"}}}, "$.properties.a.minimum"),
        ({"pattern": "("}, "regex"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "draft 2020-12"),
        ({"$ref": "https://example.com/schema.json"}, "remote"),
        ({"$ref": "https://json-schema.org/draft/2020-12/schema"}, "remote"),
        ({"$ref": "file:///etc/passwd"}, "remote"),
        ({"$ref": "other.json"}, "remote"),
        ({"$ref": "#/$defs/missing"}, "does not point inside"),
        ({"$id": "https://example.com/a", "properties": {"x": {"$ref": "b.json"}}}, "remote"),
        ({"$dynamicRef": "#nowhere"}, "does not point inside"),
        ({"description": "x" * MAX_SCHEMA_BYTES}, "limit is 16384 bytes"),
        ({"enum": [float("inf")]}, "not JSON"),
    ],
)
def test_invalid_schemas_are_invalid_input_naming_the_problem(schema: object, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_schema(schema)
    assert words in caught.value.message


def test_deep_schemas_are_refused_before_anything_recurses() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(schemas.MAX_SCHEMA_DEPTH):
        schema = {"not": schema}
    with pytest.raises(InvalidInput, match="nested more than"):
        check_schema(schema)


def test_local_references_resolve() -> None:
    text = check_schema(
        {
            "$id": "https://example.com/root.json",
            "$defs": {"item": {"$id": "item.json", "type": "string"}, "n": {"$anchor": "num", "type": "number"}},
            "properties": {"a": {"$ref": "item.json"}, "b": {"$ref": "#num"}, "c": {"$ref": "#/$defs/n"}},
        }
    )
    validate(text, {"a": "x", "b": 1, "c": 2})
    with pytest.raises(SchemaMismatch) as caught:
        validate(text, {"a": 1})
    assert caught.value.path == "$.a"


def test_nothing_is_ever_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a schema reference was fetched")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(InvalidInput):
        check_schema({"$ref": "http://127.0.0.1:1/x.json"})


def test_deeply_nested_data_under_a_recursive_schema_is_a_mismatch() -> None:
    text = check_schema({"$defs": {"t": {"type": "array", "items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"})
    data: list[Any] = []
    for _ in range(5000):
        data = [data]
    try:
        validate(text, data)
    except SchemaMismatch as mismatch:
        assert mismatch.rule == "depth"


def test_the_validator_loads_only_for_tokens_with_a_schema() -> None:
    script = (
        "import sys\n"
        "from waitpoints_core import schemas\n"
        "schemas.validate(None, {'a': 1})\n"
        "early = [m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'referencing', 'rpds')]\n"
        "assert not early, early\n"
        "schemas.validate(schemas.check_schema({'type': 'object'}), {})\n"
        "assert 'jsonschema' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, env={"PYTHONPATH": str(CORE)})
