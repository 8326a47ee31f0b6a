"""Debian's Chromium driven by Playwright for Python: what every browser test package's `browser` fixture opens.

Playwright's own browser download (`playwright install`) is never used: the browser is the system's Chromium,
`/usr/bin/chromium` (`apt-get install chromium`; `make test` runs tests/browser/ensure_chromium.sh first), or the
executable named by WAITPOINTS_CHROMIUM. A missing browser is a test failure that says what to install, never a skip.

Open it from a package-scoped fixture, never a session-scoped one: Playwright's sync API runs an event loop on the
main thread while it is open, and one left open for the session breaks every asyncio test that runs after it.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

CHROMIUM = os.environ.get("WAITPOINTS_CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = (
    "apt-get install chromium (as root; `make test` does it for you when run as root), or set WAITPOINTS_CHROMIUM "
    "to a Chromium or Chrome executable"
)


def chromium_path() -> str:
    found = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not found or not os.access(found, os.X_OK):
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM}, and it is not there: {INSTALL_HINT}", False)
    return found


@contextmanager
def launched() -> Iterator[Any]:
    """A headless Chromium (`--no-sandbox`: the tests may run as root), closed with Playwright afterwards."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev.txt pins it
        pytest.fail("The browser tests need Playwright for Python: pip install -r requirements-dev.txt", False)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"], headless=True)
        except Exception as exc:
            pytest.fail(f"Chromium at {executable} did not start ({exc}); {INSTALL_HINT}", False)
        try:
            yield chromium
        finally:
            chromium.close()
