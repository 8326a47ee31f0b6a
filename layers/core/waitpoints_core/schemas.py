"""Completion schemas (issue 15): a JSON Schema (draft 2020-12) for the data a completion may carry.

`check_schema(schema)` runs once, at create: it refuses a schema that is not a JSON object, is over
`MAX_SCHEMA_BYTES` of compact JSON or nested deeper than `MAX_SCHEMA_DEPTH`, names another draft in `$schema`, is
invalid against the 2020-12 meta-schema (an invalid `pattern` regex included), or has a `$ref` / `$dynamicRef`
that does not resolve inside the schema itself (nothing is ever fetched: no remote, no meta-schema, no file
reference). It returns the canonical text to store: compact JSON, the creator's key order kept (the approval
page lays its fields out in `properties` order).

`validate(schema, data)` raises `SchemaMismatch` naming the JSONPath and the keyword of the most relevant failure
(and lists up to `MAX_REPORTED_ERRORS` of them); it never raises anything else for any JSON data. `format` is an
annotation, as the 2020-12 default says (it is never asserted: which formats a validator can check depends on
optional libraries, and a token must validate the same everywhere).

The validator (`jsonschema`, with `referencing` and `rpds-py`) is imported on first use: tokens without a schema
never load it. Compiled validators are cached per canonical schema text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput, SchemaMismatch

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_SCHEMA_BYTES = 16 * 1024  # of compact UTF-8 JSON
MAX_SCHEMA_DEPTH = 32  # nested objects/arrays in the schema document
MAX_REPORTED_ERRORS = 20
MAX_MESSAGE_CHARS = 300
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_schema(schema: object) -> str:
    """The canonical JSON text of a valid completion schema; `InvalidInput` naming the problem otherwise."""
    if not isinstance(schema, Mapping):
        raise InvalidInput("schema must be a JSON object (a JSON Schema, draft 2020-12)")
    _check_depth(schema)
    try:
        text = json.dumps(schema, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"schema is not JSON: {exc}") from None
    size = len(text.encode("utf-8"))
    if size > MAX_SCHEMA_BYTES:
        raise InvalidInput(f"schema is {size} bytes of JSON; the limit is {MAX_SCHEMA_BYTES} bytes")
    declared = schema.get("$schema", DRAFT_2020_12)
    if not isinstance(declared, str) or declared.rstrip("#") != DRAFT_2020_12:
        raise InvalidInput(f"schema must be JSON Schema draft 2020-12: $schema must be absent or {DRAFT_2020_12}")
    _compiled(text)
    return text


def validate(schema: Mapping[str, Any] | str | None, data: object) -> None:
    """Raises `SchemaMismatch` unless `data` matches `schema` (a checked schema or its canonical text).

    `None` (no schema) accepts everything without loading the validator."""
    if schema is None:
        return
    text = schema if isinstance(schema, str) else check_schema(schema)
    validator = _compiled(text)
    try:
        errors = list(islice(validator.iter_errors(data), MAX_REPORTED_ERRORS))
    except RecursionError:
        raise SchemaMismatch(
            "$: depth: the data is nested too deeply to check against the schema", path="$", rule="depth"
        ) from None
    except (ArithmeticError, ValueError, TypeError) as exc:  # e.g. an integer too large for a float comparison
        detail = _clip(f"$: number: the data cannot be checked against the schema ({type(exc).__name__})")
        raise SchemaMismatch(detail, path="$", rule="number") from None
    if not errors:
        return
    from jsonschema.exceptions import relevance

    errors.sort(key=relevance, reverse=True)  # most relevant first, as jsonschema's best_match ranks them
    reported = tuple(_describe(error) for error in errors)
    first = reported[0]
    raise SchemaMismatch(first["message"], path=first["path"], rule=first["rule"], errors=reported)


def json_path(parts: Iterable[str | int]) -> str:
    """`$`, `$.amount`, `$.items[2]`, `$["odd key"]`: a JSONPath that stays unambiguous for any property name."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def json_pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901: `""`, `/amount`, `/items/2`, `/a~1b`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# --- internals --------------------------------------------------------------------------------------------


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _describe(error: Any) -> dict[str, str]:
    parts = list(error.absolute_path)
    rule = str(error.validator)
    if rule == "required" and isinstance(error.instance, Mapping) and isinstance(error.validator_value, list):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:  # name the missing property itself: `$.email: required`
            parts.append(missing[0])
    path = json_path(parts)
    return {
        "path": path,
        "pointer": json_pointer(parts),
        "rule": rule,
        "message": _clip(f"{path}: {rule}: {error.message}"),
    }


def _check_depth(schema: object) -> None:
    stack: list[tuple[object, int]] = [(schema, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_SCHEMA_DEPTH:
            raise InvalidInput(f"schema is nested more than {MAX_SCHEMA_DEPTH} levels deep")
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((child, depth + 1) for child in node)


@lru_cache(maxsize=128)
def _compiled(text: str) -> Any:
    """A validator for a schema's canonical text; `InvalidInput` for an invalid schema or an unresolvable $ref."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    schema = json.loads(text)
    try:
        Draft202012Validator.check_schema(schema)  # the meta-schema, and every `pattern` must compile
    except SchemaError as error:
        where = json_path(error.absolute_path)
        raise InvalidInput(_clip(f"schema is invalid at {where}: {error.message}")) from None
    # An empty registry: the default retrieve fails, so a reference can only ever resolve inside this document.
    registry: Any = Registry()
    resource = DRAFT202012.create_resource(schema)
    _check_references(schema, registry.resolver_with_root(resource), DRAFT202012)
    return Draft202012Validator(schema, registry=registry)


def _check_references(contents: object, resolver: Any, spec: Any) -> None:
    from referencing.exceptions import Unresolvable

    stack: list[tuple[object, Any]] = [(contents, resolver)]
    while stack:
        node, current = stack.pop()
        if not isinstance(node, Mapping):
            continue
        for keyword in ("$ref", "$dynamicRef"):
            ref = node.get(keyword)
            if isinstance(ref, str):
                try:
                    current.lookup(ref)
                except Unresolvable:
                    where = f"schema {keyword} {ref!r}"
                    message = f"{where} does not point inside the schema (remote refs are refused)"
                    raise InvalidInput(_clip(message)) from None
        for sub in spec.subresources_of(node):
            stack.append((sub, current.in_subresource(spec.create_resource(sub))))
