"""The console in a real browser: Playwright for Python driving Debian's Chromium, against a local stack.

Never skipped: a missing Playwright or Chromium fails with what to install. Every page records its requests and
Content-Security-Policy violations, and each test ends by checking there were none outside the loopback stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests import chromium
from tests.local_stack import admin, running_stack

if TYPE_CHECKING:
    from collections.abc import Iterator

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Runs before the page's own scripts; Playwright injects it past the CSP, which is what lets it listen.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@dataclass
class ConsoleStack:
    url: str
    key: str
    other_key: str  # a secret key of a second environment
    state_dir: Path
    aws_endpoint: str  # the stack's emulated AWS

    def aws(self, service: str) -> Any:
        """A boto3 client for the stack's emulated AWS (to start a workflow, to attach a durable callback)."""
        import boto3

        fake = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return boto3.client(service, endpoint_url=self.aws_endpoint, **fake)

    def client(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key or self.key}"}, timeout=30)

    def create(self, key: str | None = None, **body: Any) -> dict[str, Any]:
        with self.client(key) as client:
            response = client.post("/api/v1/waitpoints/tokens", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def retrieve(self, token_id: str) -> dict[str, Any]:
        with self.client() as client:
            response = client.get(f"/api/v1/waitpoints/tokens/{token_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    state = tmp_path_factory.mktemp("console-stack")
    with running_stack(state) as values:
        minted = admin("api_keys", state, "--env", "console-other")
        assert minted.returncode == 0, minted.stderr
        yield ConsoleStack(
            values["WAITPOINTS_API_URL"],
            values["WAITPOINTS_SECRET_KEY"],
            minted.stdout.strip(),
            state,
            values["AWS_ENDPOINT_URL"],
        )


@dataclass
class Recorder:
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, url)
    console_errors: list[str] = field(default_factory=list)

    def posts_to(self, suffix: str) -> list[str]:
        return [url for method, url in self.requests if method == "POST" and urlsplit(url).path.endswith(suffix)]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with chromium.launched() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, console_stack: ConsoleStack, request: pytest.FixtureRequest) -> Iterator[Any]:
    viewport = getattr(request, "param", {"width": 1280, "height": 860})
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    context.add_init_script(CSP_LISTENER)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    recorder = Recorder()
    tab.on("request", lambda r: recorder.requests.append((r.method, r.url)))
    tab.on("console", lambda m: recorder.console_errors.append(m.text) if m.type == "error" else None)
    tab.recorder = recorder
    try:
        yield tab
        violations = tab.evaluate("window.__cspViolations || []")
        assert violations == [], f"Content-Security-Policy violations: {violations}"
        csp_messages = [m for m in recorder.console_errors if "Content Security Policy" in m]
        assert csp_messages == [], csp_messages
        for method, url in recorder.requests:
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and parts.hostname in LOOPBACK, f"{method} {url} left the stack"
    finally:
        context.close()
