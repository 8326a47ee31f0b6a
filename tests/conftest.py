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
