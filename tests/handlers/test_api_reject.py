"""Reject (issue 15) and completion schemas through the API and callback handlers on moto."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from .support import body_of, headers_of, with_auth, with_body, with_hash, with_id, with_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from .conftest import Deployment, Invoke

SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "integer", "minimum": 1}, "note": {"type": "string"}},
    "required": ["amount"],
}


def _reject(api: Invoke, load_event: Callable[[str], dict[str, Any]], key: str | None, token_id: str, body: Any):
    event = with_id(with_auth(load_event("api_reject_token"), key), token_id)
    return api(with_json(event, body) if body is not None else with_body(event, None))


def _complete(api: Invoke, load_event: Callable[[str], dict[str, Any]], key: str, token_id: str, body: Any):
    return api(with_json(with_id(with_auth(load_event("api_complete_token"), key), token_id), body))


def _retrieve(api: Invoke, load_event: Callable[[str], dict[str, Any]], key: str, token_id: str) -> dict[str, Any]:
    response = api(with_id(with_auth(load_event("api_retrieve_token"), key), token_id))
    assert response["statusCode"] == 200, response
    result: dict[str, Any] = body_of(response)
    return result


def test_the_sample_reject_event(api: Invoke, create: Any, secret_key: str, load_event: Any) -> None:
    token = create({})
    response = _reject(api, load_event, secret_key, token["id"], None)
    assert response["statusCode"] == 200 and body_of(response) == {"success": True}
    got = _retrieve(api, load_event, secret_key, token["id"])
    assert got["status"] == "COMPLETED" and got["rejected"] is True and got["outputIsError"] is True
    assert "rejectReason" not in got
    assert json.loads(got["output"])["code"] == "WAITPOINT_REJECTED"


def test_reject_with_reason_and_data_then_every_later_write_is_a_no_op(
    api: Invoke, create: Any, secret_key: str, load_event: Any
) -> None:
    token = create({})
    body = {"reason": "Outside the window", "data": {"policy": "30d"}}
    assert _reject(api, load_event, secret_key, token["id"], body)["statusCode"] == 200
    first = _retrieve(api, load_event, secret_key, token["id"])
    assert first["rejectReason"] == "Outside the window"
    assert json.loads(first["output"]) == {
        "code": "WAITPOINT_REJECTED",
        "message": "Waitpoint rejected: Outside the window",
        "reason": "Outside the window",
        "data": {"policy": "30d"},
    }
    assert body_of(_complete(api, load_event, secret_key, token["id"], {"data": 1})) == {"success": True}
    assert body_of(_reject(api, load_event, secret_key, token["id"], {"reason": "again"})) == {"success": True}
    assert _retrieve(api, load_event, secret_key, token["id"]) == first


def test_reject_after_complete_changes_nothing(api: Invoke, create: Any, secret_key: str, load_event: Any) -> None:
    token = create({})
    _complete(api, load_event, secret_key, token["id"], {"data": {"ok": True}})
    assert _reject(api, load_event, secret_key, token["id"], {"reason": "late"})["statusCode"] == 200
    got = _retrieve(api, load_event, secret_key, token["id"])
    assert got["output"] == '{"ok":true}' and "rejected" not in got


def test_reject_with_the_tokens_public_access_token_and_cors(
    api: Invoke, create: Any, secret_key: str, load_event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, other = create({}), create({})
    denied = _reject(api, load_event, mine["publicAccessToken"], other["id"], {})
    assert denied["statusCode"] == 403
    event = with_json(with_id(with_auth(load_event("api_reject_token"), mine["publicAccessToken"]), mine["id"]), {})
    event["headers"]["origin"] = "https://app.example.com"
    response = api(event)
    assert response["statusCode"] == 200
    assert headers_of(response)["vary"] == "Origin"
    assert _reject(api, load_event, None, mine["id"], {})["statusCode"] == 401


@pytest.mark.parametrize(
    "body",
    [{"reason": "x" * 1001}, {"reason": 5}, {"why": "no"}, {"reason": None, "extra": 1}],
)
def test_bad_reject_bodies_are_400(api: Invoke, create: Any, secret_key: str, load_event: Any, body: Any) -> None:
    token = create({})
    assert _reject(api, load_event, secret_key, token["id"], body)["statusCode"] == 400
    assert _retrieve(api, load_event, secret_key, token["id"])["status"] == "WAITING"


def test_reject_an_unknown_token_is_404(api: Invoke, secret_key: str, load_event: Any) -> None:
    assert _reject(api, load_event, secret_key, "waitpoint_" + "z" * 25, {})["statusCode"] == 404


def test_rejected_tokens_list_under_their_own_status_filter(
    api: Invoke, create: Any, secret_key: str, load_event: Any
) -> None:
    rejected, done = create({}), create({})
    _reject(api, load_event, secret_key, rejected["id"], {"reason": "no"})
    _complete(api, load_event, secret_key, done["id"], {})
    event = with_auth(load_event("api_retrieve_token"), secret_key)
    path = "/api/v1/waitpoints/tokens"
    event["routeKey"] = event["requestContext"]["routeKey"] = f"GET {path}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event.pop("pathParameters")
    for status, expected in (("REJECTED", [rejected["id"]]), ("COMPLETED", [done["id"]])):
        event["rawQueryString"] = f"filter%5Bstatus%5D={status}"
        listed = body_of(api(event))["data"]
        assert [t["id"] for t in listed] == expected, status
    assert [t.get("rejected") for t in listed] == [None]


# --- completion schemas -----------------------------------------------------------------------------------


def test_create_stores_a_schema_and_retrieve_shows_it(api: Invoke, create: Any, secret_key: str, load_event: Any):
    token = create({"schema": SCHEMA})
    assert "approvalUrl" not in token
    assert _retrieve(api, load_event, secret_key, token["id"])["schema"] == SCHEMA


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ([1], "JSON object"),
        ({"type": "nope"}, "invalid"),
        ({"$ref": "https://example.com/s.json"}, "remote"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "2020-12"),
        ({"enum": ["x" * 17_000]}, "limit"),
        ({"pattern": "("}, "invalid"),
    ],
)
def test_an_invalid_or_oversized_schema_is_400(
    api: Invoke, secret_key: str, load_event: Any, schema: Any, words: str
) -> None:
    response = api(with_json(with_auth(load_event("api_create_token"), secret_key), {"schema": schema}))
    assert response["statusCode"] == 400, response
    assert words in body_of(response)["error"]


def test_complete_is_checked_against_the_schema(api: Invoke, create: Any, secret_key: str, load_event: Any) -> None:
    token = create({"schema": SCHEMA})
    bad = _complete(api, load_event, secret_key, token["id"], {"data": {"amount": 0}})
    assert bad["statusCode"] == 422
    error = body_of(bad)
    assert error["path"] == "$.amount" and error["rule"] == "minimum"
    assert error["errors"][0]["path"] == "$.amount"
    missing = body_of(_complete(api, load_event, secret_key, token["id"], {"data": {}}))
    assert (missing["path"], missing["rule"]) == ("$.amount", "required")
    no_data = body_of(_complete(api, load_event, secret_key, token["id"], {}))
    assert (no_data["path"], no_data["rule"]) == ("$", "type")  # no data is checked as null
    assert _retrieve(api, load_event, secret_key, token["id"])["status"] == "WAITING"
    ok = _complete(api, load_event, secret_key, token["id"], {"data": {"amount": 3}})
    assert ok["statusCode"] == 200
    assert _retrieve(api, load_event, secret_key, token["id"])["output"] == '{"amount":3}'
    again = _complete(api, load_event, secret_key, token["id"], {"data": {"amount": 0}})
    assert again["statusCode"] == 200  # final: a later complete is the no-op, whatever its data


def test_reject_is_not_checked_against_the_schema(api: Invoke, create: Any, secret_key: str, load_event: Any):
    token = create({"schema": SCHEMA})
    assert _reject(api, load_event, secret_key, token["id"], {"data": "anything"})["statusCode"] == 200


def test_the_callback_is_checked_against_the_schema(
    api: Invoke, callback: Invoke, create: Any, aws: Deployment, secret_key: str, load_event: Any
) -> None:
    token = create({"schema": SCHEMA})
    url_hash = aws.keys.callback_hash(token["id"])
    event = with_hash(with_id(load_event("callback_json"), token["id"]), url_hash)
    bad = callback(with_json(event, {"amount": "12"}))
    assert bad["statusCode"] == 422 and body_of(bad)["path"] == "$.amount" and body_of(bad)["rule"] == "type"
    assert _retrieve(api, load_event, secret_key, token["id"])["status"] == "WAITING"
    event = with_hash(with_id(load_event("callback_json"), token["id"]), url_hash)
    assert callback(with_json(event, {"amount": 12}))["statusCode"] == 200
    assert _retrieve(api, load_event, secret_key, token["id"])["output"] == '{"amount":12}'
