"""POST /api/v1/waitpoints/tokens through the real API handler."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_core import runtime
from waitpoints_core.signing import scope_allows_completion

from .support import body_of, headers_of, with_auth, with_body, with_json

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]


def create_event(load_event: LoadEvent, key: str | None, body: Any = None) -> dict[str, Any]:
    event = with_auth(load_event("api_create_token"), key)
    return event if body is None else with_json(event, body)


def test_create_returns_the_trigger_shape(api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent) -> None:
    response = api(create_event(load_event, secret_key))
    assert response["statusCode"] == 200
    assert headers_of(response)["content-type"] == "application/json"
    body = body_of(response)
    assert set(body) == {"id", "url", "isCached", "publicAccessToken"}
    token_id = body["id"]
    assert token_id.startswith("waitpoint_") and len(token_id) == 35
    assert body["isCached"] is False
    domain = load_event("api_create_token")["requestContext"]["domainName"]
    assert body["url"] == (
        f"https://{domain}/api/v1/waitpoints/tokens/{token_id}/callback/{aws.keys.callback_hash(token_id)}"
    )
    env, scopes = aws.keys.verify_access_token(body["publicAccessToken"])
    assert env == "dev"
    assert scope_allows_completion(scopes, token_id)


def test_create_sends_the_sdk_jwt_headers(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    response = api(create_event(load_event, secret_key))
    headers = headers_of(response)
    assert headers["x-trigger-jwt"] == body_of(response)["publicAccessToken"]
    assert json.loads(headers["x-trigger-jwt-claims"]) == {"sub": "dev", "pub": True}


def test_create_stores_the_requested_options(
    api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent
) -> None:
    before = int(time.time() * 1000)
    body = body_of(api(create_event(load_event, secret_key, {"timeout": "1h30m", "tags": "one-tag"})))
    token = aws.store.get_token(body["id"])
    assert token is not None
    assert token.env == "dev"
    assert token.tags == ["one-tag"]
    assert token.timeout_at - token.created_at == 90 * 60_000
    assert before <= token.created_at <= int(time.time() * 1000)
    assert token.expires_at == (token.timeout_at + 30 * 86_400_000) // 1000  # template default retention


def test_create_with_no_body_uses_the_default_timeout(
    api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent
) -> None:
    event = with_body(create_event(load_event, secret_key), None)
    response = api(event)
    assert response["statusCode"] == 200, response
    token = aws.store.get_token(body_of(response)["id"])
    assert token is not None
    assert token.timeout_at - token.created_at == 10 * 60_000  # DefaultTokenTimeout in template.yaml


def test_create_with_the_sample_event_body(
    api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent
) -> None:
    response = api(create_event(load_event, secret_key))
    token = aws.store.get_token(body_of(response)["id"])
    assert token is not None
    assert token.tags == ["order:42", "approval"]
    assert token.idempotency_key == "order-42-approval"


def test_create_accepts_an_iso_timeout(api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent) -> None:
    at = datetime(datetime.now(UTC).year + 1, 1, 1, tzinfo=UTC)
    body = body_of(api(create_event(load_event, secret_key, {"timeout": at.isoformat().replace("+00:00", "Z")})))
    token = aws.store.get_token(body["id"])
    assert token is not None and token.timeout_at == int(at.timestamp() * 1000)


def test_create_reads_a_form_encoded_json_body_as_json(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    """`curl -d '{...}'` sends application/x-www-form-urlencoded; the API reads every body as JSON."""
    event = with_body(
        create_event(load_event, secret_key), '{"timeout":"5m"}', content_type="application/x-www-form-urlencoded"
    )
    assert api(event)["statusCode"] == 200


def test_same_idempotency_key_returns_the_same_token_cached(
    api: Invoke, secret_key: str, load_event: LoadEvent
) -> None:
    first = body_of(api(create_event(load_event, secret_key, {"idempotencyKey": "k-1"})))
    second = body_of(api(create_event(load_event, secret_key, {"idempotencyKey": "k-1", "timeout": "2h"})))
    other = body_of(api(create_event(load_event, secret_key, {"idempotencyKey": "k-2"})))
    assert second["id"] == first["id"]
    assert (first["isCached"], second["isCached"]) == (False, True)
    assert second["url"] == first["url"]
    assert other["id"] != first["id"]


def test_idempotency_keys_are_per_environment(
    api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent
) -> None:
    prod_key = aws.mint("prod")
    dev = body_of(api(create_event(load_event, secret_key, {"idempotencyKey": "shared"})))
    prod = body_of(api(create_event(load_event, prod_key, {"idempotencyKey": "shared"})))
    assert dev["id"] != prod["id"]
    assert prod["isCached"] is False


# --- authentication ------------------------------------------------------------------------------------


def test_missing_key_is_401(api: Invoke, load_event: LoadEvent) -> None:
    response = api(create_event(load_event, None))
    assert response["statusCode"] == 401
    assert "Missing API key" in body_of(response)["error"]


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "wp_dev_" + "a" * 43])
def test_malformed_authorization_is_401(
    api: Invoke, secret_key: str, load_event: LoadEvent, authorization: str
) -> None:
    event = load_event("api_create_token")
    event["headers"]["authorization"] = authorization
    assert api(event)["statusCode"] == 401


def test_unknown_key_is_401(api: Invoke, aws: Deployment, load_event: LoadEvent) -> None:
    response = api(create_event(load_event, "wp_dev_" + "x" * 43))
    assert response["statusCode"] == 401
    assert body_of(response) == {"error": "Invalid API key"}


def test_the_placeholder_key_in_the_sample_event_is_401(api: Invoke, load_event: LoadEvent) -> None:
    assert api(load_event("api_create_token"))["statusCode"] == 401


def test_public_access_token_cannot_create(
    api: Invoke, create: Callable[..., dict[str, Any]], load_event: LoadEvent
) -> None:
    jwt = create()["publicAccessToken"]
    assert api(create_event(load_event, jwt))["statusCode"] == 401


def test_auth_is_checked_before_size(api: Invoke, load_event: LoadEvent) -> None:
    event = with_body(create_event(load_event, None), "x" * 20_000)
    assert api(event)["statusCode"] == 401


# --- limits and validation -----------------------------------------------------------------------------


def test_body_over_32_kib_is_413(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    body = json.dumps({"idempotencyKey": "k" * 2000, "tags": ["t" * 128] * 10, "timeout": "1h" + " " * 32_768})
    response = api(with_body(create_event(load_event, secret_key), body))
    assert response["statusCode"] == 413
    assert "32768 bytes" in body_of(response)["error"]


def test_body_of_exactly_32_kib_is_not_413(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    body = '{"timeout":"1h"}'
    body = body + " " * (32 * 1024 - len(body))
    assert api(with_body(create_event(load_event, secret_key), body))["statusCode"] == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"timeout": "1h"', "Request body is not valid JSON"),
        ("[1, 2]", "Request body must be a JSON object"),
        ('{"timeout": "1h", "color": "red"}', "color: unknown field"),
        ('{"description": "Waiting", "output": 1}', "output: unknown field"),  # a real field beside: still refused
        ('{"description": ""}', "description: String should have at least 1 character"),
        ('{"description": "' + "d" * 1001 + '"}', "description: String should have at most 1000 characters"),
        ('{"description": 42}', "description: Input should be a valid string"),
        ('{"description": null}', "description must not be null"),
        ('{"timeout": "soon"}', "timeout: 'soon' is neither a duration"),
        ('{"timeout": "1h 30m"}', "timeout: '1h 30m' is neither a duration"),
        ('{"timeout": 1.5}', "timeout: Input should be a valid string"),
        ('{"timeout": "2001-01-01T00:00:00Z"}', "timeout: must be in the future"),
        ('{"timeout": 1000}', "timeout: must be in the future"),
        ('{"timeout": "0s"}', "timeout: must be in the future"),
        ('{"timeout": "366d"}', "timeout: at most 365 days away"),
        ('{"timeout": "53w"}', "timeout: at most 365 days away"),
        ('{"timeout": null}', "timeout must not be null"),
        ('{"tags": null}', "tags must not be null"),
        ('{"idempotencyKey": null}', "idempotencyKey must not be null"),
        ('{"idempotencyKey": ""}', "idempotencyKey: String should have at least 1 character"),
        ('{"tags": ["ok", ""]}', "tags[1]: String should have at least 1 character"),
        ('{"idempotencyKey": "k", "idempotencyKeyTTL": "forever"}', "idempotencyKeyTTL: 'forever' is not a duration"),
        ('{"idempotencyKey": "k", "idempotencyKeyTTL": "31d"}', "idempotencyKeyTTL: at most 30d"),
    ],
)
def test_invalid_request_is_400_naming_the_problem(
    api: Invoke, secret_key: str, load_event: LoadEvent, body: str, message: str
) -> None:
    response = api(with_body(create_event(load_event, secret_key), body))
    assert response["statusCode"] == 400, response
    assert body_of(response)["error"].startswith(message)


def test_365_days_is_allowed(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    assert api(create_event(load_event, secret_key, {"timeout": "365d"}))["statusCode"] == 200


def test_eleven_tags_is_422(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    response = api(create_event(load_event, secret_key, {"tags": [f"t{i}" for i in range(11)]}))
    assert response["statusCode"] == 422
    assert body_of(response) == {"error": "Waitpoints can only have 10 tags, you're trying to set 11."}


def test_ten_tags_is_fine(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    assert api(create_event(load_event, secret_key, {"tags": [f"t{i}" for i in range(10)]}))["statusCode"] == 200


def test_errors_write_nothing(api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent) -> None:
    for body in (
        {"timeout": "soon"},
        {"tags": [str(i) for i in range(11)]},
        {"idempotencyKey": "k", "idempotencyKeyTTL": "x"},
    ):
        assert api(create_event(load_event, secret_key, body))["statusCode"] in (400, 422)
    items = aws.ddb.scan(TableName=aws.table)["Items"]
    assert [i for i in items if i["pk"]["S"].startswith(("TOKEN#", "IDEM#"))] == []


# --- the callback URL's base ---------------------------------------------------------------------------


def test_callback_url_includes_a_named_stage(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    event = create_event(load_event, secret_key)
    event["requestContext"]["stage"] = "prod"
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod" + event["rawPath"]  # as API Gateway sends it
    url = body_of(api(event))["url"]
    assert url.startswith(f"https://{event['requestContext']['domainName']}/prod/api/v1/waitpoints/tokens/waitpoint_")


def test_callback_url_uses_the_public_url_when_configured(
    api: Invoke, secret_key: str, load_event: LoadEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAITPOINTS_PUBLIC_URL", "https://hooks.example.com/")
    runtime.reset()
    body = body_of(api(create_event(load_event, secret_key)))
    assert body["url"].startswith(f"https://hooks.example.com/api/v1/waitpoints/tokens/{body['id']}/callback/")
