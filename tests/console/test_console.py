"""The operator console (issue 17) in Chromium against a local stack: sign in, filter, page, open, complete with
JSON, bad JSON refused before anything is sent, the later operator routes shown as not available until the
server has them, sign out; a wrong key; another environment's tokens never shown. The screenshots README uses
are taken here (WAITPOINTS_CONSOLE_SCREENSHOTS=1 writes them to docs/)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from waitpoints_local.stepfunctions import waiting_machine

from tests.local_stack import REPO

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import ConsoleStack

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture fails with what to install
    expect = None

TOKENS = "/api/v1/waitpoints/tokens"
KEY_STORAGE = "waitpoints.console.secretKey"
CALLBACK_ID = "Y29uc29sZS13YWl0ZXItY2FsbGJhY2staWQ" + "Q" * 20  # the shape of a durable callback id


@pytest.fixture(scope="module")
def seeded(console_stack: ConsoleStack) -> dict[str, Any]:
    """Tokens of both environments; the other environment's share every tag and the idempotency key."""
    stack = console_stack
    pager = [stack.create(tags=["pager", "ops"], timeout="2h")["id"] for _ in range(6)]
    approval = stack.create(tags=["approval", "billing"], timeout="1h", idempotencyKey="invoice-2041")["id"]
    attach_waiters(stack, approval)
    done = stack.create(tags=["approval"], timeout="2d")["id"]
    with stack.client() as client:
        assert client.post(f"{TOKENS}/{done}/complete", json={"data": {"approved": True, "by": "ana"}}).is_success
    stack.create(tags=["nightly"], timeout="1s")
    stack.create(tags=["replicate"], timeout="30m")
    other = [
        stack.create(stack.other_key, tags=["pager", "ops", "approval"], idempotencyKey="invoice-2041")["id"]
        for _ in range(3)
    ]
    return {"pager": pager, "approval": approval, "done": done, "other": other}


def attach_waiters(stack: ConsoleStack, token_id: str) -> None:
    """Two workflows wait on the token: a Step Functions execution (through the stack's WaitForTokenFunction, as
    `waitForTaskToken` calls it) and a durable function's callback id, attached through the same function."""
    sfn = stack.aws("stepfunctions")
    sfn.start_execution(stateMachineArn=waiting_machine(sfn, "console"), input=json.dumps({"id": token_id}))
    deadline = time.monotonic() + 120
    while len(stack.retrieve(token_id)["waiters"]) < 1:
        assert time.monotonic() < deadline, "the workflow never attached"
        time.sleep(0.1)
    payload = json.dumps({"callbackId": CALLBACK_ID, "waitpointId": token_id}).encode()
    answer = stack.aws("lambda").invoke(FunctionName="waitpoints-WaitForTokenFunction", Payload=payload)
    assert json.loads(answer["Payload"].read())["result"] == "attached"


def settled(token: dict[str, Any]) -> bool:
    """Both waiters resumed: only the durable one is left, marked resumed."""
    return [(w["kind"], "resumedAt" in w) for w in token["waiters"]] == [("durable", True)]


def sign_in(page: Any, stack: ConsoleStack, key: str | None = None) -> None:
    page.goto(f"{stack.url}/console")
    page.get_by_label("Secret key").fill(key or stack.key)
    page.get_by_role("button", name="Sign in").click()


def rows(page: Any) -> list[str]:
    page.wait_for_selector("#results-heading")
    return page.locator("a.token-link").all_text_contents()


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.tagName + ' ' + document.activeElement.textContent.trim()"))


def no_other_env(page: Any, seeded: dict[str, Any]) -> None:
    content = page.content()
    for token_id in seeded["other"]:
        assert token_id not in content


def screenshot_path(tmp_path: Path, name: str) -> Path:
    if os.environ.get("WAITPOINTS_CONSOLE_SCREENSHOTS") == "1":
        return REPO / "docs" / name
    return tmp_path / name


def test_the_page_and_its_assets_have_strict_headers(console_stack: ConsoleStack) -> None:
    page = httpx.get(f"{console_stack.url}/console")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    for directive in (
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text and " style=" not in page.text and "http" not in page.text.split("<body>")[1]
    asset = httpx.get(f"{console_stack.url}/console/assets/app.js")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")
    assert asset.headers["content-security-policy"] == csp and asset.headers["x-content-type-options"] == "nosniff"
    again = httpx.get(f"{console_stack.url}/console/assets/app.js", headers={"If-None-Match": asset.headers["etag"]})
    assert again.status_code == 304 and not again.content
    for name in ("nope.js", "..%2Fapp.py", "app.py", "index.html"):
        assert httpx.get(f"{console_stack.url}/console/assets/{name}").status_code == 404


def test_a_wrong_key_shows_a_clear_message_and_stores_nothing(page: Any, console_stack: ConsoleStack) -> None:
    sign_in(page, console_stack, "wp_dev_" + "x" * 43)
    alert = page.locator("#signin-error")
    expect(alert).to_contain_text("not accepted")
    assert page.get_by_label("Secret key").get_attribute("aria-invalid") == "true"
    assert focused(page).startswith("INPUT")
    assert page.evaluate(f"sessionStorage.getItem('{KEY_STORAGE}')") is None
    page.get_by_label("Secret key").fill("")
    page.get_by_role("button", name="Sign in").click()
    expect(alert).to_contain_text("Paste a secret key")


def test_sign_in_filter_page_open_complete_and_sign_out(
    page: Any, console_stack: ConsoleStack, seeded: dict[str, Any], tmp_path: Path
) -> None:
    stack = console_stack
    sign_in(page, stack)
    listed = rows(page)
    assert page.locator("#env").inner_text() == "Environment dev"
    assert focused(page) == "H1 Tokens"  # focus moves to the new view's heading
    assert page.evaluate(f"sessionStorage.getItem('{KEY_STORAGE}')") == stack.key
    assert page.evaluate("localStorage.length") == 0 and page.evaluate("document.cookie") == ""
    assert set(seeded["pager"]) <= set(listed) and seeded["done"] in listed
    no_other_env(page, seeded)
    page.screenshot(path=str(screenshot_path(tmp_path, "console-list.png")), full_page=True)

    # Filter by tag, 5 a page: two pages, next then previous.
    page.get_by_label("Tags").fill("pager")
    page.get_by_label("Per page").select_option("5")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function("location.hash.includes('tags=pager')")
    first = rows(page)
    assert len(first) == 5 and set(first) <= set(seeded["pager"])
    assert focused(page) == "H2 5 tokens on this page"  # focus goes to the results, not back to the top
    no_other_env(page, seeded)
    page.get_by_role("link", name="Next →").click()
    page.wait_for_function("location.hash.includes('after=')")
    second = rows(page)
    assert len(second) == 1 and set(first) | set(second) == set(seeded["pager"])
    page.get_by_role("link", name="← Previous").click()
    page.wait_for_function("location.hash.includes('before=')")
    assert rows(page) == first
    page.go_back()  # the hash holds the view: back returns to page two
    page.wait_for_function("location.hash.includes('after=')")
    assert rows(page) == second

    # Status and idempotency-key filters.
    page.goto(f"{stack.url}/console#/tokens")
    rows(page)
    page.get_by_label("COMPLETED").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function("location.hash.includes('status=COMPLETED')")
    completed = rows(page)
    assert seeded["done"] in completed and not set(completed) & set(seeded["pager"])
    page.get_by_role("link", name="Clear").click()
    page.wait_for_function("!location.hash.includes('status')")
    page.get_by_label("Idempotency key").fill("invoice-2041")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function("location.hash.includes('key=invoice-2041')")
    assert rows(page) == [seeded["approval"]]
    no_other_env(page, seeded)

    # Created period / from / to: an hour back keeps the tokens, a window in the past has none.
    page.get_by_role("link", name="Clear").click()
    page.wait_for_function("location.hash === '#/tokens'")
    page.get_by_label("Created within").select_option("1h")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function("location.hash.includes('period=1h')")
    assert seeded["approval"] in rows(page)
    page.get_by_role("link", name="Clear").click()
    page.wait_for_function("location.hash === '#/tokens'")
    page.get_by_label("Created from").fill("2020-01-01T00:00")
    page.get_by_label("Created to").fill("2020-01-02T00:00")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function("location.hash.includes('from=2020')")
    assert rows(page) == [] and page.locator("#results-heading").inner_text() == "No tokens match"

    # Open one.
    page.get_by_role("link", name="Clear").click()
    page.wait_for_function("location.hash === '#/tokens'")
    page.get_by_label("Idempotency key").fill("invoice-2041")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function("location.hash.includes('key=invoice-2041')")
    rows(page)
    page.get_by_role("link", name=seeded["approval"]).click()
    page.wait_for_selector("#actions-heading")
    assert focused(page) == f"H1 {seeded['approval']}"
    assert "invoice-2041" in page.locator("dl.fields").first.inner_text()
    assert "No output yet" in page.locator("#s-output").locator("..").inner_text()

    # Its waiters: each by kind, the digest of its handle and when it attached; never the handle.
    waiters = page.locator("#s-waiters").locator("..")
    expect(waiters.locator("ol.waiters > li")).to_have_count(2)
    text = waiters.inner_text()
    assert "Step Functions task" in text and "Lambda durable callback" in text
    assert hashlib.sha256(CALLBACK_ID.encode()).hexdigest()[:12] in text
    assert text.count("Not yet: waiting on this token") == 2 and "Attached" in text
    assert CALLBACK_ID not in page.content()

    # Bad JSON is refused in the page: no request leaves, no dialog opens.
    editor = page.get_by_label("Output (JSON)")
    editor.fill('{"approved": tru}')
    before = len(page.recorder.requests)
    page.get_by_role("button", name="Complete…").click()
    error = page.locator("#complete-error")
    expect(error).to_contain_text("Not valid JSON")
    expect(error).to_contain_text("Nothing was sent")
    assert editor.get_attribute("aria-invalid") == "true" and focused(page).startswith("TEXTAREA")
    assert not page.locator("dialog#confirm").evaluate("d => d.open")
    page.wait_for_timeout(300)
    assert page.recorder.posts_to("/complete") == [] and len(page.recorder.requests) == before

    # Good JSON: a native dialog asks first; Cancel sends nothing and gives focus back.
    editor.fill('{"approved": true, "by": "ops@example.com", "note": "looks right"}')
    page.get_by_role("button", name="Format").click()
    assert editor.input_value().startswith('{\n  "approved": true')
    page.get_by_role("button", name="Complete…").click()
    dialog = page.locator("dialog#confirm")
    assert dialog.evaluate("d => d.open") and "Complete this token?" in dialog.inner_text()
    assert '"by": "ops@example.com"' in page.locator("#confirm-preview").inner_text()
    page.keyboard.press("Escape")
    assert not dialog.evaluate("d => d.open")
    assert focused(page) == "BUTTON Complete…"
    assert page.recorder.posts_to("/complete") == []
    page.get_by_role("button", name="Complete…").click()
    dialog.get_by_role("button", name="Complete").click()
    expect(page.locator(".notice.success")).to_contain_text("The token is now COMPLETED")
    assert focused(page).startswith("P Complete: done")
    assert len(page.recorder.posts_to(f"/{seeded['approval']}/complete")) == 1
    assert page.locator(".page-head .badge").inner_text() == "COMPLETED"
    output = page.locator("pre[aria-label=Output]").inner_text()
    assert json.loads(output) == {"approved": True, "by": "ops@example.com", "note": "looks right"}
    assert output.startswith('{\n  "approved": true,')  # pretty-printed
    with stack.client() as client:
        stored = client.get(f"{TOKENS}/{seeded['approval']}").json()
    assert stored["status"] == "COMPLETED" and json.loads(stored["output"])["by"] == "ops@example.com"
    # The completion resumes both (inline, before it answers, or the stream just after): the execution's waiter is
    # deleted, the durable one stays, marked resumed. The page shows them as its retrieve found them.
    assert "Lambda durable callback" in waiters.inner_text()
    deadline = time.monotonic() + 120
    while not settled(stack.retrieve(seeded["approval"])):
        assert time.monotonic() < deadline, "the waiters were never resumed"
        time.sleep(0.1)
    if waiters.locator("ol.waiters > li").count() != 1:  # the stream resumed them: read the token again
        page.reload()
        page.wait_for_selector("#s-waiters")
    expect(waiters.locator("ol.waiters > li")).to_have_count(1)
    assert "Lambda durable callback" in waiters.inner_text() and "Not yet" not in waiters.inner_text()
    page.screenshot(path=str(screenshot_path(tmp_path, "console-token.png")), full_page=True)

    # Another environment's token is not found, even by its exact URL.
    page.goto(f"{stack.url}/console#/tokens/{seeded['other'][0]}")
    expect(page.locator("h1")).to_have_text("Token not found")

    # Sign out: the key leaves the tab, and a reload asks for it again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    expect(page.locator(".notice")).to_contain_text("Signed out")
    assert page.evaluate(f"sessionStorage.getItem('{KEY_STORAGE}')") is None
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()


def _routes(stack: ConsoleStack) -> set[str]:
    document = httpx.get(f"{stack.url}/api/v1/openapi.json").json()
    return {f"{m} {p}" for p, ops in document["paths"].items() for m in ops}


@pytest.mark.parametrize(
    ("action", "suffix", "button", "confirm"),
    [
        ("Reject", "reject", "Reject…", "Reject"),
        ("Force timeout", "timeout", "Force timeout…", "Force timeout"),
        ("Extend", "extend", "Extend…", "Extend"),
    ],
)
def test_the_later_operator_actions_work_or_say_they_are_not_available(
    page: Any, console_stack: ConsoleStack, action: str, suffix: str, button: str, confirm: str
) -> None:
    """Reject, force timeout and extend come with the operator API. Until the server has a route, the console
    says so (from the OpenAPI document) and, when asked anyway, turns the gateway's 404/405 into the same
    message; once the route exists, the action runs behind the dialog and the page shows the new state."""
    stack = console_stack
    token = stack.create(tags=["later"], timeout="1h")["id"]
    has_route = f"post {TOKENS}/{{id}}/{suffix}" in _routes(stack)
    if not has_route:  # pretend the document lists the route, to reach the server's own answer
        document = httpx.get(f"{stack.url}/api/v1/openapi.json").json()
        document["paths"][f"{TOKENS}/{{id}}/{suffix}"] = {"post": {"responses": {"200": {}}}}
        page.route("**/api/v1/openapi.json", lambda route: route.fulfill(json=document))
    sign_in(page, stack)
    rows(page)
    page.goto(f"{stack.url}/console#/tokens/{token}")
    page.wait_for_selector("#actions-heading")
    if suffix == "reject":
        page.get_by_label("Reason").fill("Budget exceeded")
    if suffix == "extend":
        page.get_by_label("New timeout").fill("not a time")
        page.get_by_role("button", name=button).click()
        expect(page.locator("#extend-error")).to_contain_text("Not a duration")
        assert page.recorder.posts_to("/extend") == []
        page.get_by_label("New timeout").fill("3h")
    page.get_by_role("button", name=button).click()
    page.locator("dialog#confirm").get_by_role("button", name=confirm, exact=True).click()
    if has_route:
        expect(page.locator(".notice.success")).to_contain_text("Extended" if suffix == "extend" else "done")
        with stack.client() as client:
            after = client.get(f"{TOKENS}/{token}").json()
        expected = {"reject": "COMPLETED", "timeout": "TIMED_OUT", "extend": "WAITING"}[suffix]
        assert after["status"] == expected
    else:
        expect(page.locator(".notice.error")).to_have_text(
            re.compile(rf"{action} is not available on this server yet \(HTTP 40[45]\)")
        )
        section = page.locator(f"section[aria-labelledby=a-{suffix}]")
        assert "Not available on this server yet." in section.inner_text()
        with stack.client() as client:
            assert client.get(f"{TOKENS}/{token}").json()["status"] == "WAITING"
    assert len(page.recorder.posts_to(f"/{token}/{suffix}")) == 1


@pytest.mark.parametrize("page", [{"width": 390, "height": 844}], indirect=True)
def test_readable_on_a_phone(page: Any, console_stack: ConsoleStack, seeded: dict[str, Any]) -> None:
    sign_in(page, console_stack)
    rows(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the list scrolls sideways on a phone ({width}px)"
    assert page.locator("details.filters-card").evaluate("d => !d.open")  # filters folded until asked for
    page.get_by_role("link", name=seeded["done"]).click()
    page.wait_for_selector("#s-fields")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert "ana" in page.locator("pre[aria-label=Output]").inner_text()
    no_other_env(page, seeded)


def test_an_open_token_updates_live_when_it_completes(page: Any, console_stack: ConsoleStack) -> None:
    """The page names the WebSocket API (a meta tag; the CSP's connect-src allows exactly it) and the open token
    re-renders when it is completed elsewhere, with no reload."""
    stack = console_stack
    html = httpx.get(f"{stack.url}/console")
    ws_url = re.search(r'<meta name="waitpoints-ws-url" content="([^"]+)">', html.text)
    assert ws_url and ws_url.group(1).startswith("ws://127.0.0.1:")
    assert f"connect-src 'self' {ws_url.group(1)};" in html.headers["content-security-policy"]
    token = stack.create(timeout="1h", description="Waiting for approval")["id"]
    sign_in(page, stack)
    rows(page)
    page.goto(f"{stack.url}/console#/tokens/{token}")
    page.wait_for_selector("#actions-heading")
    page.wait_for_timeout(3000)  # the page has subscribed
    with stack.client() as client:
        assert client.post(f"{TOKENS}/{token}/complete", json={"data": {"by": "someone else"}}).status_code == 200
    # The transition reaches the page behind the stream's earlier records (each creation's, each completion's).
    expect(page.get_by_text("Updated live: completed.")).to_be_visible(timeout=60_000)
    expect(page.locator(".page-head .badge")).to_contain_text("COMPLETED")
    expect(page.locator("pre.code").first).to_contain_text("someone else")
    expect(page.locator("dl.fields").first).to_contain_text("Waiting for approval")  # the description is shown
