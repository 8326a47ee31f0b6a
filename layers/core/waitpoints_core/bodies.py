"""Completion data → the stored output: the text the API returns and its content type."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from .errors import InvalidInput, PayloadTooLarge, UnsupportedBody

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain"
# Outputs larger than this go to S3 (a DynamoDB item holds 400 KB); they are also over Step Functions'
# 262,144-byte limit, so resuming a workflow never needs them.
OFFLOAD_BYTES = 256 * 1024
# What retrieve can return: its final response must fit Lambda's 6 MB synchronous response payload. The output
# is a JSON string in the body (escaped once, as ASCII: what Powertools' serializer writes), and the body is a
# JSON string in the Lambda response (escaped again, by the runtime): a `"` takes 4 bytes, a 4-byte character 14,
# a control character 7. RESPONSE_MARGIN is kept for the rest: the token's other fields, its URL and tags, the
# headers and the response's framing (tags and ids are at most ~12 KiB, twice escaped well under the margin).
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
RESPONSE_MARGIN = 64 * 1024
MAX_RETURNABLE_BYTES = LAMBDA_RESPONSE_LIMIT - RESPONSE_MARGIN


def retrieve_response_bytes(text: str) -> int:
    """What an output adds to retrieve's Lambda response: the text escaped twice, as the API escapes it."""
    return len(json.dumps(json.dumps(text)))


@dataclass(frozen=True)
class Output:
    """A token's output: its text and content type; `ref` names the S3 object when the text lives there."""

    text: str
    type: str
    ref: str | None = None
    size: int | None = None

    @property
    def byte_size(self) -> int:
        return self.size if self.size is not None else len(self.text.encode())

    def check_returnable(self) -> None:
        """Refuse an output retrieve could not return whole (it is never truncated): at completion time, so
        nothing is lost (a 413 to the completer, the token still waiting)."""
        if self.byte_size * 7 + 2 <= MAX_RETURNABLE_BYTES:  # 7: the most one byte can become, escaped twice
            return
        size = retrieve_response_bytes(self.text)
        if size > MAX_RETURNABLE_BYTES:
            raise PayloadTooLarge(
                f"The output would take {size} bytes of the retrieve response once JSON-escaped (twice: in the body, "
                f"and the body in the Lambda response); the limit is {MAX_RETURNABLE_BYTES} bytes (Lambda's 6 MB "
                f"response less {RESPONSE_MARGIN} bytes for the token's other fields). Send a smaller output, or "
                "one with fewer characters that JSON escapes (quotes, backslashes, control and non-ASCII characters)"
            )


def check_body_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise PayloadTooLarge(f"{what} is {size} bytes; the limit is {limit} bytes ({limit // 1024} KiB)")


class RefusedJSON(ValueError):
    """Well-formed JSON whose value cannot be kept as it is: a number beyond a double's range (`1e309`, which
    every JSON reader would turn into Infinity) or a string holding a lone UTF-16 surrogate (`"\\ud800"`, which
    is no Unicode text: it cannot be encoded as UTF-8, stored or returned). Both the complete API and the
    callback URL refuse such a body with a 400."""


NON_FINITE_MESSAGE = "NaN, Infinity and numbers too large for a double are not valid JSON"
SURROGATE_MESSAGE = "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff not in a pair), which is not Unicode text"
# A surrogate can only come from a \\uD800-\\uDFFF escape (the text itself is decoded UTF-8): look for one first.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise RefusedJSON(NON_FINITE_MESSAGE)
    return value


# built once: json.loads(text, **kw) builds one a call
_STRICT_JSON = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def parse_json(text: str) -> Any:
    """Strict JSON: NaN/Infinity literals, nesting Python cannot follow and over-long integers all fail
    with ValueError; numbers beyond a double's range and lone surrogates with RefusedJSON (a ValueError)."""
    try:
        value = _STRICT_JSON.decode(text)
    except RecursionError as exc:
        raise ValueError("JSON is nested too deeply") from exc
    if _SURROGATE_ESCAPE.search(text) and has_lone_surrogate(json.dumps(value, ensure_ascii=False)):
        raise RefusedJSON(SURROGATE_MESSAGE)
    return value


def output_from_value(value: Any) -> Output:
    """A JSON string is kept raw as text/plain; any other JSON value is stored as JSON text."""
    if isinstance(value, str):
        text, kind = value, TEXT_TYPE
    else:
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except ValueError as exc:
            raise InvalidInput(f"data: {NON_FINITE_MESSAGE}") from exc
        kind = JSON_TYPE
    if has_lone_surrogate(text):
        raise InvalidInput(f"data: {SURROGATE_MESSAGE}")
    return Output(text, kind)


def output_from_callback(body: bytes, content_type: str | None) -> Output:
    """The whole callback body becomes the output.

    JSON content types → the JSON value, kept as the exact text received; form-encoded → an object of its
    fields (a field sent twice becomes a list), unless the body is itself a JSON object or array (what
    `curl -d '{...}'` sends); any other non-empty text, and JSON that does not parse → a string; an empty
    body → `{}`. A body that is not UTF-8 is refused rather than mangled, and so is JSON whose value cannot be
    kept (RefusedJSON: `1e309`, a lone surrogate), with the words the complete API uses.
    """
    if not body:
        return output_from_value({})
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedBody("Callback body is not UTF-8 text; send JSON, form fields or text") from exc
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if (
        media == "application/json"
        or media.endswith("+json")
        or (media == "application/x-www-form-urlencoded" and text.lstrip()[:1] in ("{", "["))
    ):
        try:
            value = parse_json(text)
        except RefusedJSON as exc:
            raise InvalidInput(f"Callback body: {exc}") from exc
        except ValueError:
            return Output(text, TEXT_TYPE)
        return Output(value, TEXT_TYPE) if isinstance(value, str) else Output(text.strip(), JSON_TYPE)
    if media == "application/x-www-form-urlencoded":
        fields = parse_qs(text, keep_blank_values=True)
        return output_from_value({k: v[0] if len(v) == 1 else v for k, v in fields.items()})
    return Output(text, TEXT_TYPE)
