"""Real webhook senders: signature schemes, delivery ids, and the rule that says which delivery completes.

Schemes (optional per token, beside the URL's own HMAC):
- `stripe`: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`, HMAC-SHA256 of `"{t}.{raw body}"` under the
  endpoint secret (`whsec_...`, used as it is).
- `standard-webhooks` (Replicate, Svix, ...): `webhook-id`, `webhook-timestamp`, `webhook-signature`
  (`v1,<base64>` entries, space-separated), HMAC-SHA256 of `"{id}.{timestamp}.{raw body}"` under the
  base64 secret after its `whsec_` prefix.
Both reject timestamps more than five minutes from now, and compare in constant time.

Every header value is bounded before it is converted: a timestamp is at most 12 ASCII digits before `int()`
sees it (a 5,000-digit one used to raise past Python's 4,300-digit limit), a header at most 8 KiB (what
API Gateway lets through is less), and text that cannot be encoded as UTF-8 fails verification. `verify`
raises Unauthenticated and nothing else, whatever the headers hold.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from .errors import Unauthenticated

if TYPE_CHECKING:
    from collections.abc import Mapping

SCHEMES = ("stripe", "standard-webhooks")  # what `verify` knows (request_models.WebhookSignature offers the same)
TOLERANCE_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12  # seconds: 10 digits until the year 2286; 12 digits cover any clock, right or wrong
MAX_HEADER_CHARS = 8192
STANDARD_WEBHOOKS_KEY_BYTES = (24, 64)  # the spec's secret size, checked at create
MAX_SIGNATURES = 32  # v1 entries checked per delivery (senders send one per active secret: one or two)


def verify(scheme: str, secret: str, headers: Mapping[str, str], body: bytes, now_s: int) -> None:
    """Raise Unauthenticated unless the delivery carries a valid, recent signature of `body`."""
    if scheme == "stripe":
        _verify_stripe(secret, _header(headers, "stripe-signature"), body, now_s)
    elif scheme == "standard-webhooks":
        _verify_standard(secret, headers, body, now_s)
    else:
        raise _fail(f"unknown signature scheme {scheme!r}")


def _fail(reason: str) -> Unauthenticated:
    return Unauthenticated(f"Webhook signature verification failed: {reason}")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_HEADER_CHARS):
        raise _fail(f"the {name} header is over {MAX_HEADER_CHARS} characters")
    return value


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        raise _fail(f"the {what} is not text") from exc


def _check_time(timestamp: str, now_s: int) -> int:
    if not timestamp.isascii() or not timestamp.isdigit():
        raise _fail("the timestamp is not a number")
    if len(timestamp) > MAX_TIMESTAMP_DIGITS:  # bounded before int(): far from now however it is read
        raise _fail(f"the timestamp is more than {TOLERANCE_SECONDS} seconds from now")
    if abs(now_s - int(timestamp)) > TOLERANCE_SECONDS:
        raise _fail(f"the timestamp is more than {TOLERANCE_SECONDS} seconds from now")
    return int(timestamp)


def _verify_stripe(secret: str, header: str | None, body: bytes, now_s: int) -> None:
    if not header:
        raise _fail("no Stripe-Signature header")
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [v for k, v in pairs if k.strip() == "t"]
    signatures = [_utf8(v.strip(), "signature") for k, v in pairs if k.strip() == "v1"][:MAX_SIGNATURES]
    if len(timestamps) != 1 or not signatures:
        raise _fail("the Stripe-Signature header has no t= or no v1= part")
    _check_time(timestamps[0], now_s)
    signed = timestamps[0].encode() + b"." + body  # the timestamp is ASCII digits by now
    expected = hmac.new(_utf8(secret, "secret"), signed, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise _fail("no v1 signature matches")


def _verify_standard(secret: str, headers: Mapping[str, str], body: bytes, now_s: int) -> None:
    msg_id, timestamp, header = (_header(headers, h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not timestamp or not header:
        raise _fail("webhook-id, webhook-timestamp and webhook-signature are required")
    _check_time(timestamp, now_s)
    try:
        key = standard_webhooks_key(secret)
    except ValueError as exc:
        raise _fail("the token's secret is not base64") from exc
    signed = _utf8(f"{msg_id}.{timestamp}.", "webhook-id") + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    entries = [entry for entry in header.split() if entry.startswith("v1,")][:MAX_SIGNATURES]
    given = [_utf8(entry[3:], "signature") for entry in entries]
    if not any(hmac.compare_digest(expected, signature) for signature in given):
        raise _fail("no v1 signature matches")


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after an optional `whsec_` prefix (the spec's
    secrets are `whsec_` + base64 of 24 to 64 random bytes). ValueError unless that is valid, padded base64
    of at least one byte."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII text
        raise ValueError("not base64") from exc
    if not key:
        raise ValueError("empty")
    return key


def delivery_id(headers: Mapping[str, str], body: Any) -> str | None:
    """The sender's id of this delivery, the same across its retries: `webhook-id`, or a Stripe event's `id`.
    None when there is none, or when it is not Unicode text (it could not be stored: the delivery is then
    counted without de-duplication)."""
    found: str | None = None
    if headers.get("webhook-id"):
        found = headers["webhook-id"][:256]
    elif isinstance(body, dict) and isinstance(body.get("id"), str) and body.get("object") == "event":
        found = str(body["id"])[:256]
    if found is None:
        return None
    try:
        found.encode()
    except UnicodeEncodeError:
        return None
    return found


def completes(rule: Mapping[str, list[Any]], body: Any) -> bool:
    """A delivery completes the token when every field the rule names is present and has one of the listed
    values, compared as JSON values (`json_equal`): `true` is not `1`, `0` is not `false`, `null` is not an
    absent field."""
    return isinstance(body, dict) and all(
        field in body and any(json_equal(body[field], value) for value in values) for field, values in rule.items()
    )


def json_equal(a: Any, b: Any) -> bool:
    """Equality of two parsed JSON values by JSON type: a boolean equals only a boolean, null only null, a
    string only a string; numbers compare by value, as JSON has one number type (`1` equals `1.0`, as in JSON
    Schema's `enum`). Arrays and objects compare element by element."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
