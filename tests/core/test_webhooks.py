"""The webhook verifiers and the completeWhen rule, against hostile header values and JSON look-alikes
(issue 14, #3 and #4): every verifier raises only Unauthenticated, whatever the headers hold, and a rule
compares JSON values by JSON type."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from waitpoints_core import webhooks
from waitpoints_core.errors import Unauthenticated

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STANDARD_SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
STRIPE_SECRET = "whsec_stripe-endpoint-secret"
NOW = 1_800_000_000
HEADERS = ("stripe-signature", "webhook-id", "webhook-timestamp", "webhook-signature")

# Header values as a hostile sender (or a broken proxy) writes them: any text, including lone surrogates
# and huge digit runs, and near-misses of the real grammar.
DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=6000)
TEXT = st.text(max_size=300) | st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=4)
VALUE = (
    TEXT
    | DIGITS
    | st.builds(lambda t, s: f"t={t},v1={s}", DIGITS | TEXT, TEXT)
    | st.builds(lambda s: f"v1,{s}", TEXT)
    | st.lists(st.sampled_from(["t=1", "v1=ab", ",", "=", " ", "v1,", "t=", "9" * 5000]), max_size=40).map("".join)
)
HEADER_MAPS = st.dictionaries(st.sampled_from(HEADERS), VALUE, max_size=4)


@FAST
@given(headers=HEADER_MAPS, body=st.binary(max_size=64), scheme=st.sampled_from(webhooks.SCHEMES))
@example(headers={"stripe-signature": "t=" + "9" * 5000 + ",v1=00"}, body=b"{}", scheme="stripe")
@example(
    headers={"webhook-id": "m", "webhook-timestamp": "9" * 5000, "webhook-signature": "v1,AA=="},
    body=b"{}",
    scheme="standard-webhooks",
)
@example(
    headers={"webhook-id": "\ud800", "webhook-timestamp": str(NOW), "webhook-signature": "v1,\udfff"},
    body=b"{}",
    scheme="standard-webhooks",
)
@example(headers={"stripe-signature": f"t={NOW},v1=\ud800"}, body=b"{}", scheme="stripe")
@example(headers={"stripe-signature": "v1=ab," * 2000 + f"t={NOW}"}, body=b"{}", scheme="stripe")
def test_every_verifier_raises_only_unauthenticated(headers: dict[str, str], body: bytes, scheme: str) -> None:
    secret = STRIPE_SECRET if scheme == "stripe" else STANDARD_SECRET
    with pytest.raises(Unauthenticated):
        webhooks.verify(scheme, secret, headers, body, NOW)


@FAST
@given(secret=st.text(max_size=80), headers=HEADER_MAPS)
def test_a_standard_webhooks_verifier_with_any_secret_raises_only_unauthenticated(
    secret: str, headers: dict[str, str]
) -> None:
    """Tokens created before secrets were checked at create may hold any text."""
    with pytest.raises(Unauthenticated):
        webhooks.verify("standard-webhooks", secret, headers, b"{}", NOW)


@FAST
@given(
    headers=st.dictionaries(st.sampled_from(HEADERS), VALUE, max_size=4),
    body=st.none() | st.dictionaries(st.sampled_from(["id", "object"]), TEXT | st.integers(), max_size=2),
)
@example(headers={"webhook-id": "msg_\ud800"}, body=None)
def test_delivery_id_is_none_or_bounded_text(headers: dict[str, str], body: object) -> None:
    found = webhooks.delivery_id(headers, body)
    assert found is None or (isinstance(found, str) and len(found) <= 256 and found.encode())


def _stripe(t: str, body: bytes, secret: str = STRIPE_SECRET) -> dict[str, str]:
    sig = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={t},v1={sig}"}


def test_a_valid_stripe_signature_still_verifies() -> None:
    webhooks.verify("stripe", STRIPE_SECRET, _stripe(str(NOW), b"{}"), b"{}", NOW)


@pytest.mark.parametrize("t", ["9" * 5000, "9" * 4301, "0" * 5000 + str(NOW), "9" * 13])
def test_an_overlong_timestamp_fails_verification_without_converting_it(t: str) -> None:
    """A 5,000-digit t= used to raise ValueError past Python's 4,300-digit int() limit (a 500). Leading
    zeros count too: the bound is on the text, before any conversion."""
    with pytest.raises(Unauthenticated, match="seconds from now"):
        webhooks.verify("stripe", STRIPE_SECRET, _stripe(t, b"{}"), b"{}", NOW)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": t, "webhook-signature": "v1,AAAA"}
    with pytest.raises(Unauthenticated, match="seconds from now"):
        webhooks.verify("standard-webhooks", STANDARD_SECRET, headers, b"{}", NOW)


def test_the_standard_webhooks_key_accepts_the_prefix_or_bare_base64() -> None:
    raw = base64.b64encode(b"k" * 32).decode()
    assert webhooks.standard_webhooks_key("whsec_" + raw) == webhooks.standard_webhooks_key(raw) == b"k" * 32
    for bad in ("whsec_not base64!", "whsec_", "", "whsec_é"):
        with pytest.raises(ValueError):
            webhooks.standard_webhooks_key(bad)


def test_a_live_timestamp_still_checks_the_clock() -> None:
    with pytest.raises(Unauthenticated, match="seconds from now"):
        webhooks.verify("stripe", STRIPE_SECRET, _stripe(str(NOW - 301), b"{}"), b"{}", NOW)
    webhooks.verify("stripe", STRIPE_SECRET, _stripe(str(int(time.time())), b"{}"), b"{}", int(time.time()))


# --- completeWhen: JSON values by JSON type ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "body"),
    [
        ({"ok": [True]}, {"ok": 1}),
        ({"ok": [1]}, {"ok": True}),
        ({"ok": [0]}, {"ok": False}),
        ({"ok": [False]}, {"ok": 0}),
        ({"ok": [False]}, {"ok": 0.0}),
        ({"ok": [None]}, {}),
        ({"ok": [None]}, {"ok": False}),
        ({"ok": ["1"]}, {"ok": 1}),
        ({"ok": [1]}, {"ok": "1"}),
        ({"ok": [1]}, {"ok": [1]}),
        ({"ok": ["a"]}, {"ok": ["a"]}),
        ({"ok": [1], "s": ["x"]}, {"ok": 1}),
    ],
)
def test_a_rule_value_never_matches_another_json_type(rule: dict[str, list[object]], body: object) -> None:
    assert not webhooks.completes(rule, body)


@pytest.mark.parametrize(
    ("rule", "body"),
    [
        ({"ok": [True]}, {"ok": True}),
        ({"ok": [False]}, {"ok": False}),
        ({"ok": [0]}, {"ok": 0}),
        ({"ok": [1]}, {"ok": 1.0}),  # one JSON number type: 1 and 1.0 are the same number
        ({"ok": [None]}, {"ok": None}),
        ({"s": ["a", "b"], "n": [2]}, {"s": "b", "n": 2, "other": True}),
    ],
)
def test_a_rule_matches_the_same_json_value(rule: dict[str, list[object]], body: object) -> None:
    assert webhooks.completes(rule, body)


SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([-1.0, 0.0, 1.0, 2.5]) | st.text(max_size=2)


@FAST
@given(a=SCALARS, b=SCALARS)
def test_json_equal_is_equality_of_the_json_texts_up_to_number_spelling(a: object, b: object) -> None:
    def kind(v: object) -> str:
        return {bool: "bool", type(None): "null", str: "string", int: "number", float: "number"}[type(v)]

    assert webhooks.json_equal(a, b) == (kind(a) == kind(b) and a == b)
