"""The approval function (issue 15) on moto: GET/HEAD read only, POST approves or rejects, errors re-render,
final states, and one 404 for every way a link can be wrong."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest

from .support import body_of, headers_of, with_approval_hash, with_auth, with_body, with_id, with_json

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "integer", "title": "Amount", "minimum": 1, "maximum": 500},
        "note": {"type": "string", "title": "Note"},
        "notify": {"type": "boolean", "title": "Notify", "default": True},
    },
    "required": ["amount"],
}
APPROVAL = {"title": "Refund order #1042", "description": "Line one\nline two", "reasonRequired": True}


def _page(load_event: Any, token_id: str, url_hash: str, method: str = "GET", form: Any = None) -> dict[str, Any]:
    event = with_approval_hash(with_id(load_event("approval_post"), token_id), url_hash)
    event["requestContext"]["http"]["method"] = method
    if form is None:
        with_body(event, None)
        event["headers"].pop("content-type", None)
    else:
        with_body(event, form if isinstance(form, str) else urlencode(form))
    return event


def _status(api: Invoke, load_event: Any, key: str, token_id: str) -> dict[str, Any]:
    event = with_id(with_auth(load_event("api_retrieve_token"), key), token_id)
    result: dict[str, Any] = body_of(api(event))
    return result


@pytest.fixture
def token(create: Any) -> dict[str, Any]:
    made: dict[str, Any] = create({"schema": SCHEMA, "approval": APPROVAL})
    return made


def _hash(token: dict[str, Any]) -> str:
    return urlsplit(token["approvalUrl"]).path.rsplit("/", 1)[1]


def test_create_returns_a_signed_approval_url_that_is_not_the_callback(token: dict[str, Any], aws: Deployment):
    assert token["approvalUrl"].endswith(f"/api/v1/waitpoints/tokens/{token['id']}/approval/{_hash(token)}")
    assert aws.keys.verify_approval_hash(token["id"], _hash(token))
    assert not aws.keys.verify_callback_hash(token["id"], _hash(token))
    assert _hash(token) not in token["url"]


def test_get_and_head_show_the_page_and_change_nothing(
    api: Invoke, approval: Invoke, token: dict[str, Any], secret_key: str, load_event: Any
) -> None:
    for _ in range(3):
        page = approval(_page(load_event, token["id"], _hash(token)))
        assert page["statusCode"] == 200
        assert "Refund order #1042" in page["body"] and "Line one\nline two" in page["body"]
        headers = headers_of(page)
        assert headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer" and headers["x-robots-tag"].startswith("noindex")
        head = approval(_page(load_event, token["id"], _hash(token), "HEAD"))
        assert head["statusCode"] == 200 and head["body"] == ""
    assert _status(api, load_event, secret_key, token["id"])["status"] == "WAITING"


def test_post_approve_completes_with_typed_fields_then_the_final_page(
    api: Invoke, approval: Invoke, token: dict[str, Any], secret_key: str, load_event: Any
) -> None:
    form = {"action": "approve", "field:amount": "120", "field:note": "ok"}
    done = approval(_page(load_event, token["id"], _hash(token), "POST", form))
    assert done["statusCode"] == 303 and headers_of(done)["location"] == _hash(token)
    got = _status(api, load_event, secret_key, token["id"])
    assert got["status"] == "COMPLETED" and json.loads(got["output"]) == {"amount": 120, "note": "ok", "notify": False}
    final = approval(_page(load_event, token["id"], _hash(token)))
    assert final["statusCode"] == 200 and "Approved" in final["body"] and "<button" not in final["body"]
    again = approval(_page(load_event, token["id"], _hash(token), "POST", {"action": "reject", "reason": "no"}))
    assert again["statusCode"] == 200 and "Approved" in again["body"]
    assert _status(api, load_event, secret_key, token["id"]) == got


def test_validation_errors_re_render_and_the_token_keeps_waiting(
    api: Invoke, approval: Invoke, token: dict[str, Any], secret_key: str, load_event: Any
) -> None:
    bad = approval(_page(load_event, token["id"], _hash(token), "POST", {"action": "approve", "field:amount": "900"}))
    assert bad["statusCode"] == 422 and "Amount must be 500 or less" in bad["body"] and 'value="900"' in bad["body"]
    no_reason = approval(_page(load_event, token["id"], _hash(token), "POST", {"action": "reject", "reason": " "}))
    assert no_reason["statusCode"] == 422 and "Enter a reason for rejecting" in no_reason["body"]
    nothing = approval(_page(load_event, token["id"], _hash(token), "POST", "x=1"))
    assert nothing["statusCode"] == 422
    assert _status(api, load_event, secret_key, token["id"])["status"] == "WAITING"


def test_post_reject_with_a_reason(
    api: Invoke, approval: Invoke, token: dict[str, Any], secret_key: str, load_event: Any
) -> None:
    form = {"action": "reject", "reason": "Outside the window"}
    assert approval(_page(load_event, token["id"], _hash(token), "POST", form))["statusCode"] == 303
    got = _status(api, load_event, secret_key, token["id"])
    assert got["rejected"] is True and got["rejectReason"] == "Outside the window"
    assert "Rejected" in approval(_page(load_event, token["id"], _hash(token)))["body"]


def test_every_wrong_link_is_the_same_404(
    approval: Invoke, token: dict[str, Any], create: Any, aws: Deployment, load_event: Any
) -> None:
    plain = create({})  # no approval page
    wrong = [
        (token["id"], "0" * 64),
        (token["id"], aws.keys.callback_hash(token["id"])),  # the callback hash is not an approval hash
        ("waitpoint_" + "z" * 25, aws.keys.approval_hash("waitpoint_" + "z" * 25)),
        (plain["id"], aws.keys.approval_hash(plain["id"])),
        ("nonsense", "x"),
    ]
    bodies = set()
    for token_id, url_hash in wrong:
        for method in ("GET", "POST"):
            form = {"action": "approve", "field:amount": "1"} if method == "POST" else None
            page = approval(_page(load_event, token_id, url_hash, method, form))
            assert page["statusCode"] == 404, (token_id, method)
            bodies.add(page["body"])
    assert len(bodies) == 1


def test_other_methods_large_and_non_form_bodies(approval: Invoke, token: dict[str, Any], load_event: Any) -> None:
    assert approval(_page(load_event, token["id"], _hash(token), "PUT"))["statusCode"] == 405
    big = approval(_page(load_event, token["id"], _hash(token), "POST", "action=approve&field:note=" + "x" * 70_000))
    assert big["statusCode"] == 413
    event = _page(load_event, token["id"], _hash(token), "POST", "{}")
    event["headers"]["content-type"] = "application/json"
    assert approval(event)["statusCode"] == 415


def test_an_expired_token_shows_its_final_state(approval: Invoke, create: Any, load_event: Any) -> None:
    import time

    token = create({"timeout": "1s", "approval": {"title": "Late"}})
    time.sleep(1.1)
    page = approval(_page(load_event, token["id"], _hash(token)))
    assert page["statusCode"] == 200 and "Expired" in page["body"] and "<form" not in page["body"]


def test_an_approval_schema_the_page_cannot_show_is_400(api: Invoke, secret_key: str, load_event: Any) -> None:
    body = {"schema": {"type": "array"}, "approval": {"title": "x"}}
    response = api(with_json(with_auth(load_event("api_create_token"), secret_key), body))
    assert response["statusCode"] == 400 and "approval" in body_of(response)["error"]
    for approval_body in ({}, {"title": ""}, {"title": "x", "approveLabel": "y" * 41}, {"title": "x", "other": 1}):
        event = with_json(with_auth(load_event("api_create_token"), secret_key), {"approval": approval_body})
        assert api(event)["statusCode"] == 400, approval_body


def test_retrieve_shows_the_approval_url(api: Invoke, token: dict[str, Any], secret_key: str, load_event: Any):
    got = _status(api, load_event, secret_key, token["id"])
    assert got["approvalUrl"] == token["approvalUrl"] and got["approval"] == APPROVAL
