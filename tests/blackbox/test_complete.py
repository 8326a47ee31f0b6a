"""POST /api/v1/waitpoints/tokens/{id}/complete over real HTTP."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

from .helpers import TOKENS, complete, create, error_of, parse_iso, retrieve

if TYPE_CHECKING:
    import httpx


def test_complete_with_json_data(api: httpx.Client) -> None:
    token_id = create(api)["id"]
    response = complete(api, token_id, {"data": {"status": "approved", "n": [1, 2.5, None, True]}})
    assert response.status_code == 200 and response.json() == {"success": True}
    token = retrieve(api, token_id)
    assert token["status"] == "COMPLETED" and token["outputIsError"] is False
    assert token["outputType"] == "application/json"
    assert json.loads(token["output"]) == {"status": "approved", "n": [1, 2.5, None, True]}
    assert parse_iso(token["completedAt"]) >= parse_iso(token["createdAt"])


@pytest.mark.parametrize(
    ("data", "output", "output_type"),
    [
        ("approved", "approved", "text/plain"),
        ("", "", "text/plain"),
        (None, "null", "application/json"),
        (42, "42", "application/json"),
        ([1, "two"], '[1,"two"]', "application/json"),
        ({"ünïcode": "✓"}, '{"ünïcode":"✓"}', "application/json"),
    ],
)
def test_output_encoding(api: httpx.Client, data: object, output: str, output_type: str) -> None:
    token_id = create(api)["id"]
    assert complete(api, token_id, {"data": data}).status_code == 200
    token = retrieve(api, token_id)
    assert (token["output"], token["outputType"]) == (output, output_type)


def test_complete_without_data_has_no_output(api: httpx.Client) -> None:
    token_id = create(api)["id"]
    assert complete(api, token_id, {}).status_code == 200
    token = retrieve(api, token_id)
    assert token["status"] == "COMPLETED" and "output" not in token and "outputType" not in token


def test_first_completion_wins(api: httpx.Client) -> None:
    token_id = create(api)["id"]
    assert complete(api, token_id, {"data": "first"}).json() == {"success": True}
    assert complete(api, token_id, {"data": "second"}).json() == {"success": True}
    assert retrieve(api, token_id)["output"] == "first"


def test_complete_after_timeout_does_not_win(api: httpx.Client) -> None:
    token_id = create(api, timeout="1s")["id"]
    time.sleep(1.2)
    response = complete(api, token_id, {"data": "late"})
    assert response.status_code == 200 and response.json() == {"success": True}
    token = retrieve(api, token_id)
    assert token["status"] == "TIMED_OUT" and json.loads(token["output"])["code"] == "WAITPOINT_TIMEOUT"


def test_complete_with_the_public_access_token(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    auth = {"Authorization": f"Bearer {created['publicAccessToken']}"}
    assert complete(anonymous, created["id"], {"data": {"ok": 1}}, headers=auth).status_code == 200
    assert json.loads(retrieve(api, created["id"])["output"]) == {"ok": 1}


def test_access_token_of_another_token_is_403(api: httpx.Client, anonymous: httpx.Client) -> None:
    mine, other = create(api), create(api)
    auth = {"Authorization": f"Bearer {other['publicAccessToken']}"}
    error_of(complete(anonymous, mine["id"], {"data": 1}, headers=auth), 403)
    assert retrieve(api, mine["id"])["status"] == "WAITING"


@pytest.mark.parametrize("credential", ["a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZXYifQ.", "wp_dev_" + "z" * 43])
def test_invalid_credentials_are_401(api: httpx.Client, anonymous: httpx.Client, credential: str) -> None:
    token_id = create(api)["id"]
    error_of(complete(anonymous, token_id, {"data": 1}, headers={"Authorization": f"Bearer {credential}"}), 401)


def test_another_environments_key_gets_404(api: httpx.Client, other_api: httpx.Client) -> None:
    token_id = create(api)["id"]
    assert error_of(complete(other_api, token_id, {"data": "intruder"}), 404) == "Waitpoint not found"
    assert retrieve(api, token_id)["status"] == "WAITING"


@pytest.mark.parametrize("token_id", ["waitpoint_" + "b" * 25, "bad-id"])
def test_unknown_token_is_404(api: httpx.Client, token_id: str) -> None:
    assert error_of(complete(api, token_id, {"data": 1}), 404) == "Waitpoint not found"


def test_unknown_field_is_400_naming_it(api: httpx.Client) -> None:
    token_id = create(api)["id"]
    assert "output" in error_of(complete(api, token_id, {"output": {"a": 1}}), 400)
    assert retrieve(api, token_id)["status"] == "WAITING"


def test_invalid_json_is_400(api: httpx.Client) -> None:
    token_id = create(api)["id"]
    error_of(api.post(f"{TOKENS}/{token_id}/complete", content=b"{nope"), 400)


def test_cors_preflight_and_headers(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    origin = "https://app.example.com"
    preflight = anonymous.options(
        f"{TOKENS}/{created['id']}/complete",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-trigger-source",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed and "x-trigger-source" in allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]
    response = complete(
        anonymous,
        created["id"],
        {"data": 1},
        headers={
            "Origin": origin,
            "Authorization": f"Bearer {created['publicAccessToken']}",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "x-trigger-jwt" in response.headers["access-control-expose-headers"]
    denied = complete(anonymous, created["id"], {"data": 1}, headers={"Origin": origin})
    assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == origin
