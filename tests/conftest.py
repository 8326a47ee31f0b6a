"""Shared test helpers: the sample API Gateway events in events/."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


def read_event(name: str) -> dict[str, Any]:
    """A fresh copy of `events/<name>.json` (tests may mutate it freely)."""
    return copy.deepcopy(json.loads((EVENTS_DIR / f"{name}.json").read_text()))


@pytest.fixture
def load_event() -> Callable[[str], dict[str, Any]]:
    """`load_event("api_create_token")` → the parsed event, a new copy on every call."""
    return read_event


# `make unit` runs `-m "not stack and not slow"`. A test is marked `stack` by its folder (these start a local stack,
# make, sam or the bench) or by asking for the SDK's session stack; mark a new one by hand elsewhere.
_STACK_FOLDERS = ("blackbox", "local", "bench", "deploy")
_STACK_FIXTURES = {"sdk_stack", "local_state"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        folder = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        if folder in _STACK_FOLDERS or _STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stack)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test`'s two pytest-xdist workers take whole test folders: a folder's tests stay on one worker, so each
    folder's session fixtures (its local stack, its npm packages, its token population) are made once. (xdist's
    own `--dist loadgroup` renames node ids, which pytest 9 no longer lets it do.)"""
    from xdist.scheduler import LoadScopeScheduling

    class FolderScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            parts = nodeid.split("/")
            return parts[1] if len(parts) > 2 else "top"  # tests/<folder>/…, or a module at the top of tests/

    return FolderScheduling(config, log)
