"""Real webhook senders: 3 MB payloads, Replicate's event sequence, Stripe and Standard Webhooks signatures,
redeliveries, and signing secrets that never come back out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .helpers import TOKENS, callback_path, complete, create, error_of, retrieve

if TYPE_CHECKING:
    import httpx

    from .conftest import Stack

EVENTS = Path(__file__).resolve().parents[2] / "events"
MB3 = 3 * 1024 * 1024
REPLICATE_TERMINAL = {"status": ["succeeded", "failed", "canceled"]}


def _event(name: str) -> bytes:
    return json.dumps(json.loads((EVENTS / f"{name}.json").read_text())).encode()


def _standard_headers(secret: str, body: bytes, msg_id: str | None = None, at: int | None = None) -> dict[str, str]:
    """Signed the way Replicate (and every Standard Webhooks sender) signs."""
    msg_id, at = msg_id or f"msg_{uuid.uuid4().hex}", at or int(time.time())
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"{msg_id}.{at}.".encode() + body, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(at),
        "webhook-signature": f"v1,{signature}",
    }


def _stripe_headers(secret: str, body: bytes, at: int | None = None) -> dict[str, str]:
    at = at or int(time.time())
    signature = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "stripe-signature": f"t={at},v1={signature}"}


def _post(
    anonymous: httpx.Client, token: dict[str, Any], body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return anonymous.post(
        callback_path(token["url"]), content=body, headers=headers or {"content-type": "application/json"}
    )


# --- payload sizes ---------------------------------------------------------------------------------------


def test_a_3_mb_callback_round_trips_whole(api: httpx.Client, anonymous: httpx.Client) -> None:
    token = create(api)
    body = json.dumps({"status": "succeeded", "output": "x" * (MB3 - 64)}).encode()
    assert len(body) <= MB3
    assert _post(anonymous, token, body).status_code == 200
    stored = retrieve(api, token["id"])
    assert stored["status"] == "COMPLETED" and stored["output"] == body.decode()


def test_large_outputs_are_kept_in_the_bucket(local_stack: Stack, api: httpx.Client) -> None:
    token = create(api)
    data = {"frames": ["f" * 1000] * 1000}
    assert complete(api, token["id"], {"data": data}).status_code == 200
    assert json.loads(retrieve(api, token["id"])["output"]) == data
    listed = local_stack.aws("s3").list_objects_v2(Bucket="waitpoints-outputsbucket", Prefix=f"outputs/{token['id']}/")
    assert listed["KeyCount"] == 1


def test_losing_writers_leave_no_object_behind(local_stack: Stack, api: httpx.Client, anonymous: httpx.Client) -> None:
    token = create(api)
    assert complete(api, token["id"], {"data": "w" * 300_000}).status_code == 200
    assert _post(anonymous, token, json.dumps({"late": "l" * 300_000}).encode()).status_code == 200
    assert retrieve(api, token["id"])["output"] == "w" * 300_000
    listed = local_stack.aws("s3").list_objects_v2(Bucket="waitpoints-outputsbucket", Prefix=f"outputs/{token['id']}/")
    assert listed["KeyCount"] == 1


def test_one_byte_over_3_mb_is_413_on_both_routes(api: httpx.Client, anonymous: httpx.Client) -> None:
    token = create(api)
    assert "3145728" in error_of(_post(anonymous, token, b"x" * (MB3 + 1), {"content-type": "text/plain"}), 413)
    body = json.dumps({"data": "x" * MB3}).encode()
    assert "3145728" in error_of(api.post(f"{TOKENS}/{token['id']}/complete", content=body), 413)
    assert retrieve(api, token["id"])["status"] == "WAITING"


# --- Replicate: start → output → completed to one URL ---------------------------------------------------------


def test_only_the_terminal_replicate_event_completes(api: httpx.Client, anonymous: httpx.Client) -> None:
    token = create(api, completeWhen=REPLICATE_TERMINAL)
    assert _post(anonymous, token, _event("replicate_start")).status_code == 200
    first = retrieve(api, token["id"])
    assert first["status"] == "WAITING" and first["deliveriesReceived"] == 1 and "lastDeliveryAt" in first
    for _ in range(2):  # Replicate redelivers with the same webhook-id: counted once
        headers = {"content-type": "application/json", "webhook-id": "msg_output_1"}
        assert _post(anonymous, token, _event("replicate_output"), headers).status_code == 200
    assert retrieve(api, token["id"])["deliveriesReceived"] == 2
    assert _post(anonymous, token, _event("replicate_completed")).status_code == 200
    done = retrieve(api, token["id"])
    assert done["status"] == "COMPLETED" and json.loads(done["output"])["status"] == "succeeded"
    assert _post(anonymous, token, _event("replicate_start")).status_code == 200  # late and redelivered: no-op
    assert json.loads(retrieve(api, token["id"])["output"])["status"] == "succeeded"


def test_replicate_signed_with_standard_webhooks(api: httpx.Client, anonymous: httpx.Client) -> None:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    token = create(
        api, completeWhen=REPLICATE_TERMINAL, webhookSignature={"scheme": "standard-webhooks", "secret": secret}
    )
    start = _event("replicate_start")
    error_of(
        _post(anonymous, token, start, _standard_headers("whsec_" + base64.b64encode(b"k" * 32).decode(), start)), 401
    )
    assert "deliveriesReceived" not in retrieve(api, token["id"])
    assert _post(anonymous, token, start, _standard_headers(secret, start)).status_code == 200
    completed = _event("replicate_completed")
    error_of(_post(anonymous, token, completed, _standard_headers(secret, completed, at=int(time.time()) - 600)), 401)
    tampered = _standard_headers(secret, completed)
    error_of(_post(anonymous, token, completed.replace(b"succeeded", b"failed"), tampered), 401)
    assert retrieve(api, token["id"])["status"] == "WAITING"
    assert _post(anonymous, token, completed, _standard_headers(secret, completed)).status_code == 200
    assert retrieve(api, token["id"])["status"] == "COMPLETED"


# --- Stripe --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("forgery", ["wrong secret", "expired", "missing", "tampered", "no v1"])
def test_stripe_signatures_are_verified_on_the_raw_body(
    api: httpx.Client, anonymous: httpx.Client, forgery: str
) -> None:
    secret = f"whsec_{secrets.token_hex(16)}"
    token = create(api, webhookSignature={"scheme": "stripe", "secret": secret})
    body = _event("stripe_checkout_completed")
    headers = {
        "wrong secret": _stripe_headers("whsec_other", body),
        "expired": _stripe_headers(secret, body, at=int(time.time()) - 301),
        "missing": {"content-type": "application/json"},
        "tampered": _stripe_headers(secret, body.replace(b"4200", b"1")),
        "no v1": {"content-type": "application/json", "stripe-signature": f"t={int(time.time())}"},
    }[forgery]
    assert "Webhook signature" in error_of(_post(anonymous, token, body, headers), 401)
    assert retrieve(api, token["id"])["status"] == "WAITING"
    assert _post(anonymous, token, body, _stripe_headers(secret, body)).status_code == 200
    done = retrieve(api, token["id"])
    assert done["status"] == "COMPLETED" and json.loads(done["output"])["type"] == "checkout.session.completed"
    assert _post(anonymous, token, body, _stripe_headers(secret, body)).status_code == 200  # Stripe's retry


# --- secrets and options -----------------------------------------------------------------------------


def test_the_signing_secret_never_comes_back_out(stack: Stack, api: httpx.Client, anonymous: httpx.Client) -> None:
    secret = f"whsec_{secrets.token_hex(24)}"
    response = api.post(TOKENS, json={"webhookSignature": {"scheme": "stripe", "secret": secret}, "tags": ["secret"]})
    token = response.json()
    _post(anonymous, token, b"{}", _stripe_headers("whsec_wrong", b"{}"))
    texts = [
        response.text,
        api.get(f"{TOKENS}/{token['id']}").text,
        api.get(TOKENS, params={"filter[tags]": "secret"}).text,
    ]
    assert all(secret not in text for text in texts)
    if stack.state_dir is not None:
        assert secret not in (stack.state_dir / "stack.log").read_text()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"webhookSignature": {"scheme": "github", "secret": "s"}}, "scheme"),
        ({"webhookSignature": {"scheme": "stripe"}}, "secret"),
        ({"completeWhen": {}}, "completeWhen"),
        ({"completeWhen": {"status": "succeeded"}}, "completeWhen"),
    ],
)
def test_invalid_extension_options_are_400(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    assert field in error_of(api.post(TOKENS, json=body), 400)
