"""Browser-test fixtures (issue 15): Debian's Chromium driven by Playwright for Python.

Playwright's own browser download (`playwright install`) is never used: the browser is the system's Chromium,
`/usr/bin/chromium` (`apt-get install chromium`), or the executable named by WAITPOINTS_CHROMIUM. A missing browser
is a test failure that says what to install, never a skip (`make test` installs it first when it can:
tests/browser/ensure_chromium.sh).

Fixtures:
- `browser`: one Chromium for this package (tests/chromium.py).
- `page`: a fresh context and page per test (a 1000x800 viewport, JavaScript on, as a person's browser has it),
  with `page.problems`: every dialog opened, every console error (CSP violations are reported there; an HTTP
  error status is not a problem) and every uncaught page error, recorded for `assert not page.problems`-style
  checks. A dialog is dismissed at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests import chromium

if TYPE_CHECKING:
    from collections.abc import Iterator

_HTTP_STATUS_MESSAGE = "Failed to load resource: the server responded with a status of"


class Problems(list[str]):
    """What a page did that a safe page never does: dialogs, console errors, uncaught errors."""

    def csp_violations(self) -> list[str]:
        return [p for p in self if "Content Security Policy" in p]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with chromium.launched() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 800}, java_script_enabled=True)
    tab = context.new_page()
    problems = Problems()

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)

    def on_console(message: Any) -> None:
        # An error status (422 re-render, 404) is logged as a console error by Chromium: that is not a page problem.
        if message.type == "error" and not message.text.startswith(_HTTP_STATUS_MESSAGE):
            problems.append(f"console: {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.problems = problems
    yield tab
    context.close()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where a test writes its screenshots: tmp, or docs/ when WAITPOINTS_UPDATE_SCREENSHOTS=1."""
    if os.environ.get("WAITPOINTS_UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs"
    return tmp_path
