"""The sample events in events/ are realistic payload-2.0 events for routes that template.yaml declares."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from waitpoints_local.template import Template

EVENTS = Path(__file__).resolve().parents[2] / "events"
NAMES = sorted(p.stem for p in EVENTS.glob("*.json") if p.stem.startswith(("api_", "callback_", "approval_")))
ROUTES = {f.logical_id: {r.key for r in f.routes} for f in Template().functions()}
REQUIRED = {
    "api_create_token",
    "api_retrieve_token",
    "api_complete_token",
    "api_complete_preflight",
    "callback_json",
    "callback_form",
    "callback_text",
    "callback_empty",
    "callback_get",
    "api_reject_token",
    "approval_get",
    "approval_post",
    "approval_reject",
}
FUNCTION_BY_PREFIX = {"api": "ApiFunction", "callback": "CallbackFunction", "approval": "ApprovalFunction"}


def test_every_required_sample_event_exists() -> None:
    assert set(NAMES) >= REQUIRED


@pytest.mark.parametrize("name", NAMES)
def test_sample_event_is_payload_2_for_a_template_route(name: str) -> None:
    event = json.loads((EVENTS / f"{name}.json").read_text())
    function = FUNCTION_BY_PREFIX[name.partition("_")[0]]
    assert event["version"] == "2.0"
    assert event["routeKey"] in ROUTES[function]
    assert event["requestContext"]["routeKey"] == event["routeKey"]
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["requestId"]
    assert event["requestContext"]["http"]["sourceIp"]
    assert event["requestContext"]["http"]["path"] == event["rawPath"]
    assert event["requestContext"]["domainName"] == event["headers"]["host"]
    assert all(h == h.lower() for h in event["headers"])
    assert isinstance(event["isBase64Encoded"], bool)
    method, _, template_path = event["routeKey"].partition(" ")
    assert method in (event["requestContext"]["http"]["method"], "ANY")
    expected_path = template_path
    for name_, value in (event.get("pathParameters") or {}).items():
        expected_path = expected_path.replace("{" + name_ + "}", value)
    assert expected_path == event["rawPath"]
    if "body" in event:
        raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
        assert event["headers"]["content-length"] == str(len(raw))
