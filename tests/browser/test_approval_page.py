"""The approval page in a real browser (Debian's Chromium), served by a tiny local server (page_server.py):
typed fields, a validation error and its correction, reject with a reason, XSS payloads inert under the CSP,
keyboard-only use. (test_approval_stack.py drives the same page through the local stack, and takes the
screenshot in docs/approval-page.png.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_http.pages import ApprovalView
from waitpoints_http.pages.html import document, security_headers

from .page_server import PageServer

if TYPE_CHECKING:
    from collections.abc import Iterator

REFUND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "amount": {
            "type": "integer",
            "title": "Refund amount (EUR)",
            "minimum": 1,
            "maximum": 500,
            "description": "Whole euros, at most 500.",
        },
        "rate": {"type": "number", "title": "Goodwill rate", "default": 0.5},
        "note": {"type": "string", "format": "textarea", "title": "Note to the customer", "maxLength": 400},
        "code": {"type": "string", "title": "Voucher code", "pattern": "^[A-Z]{4}$", "description": "Four capitals."},
        "priority": {"enum": ["low", "normal", "high"], "default": "normal", "title": "Priority"},
        "reason": {
            "enum": ["damaged", "late", "wrong item", "changed mind", "other"],
            "title": "Refund reason",
        },
        "notify": {"type": "boolean", "title": "E-mail the customer", "default": True},
    },
    "required": ["amount", "reason"],
}
REFUND = ApprovalView(
    title="Refund order #1042",
    description="Dana Smith asks for a refund of a damaged kettle.\nOrder total: 129 EUR, paid 2 December.",
    approve_label="Approve refund",
    reject_label="Reject",
    reason_required=True,
    schema=REFUND_SCHEMA,
)


@pytest.fixture
def server() -> Iterator[PageServer]:
    running = PageServer().start()
    yield running
    running.stop()


def test_fields_are_typed_per_schema_and_the_final_state_has_no_buttons(page: Any, server: PageServer) -> None:
    server.view = REFUND
    response = page.goto(server.url)
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Refund order #1042"
    assert page.get_by_label("Goodwill rate").input_value() == "0.5"  # the default
    assert page.get_by_label("normal").is_checked()  # enum of 3: radios, the default chosen
    assert page.get_by_label("E-mail the customer").is_checked()
    page.get_by_label("Refund amount (EUR)").fill("120")
    page.get_by_label("Goodwill rate").fill("0.75")
    page.get_by_label("Note to the customer").fill("Sorry!\nA new kettle is on its way.")
    page.get_by_label("high").check()
    page.get_by_label("Refund reason").select_option(label="late")  # enum of 5: a select
    page.get_by_label("E-mail the customer").uncheck()
    page.get_by_role("button", name="Approve refund").click()
    page.wait_for_load_state()
    assert [d.action for d in server.decisions] == ["approve"]
    assert server.decisions[0].data == {
        "amount": 120,
        "rate": 0.75,
        "note": "Sorry!\nA new kettle is on its way.",
        "priority": "high",
        "reason": "late",
        "notify": False,  # an unchecked box is false, an empty optional field (code) is left out
    }
    assert page.url == server.url  # 303 back to the page: a reload posts nothing
    assert page.locator(".state").inner_text().startswith("Approved")
    assert "2 December 2026 at 16:05 UTC" in page.locator(".state").inner_text()
    assert page.locator("button, form, input, textarea, select").count() == 0
    page.reload()
    assert len(server.decisions) == 1
    assert not page.problems, page.problems


def test_a_validation_error_re_renders_with_the_values_and_is_corrected(page: Any, server: PageServer) -> None:
    server.view = REFUND
    page.goto(server.url)
    page.get_by_label("Refund amount (EUR)").fill("900")
    page.get_by_label("Note to the customer").fill("kept <b>as typed</b>")
    page.get_by_label("Voucher code").fill("abc")
    page.get_by_label("low").check()
    page.get_by_label("E-mail the customer").uncheck()
    page.get_by_role("button", name="Approve refund").click()
    page.wait_for_load_state()
    assert server.decisions == []
    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.className") == "error-summary"  # focused, for screen readers
    messages = summary.locator("li").all_inner_texts()
    assert messages == [  # every problem at once, in field order
        "Refund amount (EUR) must be 500 or less",
        "Voucher code is not in the expected format",
        "Choose Refund reason",
    ]
    amount = page.get_by_label("Refund amount (EUR)")
    assert amount.get_attribute("aria-invalid") == "true"
    described = (amount.get_attribute("aria-describedby") or "").split()
    assert [page.locator(f"#{i}").text_content() for i in described] == [
        "Whole euros, at most 500.",
        "Error: Refund amount (EUR) must be 500 or less",
    ]
    assert amount.input_value() == "900"
    assert page.get_by_label("Note to the customer").input_value() == "kept <b>as typed</b>"
    assert page.get_by_label("low").is_checked()
    assert page.get_by_label("E-mail the customer").is_checked() is False  # as posted, not back to its default
    summary.get_by_role("link", name="Refund amount (EUR) must be 500 or less").click()
    assert page.evaluate("document.activeElement.name") == "field:amount"

    amount.fill("50")
    page.get_by_label("Refund reason").select_option(label="damaged")
    page.get_by_role("button", name="Approve refund").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary li").all_inner_texts() == ["Voucher code is not in the expected format"]
    page.get_by_label("Voucher code").fill("KTLE")
    page.get_by_role("button", name="Approve refund").click()
    page.wait_for_load_state()
    assert server.decisions[0].data["code"] == "KTLE" and server.decisions[0].data["amount"] == 50
    assert not page.problems, page.problems


def test_reject_needs_a_reason_when_the_token_says_so(page: Any, server: PageServer) -> None:
    server.view = REFUND
    page.goto(server.url)
    page.get_by_role("button", name="Reject").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary li").all_inner_texts() == ["Enter a reason for rejecting"]
    assert page.get_by_label("Reason for rejecting").get_attribute("aria-invalid") == "true"
    page.get_by_label("Reason for rejecting").fill("Outside the 30-day window.")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_load_state()
    assert [(d.action, d.reason) for d in server.decisions] == [("reject", "Outside the 30-day window.")]
    assert page.locator(".state").inner_text().startswith("Rejected")
    assert page.locator("button").count() == 0


def test_timed_out_and_not_found_pages(page: Any, server: PageServer) -> None:
    server.view = ApprovalView(title="Late", state="timed_out", decided_at_ms=1_796_227_500_000)
    page.goto(server.url)
    assert page.locator(".state").inner_text().startswith("Expired")
    assert page.locator("button").count() == 0
    response = page.goto(server.origin() + "/approval/nope")
    assert response.status == 404
    assert "does not work" in page.locator("h1").inner_text()


XSS = [
    "<script>alert('title')</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><script>alert(2)</script>",
    "<svg onload=alert(3)>",
    "'\"><iframe src=javascript:alert(4)>",
    "<style>*{display:none}</style><a href=javascript:alert(5)>x</a>",
]


def test_xss_payloads_everywhere_are_inert(page: Any, server: PageServer) -> None:
    properties: dict[str, Any] = {
        XSS[1]: {"type": "string", "title": XSS[2], "description": XSS[3], "default": XSS[4]},
        XSS[4]: {"enum": [XSS[0], XSS[5]], "title": XSS[1]},
        XSS[3]: {"enum": ["a", "b", "c", "d", XSS[2]], "description": XSS[0]},
        XSS[5]: {"type": "boolean", "title": XSS[3]},
    }
    server.view = ApprovalView(
        title=XSS[0],
        description="\n".join(XSS),
        approve_label=XSS[3],
        reject_label=XSS[1],
        schema={"type": "object", "properties": properties, "required": [XSS[4]]},
    )
    page.goto(server.url)
    assert page.locator("h1").inner_text() == XSS[0]
    assert page.locator(".description").inner_text() == "\n".join(XSS)
    assert page.locator("script, img, svg, iframe, a").count() == 0
    assert page.locator("style").count() == 1
    assert page.get_by_label(XSS[2]).input_value() == XSS[4]
    page.get_by_role("button", name=XSS[3]).click()  # approve with a required radio unchosen: errors re-rendered
    page.wait_for_load_state()
    assert page.locator(".error-summary li").count() == 1
    assert page.locator("script, img, svg, iframe").count() == 0
    page.get_by_label(XSS[5]).check()  # the option's label is the payload, as text
    page.get_by_role("button", name=XSS[3]).click()
    page.wait_for_load_state()
    assert server.decisions[0].data == {XSS[1]: XSS[4], XSS[4]: XSS[5], XSS[5]: False}
    assert page.title() == f"{XSS[0]} · Approved"
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert not page.problems, page.problems  # no dialog, no error, and no CSP violation: nothing even tried to run


def test_the_csp_blocks_what_an_escaping_bug_would_let_through(page: Any, server: PageServer) -> None:
    """Defence in depth: the same headers on a page that does carry script and style attributes."""
    unsafe = '<p id="p" style="color:red">x</p><script>window.__xss=1;alert(1)</script><img src=x onerror=alert(2)>'
    server.extra_pages["/unsafe"] = (200, security_headers(), document("unsafe", unsafe))
    page.goto(server.origin() + "/unsafe")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("getComputedStyle(document.getElementById('p')).color") != "rgb(255, 0, 0)"
    assert not [p for p in page.problems if p.startswith("dialog")]
    assert len(page.problems.csp_violations()) >= 2, page.problems  # the script and the style attribute


def _focus_order(page: Any, presses: int) -> list[str]:
    order = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        order.append(page.evaluate("(e => e.id || e.textContent.trim())(document.activeElement)"))
    return order


def test_keyboard_only_tab_order_and_enter_submits(page: Any, server: PageServer) -> None:
    server.view = REFUND
    page.goto(server.url)
    order = _focus_order(page, 10)
    # amount, rate, note, code, the priority radio group (one stop: its chosen radio), reason select, checkbox,
    # then Approve, the reject reason and Reject
    assert order == ["f1", "f2", "f3", "f4", "f5-2", "f6", "f7", "Approve refund", "reason", "Reject"], order
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # back on the select
    page.keyboard.press("ArrowDown")  # keyboard choice of the first option
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "f1"
    page.keyboard.type("42")
    with page.expect_navigation():  # the form's POST, then its answer
        page.keyboard.press("Enter")  # implicit submission: the approve form's button
    assert [(d.action, d.data["amount"], d.data["reason"]) for d in server.decisions] == [("approve", 42, "damaged")]


def test_phone_width_has_no_horizontal_scroll(page: Any, server: PageServer) -> None:
    server.view = REFUND
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(server.url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    approve = page.get_by_role("button", name="Approve refund").bounding_box()
    assert approve["width"] > 300 and approve["height"] >= 44  # full-width, finger-sized
