"""Real webhook senders: signature schemes, delivery ids, and the rule that says which delivery completes.

Schemes (optional per token, beside the URL's own HMAC):
- `stripe`: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`, HMAC-SHA256 of `"{t}.{raw body}"` under the
  endpoint secret (`whsec_...`, used as it is).
- `standard-webhooks` (Replicate, Svix, ...): `webhook-id`, `webhook-timestamp`, `webhook-signature`
  (`v1,<base64>` entries, space-separated), HMAC-SHA256 of `"{id}.{timestamp}.{raw body}"` under the
  base64 secret after its `whsec_` prefix.
Both reject timestamps more than five minutes from now, and compare in constant time.
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

TOLERANCE_SECONDS = 300


def verify(scheme: str, secret: str, headers: Mapping[str, str], body: bytes, now_s: int) -> None:
    """Raise Unauthenticated unless the delivery carries a valid, recent signature of `body`."""
    if scheme == "stripe":
        _verify_stripe(secret, headers.get("stripe-signature"), body, now_s)
    else:
        _verify_standard(secret, headers, body, now_s)


def _fail(reason: str) -> Unauthenticated:
    return Unauthenticated(f"Webhook signature verification failed: {reason}")


def _check_time(timestamp: str, now_s: int) -> int:
    if not timestamp.isascii() or not timestamp.isdigit():
        raise _fail("the timestamp is not a number")
    if abs(now_s - int(timestamp)) > TOLERANCE_SECONDS:
        raise _fail(f"the timestamp is more than {TOLERANCE_SECONDS} seconds from now")
    return int(timestamp)


def _verify_stripe(secret: str, header: str | None, body: bytes, now_s: int) -> None:
    if not header:
        raise _fail("no Stripe-Signature header")
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [v for k, v in pairs if k.strip() == "t"]
    signatures = [v.strip().encode() for k, v in pairs if k.strip() == "v1"]
    if len(timestamps) != 1 or not signatures:
        raise _fail("the Stripe-Signature header has no t= or no v1= part")
    _check_time(timestamps[0], now_s)
    expected = hmac.new(secret.encode(), timestamps[0].encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise _fail("no v1 signature matches")


def _verify_standard(secret: str, headers: Mapping[str, str], body: bytes, now_s: int) -> None:
    msg_id, timestamp, header = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not timestamp or not header:
        raise _fail("webhook-id, webhook-timestamp and webhook-signature are required")
    _check_time(timestamp, now_s)
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error as exc:
        raise _fail("the token's secret is not base64") from exc
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    given = [entry.split(",", 1)[1].encode() for entry in header.split() if entry.startswith("v1,")]
    if not any(hmac.compare_digest(expected, signature) for signature in given):
        raise _fail("no v1 signature matches")


def delivery_id(headers: Mapping[str, str], body: Any) -> str | None:
    """The sender's id of this delivery, the same across its retries: `webhook-id`, or a Stripe event's `id`."""
    if headers.get("webhook-id"):
        return headers["webhook-id"][:256]
    if isinstance(body, dict) and isinstance(body.get("id"), str) and body.get("object") == "event":
        return str(body["id"])[:256]
    return None


def completes(rule: Mapping[str, list[Any]], body: Any) -> bool:
    """A delivery completes the token when every field the rule names has one of the listed values."""
    return isinstance(body, dict) and all(body.get(field) in values for field, values in rule.items())
