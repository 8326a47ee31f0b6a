"""Trigger.dev's React hooks in a real browser: `useWaitToken` completes a token of the local stack from Chromium.

tests/react_hooks/page.jsx is a page a Trigger.dev user could write: it calls `useWaitToken(tokenId, {accessToken,
baseURL})` from @trigger.dev/react-hooks 4.8.3 with the token's `publicAccessToken`, and its "Complete" button calls
`complete({approved: true, comment})`; it gets the token from its own server (token.json), as an app's page
would. The test installs the pinned packages with `npm ci` (once, into
tests/react_hooks/node_modules), bundles the page with the pinned esbuild into one file in a tmp dir, serves it from
a server of its own on another port (so the browser's request to the API is cross-origin, with a CORS preflight, as
an app's is), and drives it in Debian's Chromium. It then reads the token back over HTTP with the secret key.

Skipped only when node or npm is missing (as tests/sdk/test_trigger_sdk_ts.py); a missing Chromium or Playwright
is a failure that says what to install (tests/chromium.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests import chromium
from tests.local_stack import REPO, running_stack

if TYPE_CHECKING:
    from collections.abc import Iterator

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture fails with what to install
    expect = None

HOOKS_DIR = Path(__file__).resolve().parent
TOKENS = "/api/v1/waitpoints/tokens"
COMMENT = "Ship it, from Chromium"


@dataclass(frozen=True)
class Stack:
    url: str
    key: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def create(self, **body: Any) -> dict[str, Any]:
        with self.client() as client:
            response = client.post(TOKENS, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def retrieve(self, token_id: str) -> dict[str, Any]:
        with self.client() as client:
            response = client.get(f"{TOKENS}/{token_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`make run`'s stack on a free port, or the one WAITPOINTS_API_URL and WAITPOINTS_SECRET_KEY name."""
    if os.environ.get("WAITPOINTS_API_URL") and os.environ.get("WAITPOINTS_SECRET_KEY"):
        yield Stack(os.environ["WAITPOINTS_API_URL"].rstrip("/"), os.environ["WAITPOINTS_SECRET_KEY"])
        return
    state = tmp_path_factory.mktemp("react-hooks-stack")
    with running_stack(state) as values:
        yield Stack(values["WAITPOINTS_API_URL"], values["WAITPOINTS_SECRET_KEY"])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding page.html and page.js (page.jsx with React and the hooks, bundled by esbuild)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to bundle the @trigger.dev/react-hooks page")
    hooks = HOOKS_DIR / "node_modules" / "@trigger.dev" / "react-hooks" / "package.json"
    if not hooks.exists():
        # --ignore-scripts: esbuild's postinstall only checks its binary (the optional @esbuild/<platform> package).
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--include=dev", "--ignore-scripts"],
            cwd=HOOKS_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert install.returncode == 0, f"npm ci failed:\n{install.stdout}\n{install.stderr}"
    assert json.loads(hooks.read_text())["version"] == "4.8.3"
    out = tmp_path_factory.mktemp("react-hooks-page")
    build = subprocess.run(
        [
            str(HOOKS_DIR / "node_modules" / ".bin" / "esbuild"),
            "page.jsx",
            "--bundle",
            f"--outfile={out / 'page.js'}",
            "--format=esm",
            "--platform=browser",
            "--jsx=automatic",
            '--define:process.env.NODE_ENV="production"',
            # @s2-dev/streamstore (a dependency of @trigger.dev/core) imports node:http2 lazily, for Node alone; it
            # marks the import for webpack and Vite to leave alone, and this is the same for esbuild.
            "--external:node:http2",
            "--log-level=warning",
        ],
        cwd=HOOKS_DIR,
        env={"PATH": f"{Path(node).parent}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(HOOKS_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, f"esbuild failed:\n{build.stdout}\n{build.stderr}"
    assert build.stderr == "", build.stderr  # no warning either
    shutil.copy(HOOKS_DIR / "page.html", out / "page.html")
    return out


@dataclass
class PageServer:
    """The app's own origin on 127.0.0.1: the bundle's directory, and token.json (what the test set in `token`, as
    the app's server would hand its page the token to complete). Records every path asked for."""

    root: Path
    token: dict[str, str] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                if self.path != "/token.json":
                    super().do_GET()
                    return
                body = json.dumps(server.token).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(self.root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def page_server(bundle: Path) -> Iterator[PageServer]:
    server = PageServer(bundle)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium.launched() as launched:
        yield launched


@dataclass
class Recorder:
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, url), as the context saw them
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 900, "height": 420}, device_scale_factor=1)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    recorder = Recorder()
    context.on("request", lambda r: recorder.requests.append((r.method, r.url)))
    tab.on("console", lambda m: recorder.console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda error: recorder.page_errors.append(str(error)))
    tab.recorder = recorder
    try:
        yield tab
    finally:
        context.close()


def page_url(server: PageServer, stack: Stack, token_id: str, access_token: str) -> str:
    server.paths.clear()
    server.token = {"tokenId": token_id, "accessToken": access_token, "baseURL": stack.url}
    return f"{server.origin}/page.html"


def origins(recorder: Recorder) -> set[str]:
    return {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for _, url in recorder.requests}


@pytest.mark.stack
def test_use_wait_token_completes_the_token_with_its_public_access_token(
    page: Any, page_server: PageServer, stack: Stack, tmp_path: Path
) -> None:
    token = stack.create(timeout="1h", tags=["react-hooks"])
    page.goto(page_url(page_server, stack, token["id"], token["publicAccessToken"]))
    state = page.locator("#state")
    expect(state).to_have_attribute("data-state", "waiting")
    expect(page.locator("#token-id")).to_have_text(token["id"])
    page.get_by_label("Comment").fill(COMMENT)
    with page.expect_response(lambda r: r.request.method == "POST") as completion:
        page.get_by_role("button", name="Complete").click()
    expect(state).to_have_attribute("data-state", "completed")
    expect(state).to_have_text("Completed")
    expect(page.get_by_role("button", name="Complete")).to_be_disabled()
    screenshot = tmp_path / "use-wait-token.png"
    page.screenshot(path=str(screenshot))
    print(f"screenshot: {screenshot}")  # pytest -s shows where

    # What went over the wire: the SDK's own request, cross-origin, answered with CORS headers for the page.
    response = completion.value
    assert response.url == f"{stack.url}{TOKENS}/{token['id']}/complete" and response.status == 200
    sent = response.request
    assert sent.headers["authorization"] == f"Bearer {token['publicAccessToken']}"
    assert sent.headers["x-trigger-client"] == "browser"  # the SDK's browser path: custom headers, so a preflight
    assert json.loads(sent.post_data) == {"data": {"approved": True, "comment": COMMENT}}
    assert response.headers["access-control-allow-origin"] == page_server.origin
    assert response.json() == {"success": True}

    stored = stack.retrieve(token["id"])
    assert stored["status"] == "COMPLETED"
    assert (json.loads(stored["output"]), stored["outputType"]) == (
        {"approved": True, "comment": COMMENT},
        "application/json",
    )
    assert stored["audit"]["door"] == "public_access_token" and stored["audit"]["action"] == "complete"
    assert "HeadlessChrome" in stored["audit"]["userAgent"]

    recorder = page.recorder
    assert recorder.console_errors == [] and recorder.page_errors == []
    assert origins(recorder) == {page_server.origin, stack.url}, recorder.requests
    assert [m for m, url in recorder.requests if url.startswith(stack.url)] == ["POST"]
    assert page_server.paths == ["/page.html", "/page.js", "/token.json"]


@pytest.mark.stack
def test_use_wait_token_shows_the_apis_error_and_the_token_keeps_waiting(
    page: Any, page_server: PageServer, stack: Stack
) -> None:
    """Another token's public access token: the API's 403 reaches the page (CORS headers on errors too) as the
    SDK's PermissionDeniedError, which `useWaitToken` returns as `error`; the token is untouched."""
    token, other = stack.create(timeout="1h"), stack.create(timeout="1h")
    page.goto(page_url(page_server, stack, token["id"], other["publicAccessToken"]))
    expect(page.locator("#state")).to_have_attribute("data-state", "waiting")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#state")).to_have_attribute("data-state", "error")
    expect(page.get_by_role("alert")).to_have_text(
        "TriggerApiError: This public access token is not allowed to complete this waitpoint"
    )
    assert stack.retrieve(token["id"])["status"] == "WAITING"
    recorder = page.recorder
    assert origins(recorder) == {page_server.origin, stack.url}
    # Chromium logs the 403; and the hook's `complete` calls SWR's `trigger` without catching what it throws (its
    # source, hooks/useWaitToken.js), so the rejection is also uncaught: what any app using the hook sees.
    assert recorder.console_errors == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]
    assert recorder.page_errors == ["This public access token is not allowed to complete this waitpoint"]


def test_readme_shows_the_hook_as_the_page_uses_it() -> None:
    """README's useWaitToken snippet is page.jsx's own lines (the page the tests above run), in the page's order;
    a line `// …` stands for lines left out."""
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"```jsx\n([^`]*useWaitToken[^`]*)```", readme)
    assert snippet is not None, "README has no ```jsx snippet using useWaitToken"
    page = iter(line.strip() for line in (HOOKS_DIR / "page.jsx").read_text().splitlines())
    for line in (line.strip() for line in snippet.group(1).splitlines()):
        if line and line != "// …":
            assert line in page, f"README's snippet line is not in tests/react_hooks/page.jsx (in order): {line}"
