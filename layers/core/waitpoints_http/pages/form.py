"""The approval form: fields built from a token's completion schema, and a posted form typed back per schema.

The form subset of JSON Schema (checked at create by `form_fields`, refused with `InvalidInput` otherwise): the
schema is an object (`"type": "object"`, or no type) with `properties`; each property is one of
- `"type": "string"`: a one-line text box; a multi-line box with `"format": "textarea"` or a `maxLength` over 200;
- `"type": "integer"` / `"type": "number"`: a number box (`minimum`/`maximum` become its bounds);
- `"type": "boolean"`: a checkbox (absent from the post = false, so it is always in the data);
- an `enum` (or a `const`) of strings, numbers, booleans or null: radio buttons up to 4 options, a select above.
`title` is the label (the property name otherwise), `description` the help text, `default` the initial value,
`required` (at the top level) marks the fields. Every other keyword is enforced by the full schema check after
typing (`waitpoints_core.schemas.validate`), whose failures are shown beside the field they concern.

Typing a post (`parse_form`): a form's fields are named `field:<property>` (so no property name can collide with
the form's own controls), empty text or number boxes and an unchosen option are omitted, numbers are JSON numbers
(integers stay integers), an option posts its index and comes back as the exact enum value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from waitpoints_core.errors import InvalidInput, SchemaMismatch

FIELD_PREFIX = "field:"
MAX_RADIO_OPTIONS = 4
TEXTAREA_OVER = 200  # a maxLength above this makes a multi-line box
MAX_REASON_CHARS = 1_000
MAX_FORM_FIELDS = 200

Kind = Literal["text", "textarea", "integer", "number", "checkbox", "radio", "select"]
_INTEGER = re.compile(r"[+-]?\d{1,30}\Z")
_NUMBER = re.compile(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?\Z")


@dataclass(frozen=True)
class Field:
    """One form control for one top-level property of the schema."""

    name: str  # the property name (any string: it is escaped wherever it is written)
    kind: Kind
    label: str
    help: str = ""
    required: bool = False
    default: Any = None
    has_default: bool = False
    options: tuple[Any, ...] = ()  # enum values, in order
    schema: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def form_name(self) -> str:
        return FIELD_PREFIX + self.name

    def initial(self) -> str:
        """The raw form value of the default (what a first visit shows)."""
        if not self.has_default:
            return ""
        if self.kind == "checkbox":
            return "on" if self.default is True else ""
        if self.kind in ("radio", "select"):
            index = _index_of(self.options, self.default)
            return "" if index is None else str(index)
        if self.kind in ("integer", "number"):
            return json.dumps(self.default) if _is_number(self.default) else ""
        return self.default if isinstance(self.default, str) else ""


@dataclass(frozen=True)
class FormResult:
    """A typed post: `data` when every field typed and the whole schema matched, else `errors`.

    `errors` maps a property name to its message ("" holds errors of the whole object); `values` holds what was
    typed so far (raw form values by property name) for a re-render."""

    data: dict[str, Any] | None
    errors: dict[str, str]
    values: dict[str, str]


@dataclass(frozen=True)
class Decision:
    """A posted approval page: what the person chose, and everything needed to act or to re-render."""

    action: Literal["approve", "reject"] | None
    data: dict[str, Any] | None  # approve, valid: the completion data
    reason: str  # reject: the reason ("" when none was given)
    errors: dict[str, str]  # by property name; "" for the whole form; "reason" lives in reason_error
    values: dict[str, str]
    reason_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.action is not None and not self.errors and self.reason_error is None


def form_fields(schema: Mapping[str, Any] | str | None) -> list[Field]:
    """The form's fields in `properties` order; `InvalidInput` when the schema is outside the form subset."""
    if schema is None:
        return []
    if isinstance(schema, str):
        schema = json.loads(schema)
    if not isinstance(schema, Mapping):
        raise InvalidInput("approval: the schema must be a JSON object")
    if schema.get("type", "object") != "object" or not isinstance(schema.get("properties", {}), Mapping):
        raise InvalidInput('approval: the page needs a schema with "type": "object" and "properties"')
    required = schema.get("required", [])
    required = set(required) if isinstance(required, list) else set()
    return [_field(name, prop, name in required) for name, prop in schema.get("properties", {}).items()]


def decode_form_body(body: str | bytes) -> list[tuple[str, str]]:
    """`application/x-www-form-urlencoded` → (name, value) pairs; blank values kept, bad UTF-8 replaced."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:
        raise InvalidInput("The form has too many fields") from exc


def parse_form(
    schema: Mapping[str, Any] | str | None, form: Iterable[tuple[str, str]] | Mapping[str, str | Sequence[str]]
) -> FormResult:
    """Types a posted form per schema, then checks the data against the whole schema."""
    from waitpoints_core import schemas

    fields = form_fields(schema)
    posted = _first_values(form)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for f in fields:
        raw = posted.get(f.form_name)
        if raw is not None:
            values[f.name] = raw
        try:
            present, value = _typed(f, raw)
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        if present:
            data[f.name] = value
        elif f.required:
            errors[f.name] = f"Choose {f.label}" if f.kind in ("radio", "select") else f"Enter {f.label}"
    if schema is not None:
        try:  # also with typing errors: the person sees every problem at once, each field's first one
            schemas.validate(schema if isinstance(schema, str) else dict(schema), data)
        except SchemaMismatch as mismatch:
            for name, message in errors_from_mismatch(fields, mismatch).items():
                errors.setdefault(name, message)
    if errors:
        ordered = {f.name: errors[f.name] for f in fields if f.name in errors}
        return FormResult(None, {**({"": errors[""]} if "" in errors else {}), **ordered}, values)
    return FormResult(data, {}, values)


def parse_decision(
    schema: Mapping[str, Any] | str | None,
    form: Iterable[tuple[str, str]] | Mapping[str, str | Sequence[str]],
    *,
    reason_required: bool,
) -> Decision:
    """The whole post of the approval page: `action` = approve (the fields) or reject (the reason box)."""
    posted = _first_values(form)
    action = posted.get("action")
    if action == "approve":
        result = parse_form(schema, form)
        return Decision("approve", result.data, "", result.errors, result.values)
    if action == "reject":
        reason = (posted.get("reason") or "").replace("\r\n", "\n").strip()
        problem = None
        if len(reason) > MAX_REASON_CHARS:
            problem = f"The reason must be {MAX_REASON_CHARS:,} characters or fewer (it is {len(reason):,})"
        elif reason_required and not reason:
            problem = "Enter a reason for rejecting"
        return Decision("reject", None, reason, {}, {}, problem)
    return Decision(None, None, "", {"": "Choose Approve or Reject"}, {})


def errors_from_mismatch(fields: Sequence[Field], mismatch: SchemaMismatch) -> dict[str, str]:
    """Schema failures as messages for the fields they concern ("" for the object as a whole), first one wins."""
    by_name = {f.name: f for f in fields}
    errors: dict[str, str] = {}
    for error in mismatch.errors:
        parts = error.get("pointer", "").split("/")[1:]
        name = parts[0].replace("~1", "/").replace("~0", "~") if parts else ""
        f = by_name.get(name)
        key = name if f is not None else ""
        if key not in errors:
            errors[key] = _friendly(f, error) if f is not None else error["message"]
    return errors


# --- internals --------------------------------------------------------------------------------------------


def _field(name: str, prop: object, required: bool) -> Field:
    where = f"approval: schema property {json.dumps(name, ensure_ascii=False)}"
    if not isinstance(prop, Mapping):
        raise InvalidInput(f"{where} must be a schema object")
    label = prop.get("title") if isinstance(prop.get("title"), str) and prop.get("title") else name
    help_text = prop.get("description") if isinstance(prop.get("description"), str) else ""
    common: dict[str, Any] = {
        "name": name,
        "label": label,
        "help": help_text,
        "required": required,
        "default": prop.get("default"),
        "has_default": "default" in prop,
        "schema": prop,
    }
    options = prop["enum"] if "enum" in prop else [prop["const"]] if "const" in prop else None
    if options is not None:
        if not isinstance(options, list) or not options or not all(_is_scalar(o) for o in options):
            raise InvalidInput(f"{where}: an enum on the page must list strings, numbers, booleans or null")
        kind: Kind = "radio" if len(options) <= MAX_RADIO_OPTIONS else "select"
        return Field(kind=kind, options=tuple(options), **common)
    kinds: dict[str, Kind] = {"integer": "integer", "number": "number", "boolean": "checkbox", "string": "text"}
    type_name = prop.get("type")
    kind_of = kinds.get(type_name) if isinstance(type_name, str) else None
    if kind_of is None:
        raise InvalidInput(f"{where}: the page can show strings, numbers, integers, booleans and enums only")
    if kind_of == "text":
        max_length = prop.get("maxLength")
        long_text = isinstance(max_length, int) and max_length > TEXTAREA_OVER
        kind_of = "textarea" if prop.get("format") == "textarea" or long_text else "text"
    return Field(kind=kind_of, **common)


def _first_values(form: Iterable[tuple[str, str]] | Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    posted: dict[str, str] = {}
    pairs: Iterable[tuple[str, Any]] = form.items() if isinstance(form, Mapping) else form
    for name, value in pairs:
        if isinstance(value, str):
            posted.setdefault(name, value)
        elif value:
            posted.setdefault(name, str(value[0]))
    return posted


def _typed(f: Field, raw: str | None) -> tuple[bool, Any]:
    """(present, value); ValueError with a message for the person when the box holds something untypable."""
    if f.kind == "checkbox":
        return True, raw is not None
    if raw is None or raw == "":
        return False, None
    if f.kind == "textarea":
        return True, raw.replace("\r\n", "\n")
    if f.kind == "text":
        return True, raw
    if f.kind in ("radio", "select"):
        if raw.isdigit() and int(raw) < len(f.options):
            return True, f.options[int(raw)]
        raise ValueError(f"Choose one of the options for {f.label}")
    text = raw.strip()
    if text == "":
        return False, None
    if _INTEGER.match(text):
        return True, int(text)
    if f.kind == "integer":
        raise ValueError(f"{f.label} must be a whole number, like 12")
    if _NUMBER.match(text):
        number = float(text)
        if math.isfinite(number):
            return True, number
    raise ValueError(f"{f.label} must be a number, like 12 or 3.5")


def _friendly(f: Field, error: Mapping[str, str]) -> str:
    rule, prop, label = error.get("rule", ""), f.schema, f.label
    limit = prop.get(rule)
    shown = json.dumps(limit, ensure_ascii=False) if limit is not None else ""
    messages = {
        "minLength": f"{label} must be at least {shown} characters",
        "maxLength": f"{label} must be {shown} characters or fewer",
        "minimum": f"{label} must be {shown} or more",
        "maximum": f"{label} must be {shown} or less",
        "exclusiveMinimum": f"{label} must be more than {shown}",
        "exclusiveMaximum": f"{label} must be less than {shown}",
        "multipleOf": f"{label} must be a multiple of {shown}",
        "pattern": f"{label} is not in the expected format",
        "enum": f"Choose one of the options for {label}",
        "const": f"Choose the option for {label}",
        "required": f"Enter {label}",
        "type": f"{label} has the wrong kind of value",
    }
    if rule in messages and (limit is not None or rule in ("required", "type", "pattern", "enum", "const")):
        return messages[rule]
    return f"{label} does not meet the rule {rule!r}"


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | bool | int | float)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _index_of(options: Sequence[Any], value: object) -> int | None:
    wanted = json.dumps(value, sort_keys=True)
    for index, option in enumerate(options):
        if json.dumps(option, sort_keys=True) == wanted:
            return index
    return None
