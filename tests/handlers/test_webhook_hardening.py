"""Webhook tokens through the real handlers (issue 14, #3, #4, #5): a 5,000-digit timestamp is a 401, not a
500; a rule matches JSON values by JSON type; a standard-webhooks secret that could never verify is a 400
at create."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from .support import body_of, with_auth, with_body, with_hash, with_id

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
Create = Callable[..., dict[str, Any]]


def callback_event(load_event: LoadEvent, url: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    *_, token_id, _, url_hash = url.split("/")
    event = with_body(with_hash(with_id(load_event("callback_json"), token_id), url_hash), body)
    event["headers"].update(headers)
    return event


def test_stripe_timestamp_of_5000_digits_is_401(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create({"webhookSignature": {"scheme": "stripe", "secret": "whsec_x"}})
    headers = {"stripe-signature": "t=" + "9" * 5000 + ",v1=" + "0" * 64}
    response = callback(callback_event(load_event, created["url"], "{}", headers))
    assert response["statusCode"] == 401, response
    assert "timestamp" in body_of(response)["error"]
    token = aws.store.get_token(created["id"])
    assert token is not None and token.status.value == "WAITING"


def test_standard_webhooks_timestamp_of_5000_digits_is_401(
    callback: Invoke, create: Create, load_event: LoadEvent
) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    created = create({"webhookSignature": {"scheme": "standard-webhooks", "secret": secret}})
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "9" * 5000, "webhook-signature": "v1,AAAA"}
    response = callback(callback_event(load_event, created["url"], "{}", headers))
    assert response["statusCode"] == 401, response


@pytest.mark.parametrize(
    ("rule", "body"),
    [
        ({"ok": [True]}, {"ok": 1}),
        ({"ok": [0]}, {"ok": False}),
        ({"ok": [1]}, {"ok": True}),
        ({"ok": [None]}, {"other": 1}),
    ],
)
def test_a_rule_is_not_met_by_another_json_type(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent, rule: Any, body: Any
) -> None:
    created = create({"completeWhen": rule})
    response = callback(callback_event(load_event, created["url"], json.dumps(body), {}))
    assert response["statusCode"] == 200, response
    token = aws.store.get_token(created["id"])
    assert token is not None and token.status.value == "WAITING", (rule, body)


def test_a_rule_on_a_number_is_met_by_the_same_number_spelled_as_a_float(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create({"completeWhen": {"code": [1]}})
    assert callback(callback_event(load_event, created["url"], '{"code": 1.0}', {}))["statusCode"] == 200
    token = aws.store.get_token(created["id"])
    assert token is not None and token.status.value == "COMPLETED"


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_not base64!",
        "whsec_" + "a" * 43,  # 43 characters: not a whole number of base64 quanta
        "not-base64-at-all",
        "whsec_",
        "whsec_" + base64.b64encode(b"k" * 8).decode(),  # 8 bytes: under the spec's 24
        "whsec_" + base64.b64encode(b"k" * 65).decode(),
        "whsec_" + base64.b64encode(b"k" * 32).decode() + "é",
    ],
)
def test_standard_webhooks_secret_that_could_never_verify_is_400_at_create(
    api: Invoke, secret_key: str, load_event: LoadEvent, secret: str
) -> None:
    body = json.dumps({"webhookSignature": {"scheme": "standard-webhooks", "secret": secret}})
    response = api(with_body(with_auth(load_event("api_create_token"), secret_key), body))
    assert response["statusCode"] == 400, response
    error = body_of(response)["error"]
    assert "secret" in error and (secret not in error or secret == "whsec_")


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_" + base64.b64encode(b"k" * 24).decode(),
        "whsec_" + base64.b64encode(b"k" * 64).decode(),
        base64.b64encode(b"k" * 32).decode(),  # the prefix is optional, as in the spec's libraries
    ],
)
def test_standard_webhooks_secrets_of_the_spec_are_accepted(create: Create, secret: str) -> None:
    create({"webhookSignature": {"scheme": "standard-webhooks", "secret": secret}})


def test_a_stripe_secret_is_used_as_it_is(create: Create) -> None:
    create({"webhookSignature": {"scheme": "stripe", "secret": "whsec_not base64 at all!"}})
