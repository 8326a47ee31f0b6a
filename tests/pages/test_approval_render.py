"""The approval page's pure functions (no browser): headers, escaping, states, and form typing per schema."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from waitpoints_core.errors import InvalidInput
from waitpoints_http.pages import (
    ApprovalView,
    decode_form_body,
    form_fields,
    parse_decision,
    parse_form,
    redirect_to,
    render_approval,
    render_not_found,
)
from waitpoints_http.pages.html import CONTENT_SECURITY_POLICY, CSS

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "x": {"type": "number"},
        "s": {"type": "string"},
        "t": {"type": "string", "maxLength": 500},
        "b": {"type": "boolean"},
        "e": {"enum": ["a", 1, True, None]},
        "big": {"enum": list(range(10))},
    },
    "required": ["n"],
}


def test_every_page_carries_the_strict_headers() -> None:
    pages = (
        render_approval(ApprovalView(title="t")),
        render_approval(ApprovalView(title="t", state="rejected", decided_at_ms=0)),
        render_not_found(),
        redirect_to("/x"),
    )
    for _, headers, _ in pages:
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Cache-Control"] == "no-store"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Robots-Tag"].startswith("noindex")
        assert headers["X-Content-Type-Options"] == "nosniff"
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"):
            assert directive in csp
        assert "unsafe-inline" not in csp and "script-src" not in csp  # no script at all: default-src 'none'
    assert pages[-1][0] == 303


def test_the_style_hash_matches_the_one_style_element() -> None:
    _, _, html = render_approval(ApprovalView(title="t"))
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles == [CSS]
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    assert "<script" not in html and " style=" not in html
    assert not re.search(r"<[^>]*\son\w+=", html)  # no event-handler attribute


def test_creator_text_is_escaped_everywhere() -> None:
    evil = '<x y="\'&">'
    schema = {"type": "object", "properties": {evil: {"enum": [evil], "title": evil, "description": evil}}}
    _, _, html = render_approval(
        ApprovalView(title=evil, description=evil, approve_label=evil, reject_label=evil, schema=schema)
    )
    assert "<x" not in html
    assert html.count("&lt;x y=&quot;&#x27;&amp;&quot;&gt;") >= 7


def test_not_found_says_nothing_about_the_token() -> None:
    status, _, html = render_not_found()
    assert status == 404 and "token" not in html.lower() and "expired" not in html.lower()


def test_states_status_codes_and_final_pages_without_forms() -> None:
    assert render_approval(ApprovalView(title="t"))[0] == 200
    assert render_approval(ApprovalView(title="t", errors={"": "x"}))[0] == 422
    assert render_approval(ApprovalView(title="t", reason_error="x"))[0] == 422
    for state, word in (("completed", "Approved"), ("rejected", "Rejected"), ("timed_out", "Expired")):
        status, _, html = render_approval(ApprovalView(title="t", state=state, decided_at_ms=1_796_227_500_000))
        assert status == 200 and word in html and "<form" not in html and "<button" not in html
        assert '<time datetime="2026-12-02T16:05:00Z">2 December 2026 at 16:05 UTC</time>' in html


def test_form_typing() -> None:
    form = {"field:n": "12", "field:x": " -1.5e2 ", "field:s": "", "field:t": "a\r\nb", "field:e": "2"}
    assert parse_form(SCHEMA, form).data == {"n": 12, "x": -150.0, "t": "a\nb", "b": False, "e": True}
    assert parse_form(SCHEMA, {"field:n": "0", "field:b": "on", "field:e": "3"}).data == {"n": 0, "b": True, "e": None}
    assert parse_form(SCHEMA, [("field:n", "1"), ("field:n", "2"), ("n", "9")]).data == {"n": 1, "b": False}
    assert parse_form(SCHEMA, {"field:n": "3", "field:x": "7"}).data["x"] == 7  # an integral number stays an int


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ({}, {"n": "Enter n"}),
        ({"field:n": "1.5"}, {"n": "n must be a whole number, like 12"}),
        ({"field:n": "-1"}, {"n": "n must be 0 or more"}),
        ({"field:n": "1", "field:x": "nan"}, {"x": "x must be a number, like 12 or 3.5"}),
        ({"field:n": "1", "field:x": "1e999"}, {"x": "x must be a number, like 12 or 3.5"}),
        ({"field:n": "1", "field:e": "9"}, {"e": "Choose one of the options for e"}),
        (
            {"field:n": "x", "field:e": "-1"},
            {"n": "n must be a whole number, like 12", "e": "Choose one of the options for e"},
        ),
    ],
)
def test_form_errors_name_the_field(form: dict[str, str], errors: dict[str, str]) -> None:
    result = parse_form(SCHEMA, form)
    assert result.data is None and result.errors == errors


def test_field_kinds() -> None:
    kinds = [f.kind for f in form_fields(SCHEMA)]
    assert kinds == ["integer", "number", "text", "textarea", "checkbox", "radio", "select"]
    assert form_fields(None) == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string"},
        {"type": "object", "properties": {"o": {"type": "object"}}},
        {"type": "object", "properties": {"a": {"type": "array"}}},
        {"type": "object", "properties": {"u": {"type": ["string", "null"]}}},
        {"type": "object", "properties": {"r": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"type": "string"}}},
        {"type": "object", "properties": {"e": {"enum": [[1]]}}},
        {"type": "object", "properties": {"f": False}},
    ],
)
def test_schemas_outside_the_form_subset_are_invalid_input(schema: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="approval"):
        form_fields(schema)


def test_decisions() -> None:
    assert parse_decision(None, {"action": "approve"}, reason_required=False).data == {}
    assert parse_decision(None, {"action": "reject"}, reason_required=False).ok
    missing = parse_decision(None, {"action": "reject"}, reason_required=True)
    assert missing.reason_error == "Enter a reason for rejecting"
    assert parse_decision(None, {"action": "reject", "reason": " r\r\n "}, reason_required=True).reason == "r"
    too_long = parse_decision(None, {"action": "reject", "reason": "x" * 1001}, reason_required=False)
    assert too_long.reason_error and not too_long.ok
    assert not parse_decision(None, {"action": "delete"}, reason_required=False).ok
    assert decode_form_body(b"a=1&b=&field%3Ac=%C3%A9%FF") == [("a", "1"), ("b", ""), ("field:c", "é\ufffd")]
    with pytest.raises(InvalidInput):
        decode_form_body("&".join(f"f{i}=1" for i in range(500)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from([f"field:{k}" for k in SCHEMA["properties"]]), st.text(max_size=12)))
def test_any_post_types_or_errors_never_raises(form: dict[str, str]) -> None:
    result = parse_form(SCHEMA, form)
    assert (result.data is None) == bool(result.errors)
    status, _, _ = render_approval(ApprovalView(title="t", schema=SCHEMA, errors=result.errors, values=result.values))
    assert status in (200, 422)
