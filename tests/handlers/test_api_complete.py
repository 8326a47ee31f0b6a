"""POST /api/v1/waitpoints/tokens/{id}/complete (and its CORS preflight) through the real API handler."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt as pyjwt
import pytest
from waitpoints_core import runtime
from waitpoints_core.signing import SigningKeys

from .support import body_of, headers_of, with_auth, with_body, with_id, with_json

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
Create = Callable[..., dict[str, Any]]
ORIGIN = "https://app.example.com"


def complete_event(load_event: LoadEvent, credential: str | None, token_id: str, body: Any = ...) -> dict[str, Any]:
    event = with_id(with_auth(load_event("api_complete_token"), credential), token_id)
    return event if body is ... else with_json(event, body)


def stored_output(aws: Deployment, token_id: str) -> tuple[str | None, str | None, str | None]:
    token = aws.store.get_token(token_id)
    assert token is not None
    return token.status.value, token.output, token.output_type


def test_complete_with_secret_key(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    response = api(complete_event(load_event, secret_key, token_id))
    assert response["statusCode"] == 200
    assert body_of(response) == {"success": True}
    assert stored_output(aws, token_id) == (
        "COMPLETED",
        '{"approved":true,"approver":"jane@example.com"}',
        "application/json",
    )


def test_complete_with_the_public_access_token(
    api: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    response = api(complete_event(load_event, created["publicAccessToken"], created["id"], {"data": [1, 2]}))
    assert response["statusCode"] == 200, response
    assert stored_output(aws, created["id"]) == ("COMPLETED", "[1,2]", "application/json")


def test_complete_by_bare_id(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    assert api(complete_event(load_event, secret_key, token_id.removeprefix("waitpoint_")))["statusCode"] == 200
    assert stored_output(aws, token_id)[0] == "COMPLETED"


def test_access_token_of_another_token_is_403(
    api: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    mine, other = create(), create()
    response = api(complete_event(load_event, mine["publicAccessToken"], other["id"], {"data": 1}))
    assert response["statusCode"] == 403
    assert "not allowed" in body_of(response)["error"]
    assert stored_output(aws, other["id"])[0] == "WAITING"


@pytest.mark.parametrize("garbage", ["a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZXYifQ.", "not-a-jwt"])
def test_garbage_access_token_is_401(api: Invoke, create: Create, load_event: LoadEvent, garbage: str) -> None:
    response = api(complete_event(load_event, garbage, create()["id"]))
    assert response["statusCode"] == 401


def test_access_token_of_another_deployment_is_401(api: Invoke, create: Create, load_event: LoadEvent) -> None:
    token_id = create()["id"]
    foreign = SigningKeys(current="k1", masters={"k1": b"another-deployment" * 4})
    forged = foreign.mint_access_token("dev", token_id, int(time.time() * 1000))
    assert api(complete_event(load_event, forged, token_id))["statusCode"] == 401


def test_expired_access_token_is_401(api: Invoke, aws: Deployment, create: Create, load_event: LoadEvent) -> None:
    token_id = create()["id"]
    expired = aws.keys.mint_access_token("dev", token_id, int(time.time() * 1000) - 25 * 3_600_000)
    response = api(complete_event(load_event, expired, token_id))
    assert response["statusCode"] == 401
    assert "expired" in body_of(response)["error"]


def test_alg_none_access_token_is_401(api: Invoke, aws: Deployment, create: Create, load_event: LoadEvent) -> None:
    token_id = create()["id"]
    claims = pyjwt.decode(create()["publicAccessToken"], options={"verify_signature": False})
    claims["scopes"] = ["write:waitpoints"]
    unsigned = pyjwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    assert api(complete_event(load_event, unsigned, token_id))["statusCode"] == 401


def test_access_token_of_another_environment_is_404(
    api: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    prod_scoped = aws.keys.mint_access_token("prod", token_id, int(time.time() * 1000))
    assert api(complete_event(load_event, prod_scoped, token_id))["statusCode"] == 404


def test_secret_key_of_another_environment_is_404(
    api: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    response = api(complete_event(load_event, aws.mint("prod"), token_id))
    assert response["statusCode"] == 404
    assert stored_output(aws, token_id)[0] == "WAITING"


def test_missing_credentials_is_401(api: Invoke, create: Create, load_event: LoadEvent) -> None:
    assert api(complete_event(load_event, None, create()["id"]))["statusCode"] == 401


@pytest.mark.parametrize("token_id", ["waitpoint_" + "0" * 25, "bad-id", "WAITPOINT_" + "A" * 25])
def test_unknown_or_malformed_token_is_404(api: Invoke, secret_key: str, load_event: LoadEvent, token_id: str) -> None:
    assert api(complete_event(load_event, secret_key, token_id))["statusCode"] == 404


def test_body_over_3_mb_is_413(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    event = complete_event(load_event, secret_key, token_id, {"data": "x" * (3 * 1024 * 1024)})
    response = api(event)
    assert response["statusCode"] == 413
    assert "3145728 bytes" in body_of(response)["error"]
    assert stored_output(aws, token_id)[0] == "WAITING"


def test_body_just_under_256_kib_is_accepted(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    data = "x" * (256 * 1024 - len('{"data":""}'))
    event = complete_event(load_event, secret_key, token_id, {"data": data})
    assert len(event["body"]) == 256 * 1024
    response = api(event)
    assert response["statusCode"] == 200
    assert stored_output(aws, token_id)[1] == data


def test_second_completion_succeeds_but_keeps_the_first_data(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    first = api(complete_event(load_event, secret_key, token_id, {"data": {"n": 1}}))
    first_completed = aws.store.get_token(token_id)
    second = api(complete_event(load_event, secret_key, token_id, {"data": {"n": 2}}))
    assert (first["statusCode"], second["statusCode"]) == (200, 200)
    assert body_of(second) == {"success": True}
    assert aws.store.get_token(token_id) == first_completed
    assert stored_output(aws, token_id)[1] == '{"n":1}'


def test_completing_a_timed_out_token_changes_nothing(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    aws.ddb.update_item(
        TableName=aws.table,
        Key={"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}},
        UpdateExpression="SET timeoutAt = :t",
        ExpressionAttributeValues={":t": {"N": str(int(time.time() * 1000) - 1)}},
    )
    assert api(complete_event(load_event, secret_key, token_id, {"data": 1}))["statusCode"] == 200
    assert stored_output(aws, token_id) == ("WAITING", None, None)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"data": 1, "extra": 2}', 400),
        ('{"data": ', 400),
        ("[]", 400),
        ('{"data": NaN}', 400),
        ('{"data": Infinity}', 400),
    ],
)
def test_invalid_complete_body_is_400(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent, body: str, status: int
) -> None:
    token_id = create()["id"]
    response = api(with_body(complete_event(load_event, secret_key, token_id), body))
    assert response["statusCode"] == status, response
    assert "error" in body_of(response)
    assert stored_output(aws, token_id)[0] == "WAITING"


def test_empty_body_completes_without_output(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    assert api(with_body(complete_event(load_event, secret_key, token_id), None))["statusCode"] == 200
    assert stored_output(aws, token_id) == ("COMPLETED", None, None)


# --- CORS ----------------------------------------------------------------------------------------------


def test_preflight_reflects_the_origin(api: Invoke, create: Create, load_event: LoadEvent) -> None:
    response = api(with_id(load_event("api_complete_preflight"), create()["id"]))
    assert response["statusCode"] == 204
    headers = headers_of(response)
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in headers["access-control-allow-methods"]
    allowed = {h.strip() for h in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert headers["access-control-expose-headers"] == "x-trigger-jwt,x-trigger-jwt-claims"
    assert headers["vary"] == "Origin"
    assert int(headers["access-control-max-age"]) > 0


def test_preflight_allows_extra_requested_headers(api: Invoke, load_event: LoadEvent) -> None:
    event = with_id(load_event("api_complete_preflight"), "waitpoint_" + "0" * 25)
    event["headers"]["access-control-request-headers"] = "X-Trigger-Branch, content-type"
    headers = headers_of(api(event))
    assert "x-trigger-branch" in headers["access-control-allow-headers"]


def test_preflight_needs_no_credentials_and_no_existing_token(
    api: Invoke, aws: Deployment, load_event: LoadEvent
) -> None:
    event = with_id(load_event("api_complete_preflight"), "waitpoint_" + "0" * 25)
    assert "authorization" not in event["headers"]
    assert api(event)["statusCode"] == 204


def test_complete_reflects_origin_and_exposes_jwt_headers(api: Invoke, create: Create, load_event: LoadEvent) -> None:
    created = create()
    event = complete_event(load_event, created["publicAccessToken"], created["id"])
    event["headers"]["origin"] = ORIGIN
    response = api(event)
    assert response["statusCode"] == 200
    headers = headers_of(response)
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-expose-headers"] == "x-trigger-jwt,x-trigger-jwt-claims"
    assert headers["vary"] == "Origin"


def test_complete_errors_carry_cors_headers_too(api: Invoke, load_event: LoadEvent) -> None:
    event = complete_event(load_event, None, "waitpoint_" + "0" * 25)
    event["headers"]["origin"] = ORIGIN
    response = api(event)
    assert response["statusCode"] == 401
    assert headers_of(response)["access-control-allow-origin"] == ORIGIN


def test_no_origin_no_cors_allow_header(api: Invoke, create: Create, secret_key: str, load_event: LoadEvent) -> None:
    response = api(complete_event(load_event, secret_key, create()["id"]))
    headers = headers_of(response)
    assert "access-control-allow-origin" not in headers
    assert headers["vary"] == "Origin"


def test_origin_outside_the_configured_list_is_not_allowed(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_id = create()["id"]
    monkeypatch.setenv("WAITPOINTS_CORS_ORIGINS", "https://good.example, https://also.example")
    runtime.reset()
    preflight = with_id(load_event("api_complete_preflight"), token_id)
    preflight["headers"]["origin"] = "https://evil.example"
    assert "access-control-allow-origin" not in headers_of(api(preflight))
    preflight["headers"]["origin"] = "https://also.example"
    assert headers_of(api(preflight))["access-control-allow-origin"] == "https://also.example"
    event = complete_event(load_event, secret_key, token_id)
    event["headers"]["origin"] = "https://evil.example"
    response = api(event)
    assert response["statusCode"] == 200
    assert "access-control-allow-origin" not in headers_of(response)


def test_create_and_retrieve_have_no_cors_headers(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    event = with_auth(load_event("api_create_token"), secret_key)
    event["headers"]["origin"] = ORIGIN
    assert "access-control-allow-origin" not in headers_of(api(event))


def test_the_completed_header_says_whether_this_call_completed_the_token(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    first = api(complete_event(load_event, secret_key, token_id))
    second = api(complete_event(load_event, secret_key, token_id, {"data": "late"}))
    assert body_of(first) == body_of(second) == {"success": True}  # what Trigger.dev's SDK reads: unchanged
    assert headers_of(first)["x-waitpoints-completed"] == "true"
    assert headers_of(second)["x-waitpoints-completed"] == "false"
