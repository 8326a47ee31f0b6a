"""Hypothesis: arbitrary JSON data against small completion schemas, through the API handler on moto. Every
answer is 200 (the data matches: the token completes with it) or 422 naming a JSONPath that exists in the data
and the rule that failed (the token keeps waiting); never a 500, never anything else (issue 15)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from .support import body_of, with_auth, with_id, with_json

if TYPE_CHECKING:
    from .conftest import Invoke

SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {"amount": {"type": "integer", "minimum": 1, "maximum": 500}},
        "required": ["amount"],
    },
    {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 3},
    {"enum": ["yes", "no", 1, None]},
    {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}}},
        "additionalProperties": {"type": "number"},
    },
    {"anyOf": [{"type": "string", "minLength": 2}, {"type": "boolean"}]},
]
scalars = (
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False, width=32)
)
keys = st.sampled_from(["amount", "tags", "x", "odd key", ""]) | st.text(max_size=4)
json_values = st.recursive(
    scalars | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def _exists(data: Any, path: str) -> bool:
    """Whether a `$`, `$.a`, `$[0]`, `$["odd key"]` path reaches into `data` (a required property may be absent:
    then its parent must exist)."""
    import re

    node = data
    for name, index, quoted in re.findall(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]', path[1:]):
        key: Any = int(index) if index else (json.loads(quoted) if quoted else name)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return isinstance(node, dict)  # the missing property of `required`
    return True


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_every_mismatch_is_a_422_naming_the_path_never_a_500(
    api: Invoke, create: Any, secret_key: str, load_event: Any, schema: dict[str, Any]
) -> None:
    validator = Draft202012Validator(schema)

    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=json_values)
    def run(data: Any) -> None:
        token = create({"schema": schema, "timeout": "1h"})
        event = with_json(with_id(with_auth(load_event("api_complete_token"), secret_key), token["id"]), {"data": data})
        response = api(event)
        if validator.is_valid(data):
            assert response["statusCode"] == 200, response
            return
        assert response["statusCode"] == 422, (data, response)
        error = body_of(response)
        assert error["path"].startswith("$") and error["rule"] and error["error"].startswith(error["path"])
        assert _exists(data, error["path"]), (data, error)
        assert all(e["path"].startswith("$") for e in error["errors"])
        read = api(with_id(with_auth(load_event("api_retrieve_token"), secret_key), token["id"]))
        assert body_of(read)["status"] == "WAITING"

    run()
