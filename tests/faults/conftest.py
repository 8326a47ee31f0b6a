"""The real handlers on in-process moto, with botocore-level fault injection (see harness.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_core import get_service
from waitpoints_local.lambdas import LocalFunction

from tests.bridge.conftest import TEMPLATE, Bridge, StepFunctions
from tests.in_process import deployment

from .harness import FaultInjector, install

if TYPE_CHECKING:
    from collections.abc import Iterator

RATE = 0.3
SEED = 20261123


@dataclass
class Stack:
    faults: FaultInjector
    functions: dict[str, LocalFunction]
    bridge: Bridge  # reads the table's stream as the event source mapping would
    table: str
    key: str

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.functions[name].invoke(event)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    injector = FaultInjector(RATE, SEED)
    install(monkeypatch, injector)
    with deployment(monkeypatch, TEMPLATE) as (refs, key):
        table = refs["TokensTable"]
        names = (
            "ApiFunction",
            "CallbackFunction",
            "ApprovalFunction",
            "CreateTokenFunction",
            "WaitForTokenFunction",
            "StreamFunction",
            "SweepFunction",
            "RealtimeFunction",
        )
        functions = {f.logical_id: LocalFunction(f) for f in TEMPLATE.functions() if f.logical_id in names}
        bridge = Bridge(get_service(), StepFunctions(), functions["StreamFunction"], table)
        yield Stack(injector, functions, bridge, table, key)
