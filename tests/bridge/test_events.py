"""The sample events of the bridge functions are accepted by their real handlers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from waitpoints_core import CreateTokenRequest
from waitpoints_local.lambdas import LocalFunction
from waitpoints_local.streams import matches

from .conftest import TEMPLATE, Bridge

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _event(name: str, token_id: str = "") -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text().replace("waitpoint_REPLACE_ME_25_CHARACTERS", token_id))


def _function(logical_id: str) -> LocalFunction:
    return LocalFunction(next(f for f in TEMPLATE.functions() if f.logical_id == logical_id))


def test_wait_for_token_event(bridge: Bridge) -> None:
    token_id = bridge.service.tokens.create("dev", CreateTokenRequest()).id
    assert _function("WaitForTokenFunction").invoke(_event("wait_for_token", token_id)) == {
        "waitpointId": token_id,
        "result": "attached",
    }


def test_create_token_event(bridge: Bridge) -> None:
    assert set(_function("CreateTokenFunction").invoke(_event("create_token"))) == {
        "id",
        "url",
        "isCached",
        "publicAccessToken",
    }


def test_sweep_event(bridge: Bridge) -> None:
    assert _function("SweepFunction").invoke(_event("sweep_schedule")) == {"timedOut": 0}


@pytest.mark.parametrize("name", ["stream_token_completed", "stream_token_timed_out"])
def test_stream_events_pass_the_template_filter_and_the_handler(bridge: Bridge, name: str) -> None:
    event = _event(name, "waitpoint_" + "s" * 25)
    (source,) = next(f for f in TEMPLATE.functions() if f.logical_id == "StreamFunction").streams
    assert all(any(matches(p, record) for p in source.filters) for record in event["Records"])
    assert bridge.invoke_stream(event["Records"]) == {"batchItemFailures": []}
