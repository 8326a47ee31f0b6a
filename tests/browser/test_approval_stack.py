"""The approval page in a real browser (Debian's Chromium) against `make run`'s stack (tests/local_stack.py):
approve with typed fields, reject with a reason, a validation error and its correction, a second visit after the
decision, an expired token, XSS payloads inert, keyboard-only use, link scanners that change nothing, and the
screenshot in docs/approval-page.png (WAITPOINTS_UPDATE_SCREENSHOTS=1 pytest tests/browser -k screenshot)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.local_stack import running_stack

from .test_approval_page import REFUND_SCHEMA, XSS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.stack
TOKENS = "/api/v1/waitpoints/tokens"
REFUND = {
    "title": "Refund order #1042",
    "description": "Dana Smith asks for a refund of a damaged kettle.\nOrder total: 129 EUR, paid 2 December.",
    "approveLabel": "Approve refund",
    "rejectLabel": "Reject",
    "reasonRequired": True,
}
# What link scanners and preview bots send: Outlook / Defender Safe Links, Slack's unfurler, a headless Chrome.
SCANNERS = {
    "outlook": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0 BingPreview/1.0b",
    "defender": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro) SafeLinks",
    "slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "headless-chrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with running_stack(tmp_path_factory.mktemp("approval-stack")) as values:
        headers = {"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"}
        with httpx.Client(base_url=values["WAITPOINTS_API_URL"], headers=headers, timeout=30) as client:
            yield client


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post(TOKENS, json={"timeout": "1h", **body})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def retrieve(api: httpx.Client, token_id: str) -> dict[str, Any]:
    got: dict[str, Any] = api.get(f"{TOKENS}/{token_id}").json()
    return got


def refund(api: httpx.Client) -> dict[str, Any]:
    return create(api, schema=REFUND_SCHEMA, approval=REFUND)


def test_approve_with_fields_then_a_second_visit_shows_the_decision(page: Any, api: httpx.Client) -> None:
    token = refund(api)
    response = page.goto(token["approvalUrl"])
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    assert page.locator("h1").inner_text() == "Refund order #1042"
    page.get_by_label("Refund amount (EUR)").fill("120")
    page.get_by_label("Note to the customer").fill("Sorry!\nA new kettle is on its way.")
    page.get_by_label("high").check()
    page.get_by_label("Refund reason").select_option(label="late")
    page.get_by_label("E-mail the customer").uncheck()
    page.get_by_role("button", name="Approve refund").click()
    page.wait_for_load_state()
    assert page.url == token["approvalUrl"]  # 303 back to the page
    assert page.locator(".state").inner_text().startswith("Approved")
    stored = retrieve(api, token["id"])
    assert stored["status"] == "COMPLETED" and "rejected" not in stored
    assert json.loads(stored["output"]) == {
        "amount": 120,
        "rate": 0.5,
        "note": "Sorry!\nA new kettle is on its way.",
        "priority": "high",
        "reason": "late",
        "notify": False,
    }
    page.goto(token["approvalUrl"])  # the second visit, as from the e-mail again
    assert page.locator(".state").inner_text().startswith("Approved")
    assert page.locator("button, form, input, textarea, select").count() == 0
    page.reload()
    assert retrieve(api, token["id"]) == stored
    assert not page.problems, page.problems


def test_reject_with_a_reason_after_its_validation_error(page: Any, api: httpx.Client) -> None:
    token = refund(api)
    page.goto(token["approvalUrl"])
    page.get_by_role("button", name="Reject").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary li").all_inner_texts() == ["Enter a reason for rejecting"]
    assert retrieve(api, token["id"])["status"] == "WAITING"
    page.get_by_label("Reason for rejecting").fill("Outside the 30-day window.")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_load_state()
    assert page.locator(".state").inner_text().startswith("Rejected")
    stored = retrieve(api, token["id"])
    assert stored["rejected"] is True and stored["rejectReason"] == "Outside the 30-day window."
    assert not page.problems, page.problems


def test_a_validation_error_keeps_the_values_and_its_correction_completes(page: Any, api: httpx.Client) -> None:
    token = refund(api)
    page.goto(token["approvalUrl"])
    page.get_by_label("Refund amount (EUR)").fill("900")
    page.get_by_label("Voucher code").fill("abc")
    page.get_by_role("button", name="Approve refund").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary li").all_inner_texts() == [
        "Refund amount (EUR) must be 500 or less",
        "Voucher code is not in the expected format",
        "Choose Refund reason",
    ]
    assert page.get_by_label("Refund amount (EUR)").input_value() == "900"
    assert retrieve(api, token["id"])["status"] == "WAITING"
    page.get_by_label("Refund amount (EUR)").fill("50")
    page.get_by_label("Voucher code").fill("KTLE")
    page.get_by_label("Refund reason").select_option(label="damaged")
    page.get_by_role("button", name="Approve refund").click()
    page.wait_for_load_state()
    assert page.locator(".state").inner_text().startswith("Approved")
    output = json.loads(retrieve(api, token["id"])["output"])
    assert (output["amount"], output["code"], output["reason"]) == (50, "KTLE", "damaged")


def test_an_expired_token_shows_that_it_expired(page: Any, api: httpx.Client) -> None:
    token = create(api, timeout="1s", approval={"title": "Too late"})
    time.sleep(1.2)
    page.goto(token["approvalUrl"])
    assert page.locator(".state").inner_text().startswith("Expired")
    assert page.locator("button").count() == 0
    bad = page.goto(token["approvalUrl"][:-4] + "0000")
    assert bad.status == 404 and "does not work" in page.locator("h1").inner_text()


def test_xss_payloads_in_title_description_and_field_names_are_inert(page: Any, api: httpx.Client) -> None:
    properties: dict[str, Any] = {
        XSS[1]: {"type": "string", "title": XSS[2], "description": XSS[3], "default": XSS[4]},
        XSS[5]: {"type": "boolean", "title": XSS[3]},
    }
    token = create(
        api,
        schema={"type": "object", "properties": properties},
        approval={"title": XSS[0], "description": "\n".join(XSS), "approveLabel": "Approve <b>"},
    )
    page.goto(token["approvalUrl"])
    assert page.locator("h1").inner_text() == XSS[0]
    assert page.locator(".description").inner_text() == "\n".join(XSS)
    assert page.locator("script, img, svg, iframe, a").count() == 0
    page.get_by_role("button", name="Approve <b>").click()
    page.wait_for_load_state()
    assert page.title() == f"{XSS[0]} · Approved"
    assert json.loads(retrieve(api, token["id"])["output"]) == {XSS[1]: XSS[4], XSS[5]: False}
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert not page.problems, page.problems  # no dialog, no error, no CSP violation


def test_keyboard_only(page: Any, api: httpx.Client) -> None:
    token = create(
        api,
        schema={"type": "object", "properties": {"n": {"type": "integer", "title": "How many"}}, "required": ["n"]},
        approval={"title": "Order more?"},
    )
    page.goto(token["approvalUrl"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f1"
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Approve"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator(".state").inner_text().startswith("Approved")
    assert json.loads(retrieve(api, token["id"])["output"]) == {"n": 7}


def test_link_scanners_and_a_full_page_load_leave_the_token_waiting(browser: Any, api: httpx.Client) -> None:
    token = refund(api)
    url = token["approvalUrl"]
    with httpx.Client(timeout=30, follow_redirects=True) as scanner:
        for _ in range(10):
            for agent in SCANNERS.values():
                headers = {"User-Agent": agent, "Accept": "text/html,*/*"}
                assert scanner.get(url, headers=headers).status_code == 200
                assert scanner.head(url, headers=headers).status_code == 200
    for agent in (SCANNERS["headless-chrome"], SCANNERS["outlook"]):  # a real browser loads it fully, twice
        context = browser.new_context(user_agent=agent)
        tab = context.new_page()
        for _ in range(2):
            tab.goto(url, wait_until="networkidle")
            assert tab.get_by_role("button", name="Approve refund").is_visible()
        context.close()
    stored = retrieve(api, token["id"])
    assert stored["status"] == "WAITING" and "output" not in stored


def test_screenshot(page: Any, api: httpx.Client, screenshot_dir: Path) -> None:
    """docs/approval-page.png from the real stack: WAITPOINTS_UPDATE_SCREENSHOTS=1 pytest tests/browser -k screenshot"""
    token = refund(api)
    page.set_viewport_size({"width": 760, "height": 900})
    page.goto(token["approvalUrl"])
    target = screenshot_dir / "approval-page.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
