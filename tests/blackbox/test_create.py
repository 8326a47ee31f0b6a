"""POST /api/v1/waitpoints/tokens over real HTTP."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from .helpers import TOKEN_ID, TOKENS, create, error_of, jwt_claims, parse_iso, retrieve

if TYPE_CHECKING:
    import httpx


def test_create_returns_id_url_and_access_token(api: httpx.Client) -> None:
    response = api.post(TOKENS, json={})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "url", "isCached", "publicAccessToken"}
    assert TOKEN_ID.match(body["id"])
    assert body["isCached"] is False
    assert body["url"].startswith(f"{api.base_url}{TOKENS}/{body['id']}/callback/".replace("//api", "/api"))
    hash_part = body["url"].rsplit("/", 1)[1]
    assert len(hash_part) == 64 and hash_part == hash_part.lower() and int(hash_part, 16) >= 0
    assert response.headers["x-trigger-jwt"] == body["publicAccessToken"]
    assert (
        json.loads(response.headers["x-trigger-jwt-claims"]) == {"sub": "dev", "pub": True}
        or json.loads(response.headers["x-trigger-jwt-claims"])["pub"] is True
    )


def test_access_token_is_scoped_to_the_token_for_24_hours(api: httpx.Client) -> None:
    body = create(api)
    claims = jwt_claims(body["publicAccessToken"])
    assert claims["scopes"] == [f"write:waitpoints:{body['id']}"]
    assert claims["exp"] - claims["iat"] == 24 * 3600


def test_ids_are_unique(api: httpx.Client) -> None:
    ids = {create(api)["id"] for _ in range(30)}
    assert len(ids) == 30


def test_default_timeout_is_ten_minutes(api: httpx.Client) -> None:
    token = retrieve(api, create(api)["id"])
    assert parse_iso(token["timeoutAt"]) - parse_iso(token["createdAt"]) == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("1h30m", timedelta(minutes=90)),
        ("2hr", timedelta(hours=2)),
        ("2w3d", timedelta(days=17)),
        ("365d", timedelta(days=365)),
    ],
)
def test_duration_timeouts(api: httpx.Client, timeout: str, expected: timedelta) -> None:
    token = retrieve(api, create(api, timeout=timeout)["id"])
    assert parse_iso(token["timeoutAt"]) - parse_iso(token["createdAt"]) == expected


def test_iso_and_epoch_ms_timeouts(api: httpx.Client) -> None:
    at = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=123000)
    iso = retrieve(api, create(api, timeout=at.isoformat().replace("+00:00", "Z"))["id"])
    assert parse_iso(iso["timeoutAt"]) == at
    epoch = retrieve(api, create(api, timeout=int(at.timestamp() * 1000))["id"])
    assert parse_iso(epoch["timeoutAt"]) == at


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timeout": "soon"}, "timeout"),
        ({"timeout": "10 minutes"}, "timeout"),
        ({"timeout": "0s"}, "timeout"),
        ({"timeout": "366d"}, "timeout"),
        ({"timeout": "2020-01-01T00:00:00Z"}, "timeout"),
        ({"timeout": 1_000}, "timeout"),
        ({"timeout": None}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": 1.5}, "timeout"),
        ({"idempotencyKey": ""}, "idempotencyKey"),
        ({"idempotencyKey": "k" * 2049}, "idempotencyKey"),
        ({"idempotencyKey": 5}, "idempotencyKey"),
        ({"idempotencyKey": "k", "idempotencyKeyTTL": "forever"}, "idempotencyKeyTTL"),
        ({"idempotencyKey": "k", "idempotencyKeyTTL": "1000d"}, "idempotencyKeyTTL"),
        ({"tags": ""}, "tags"),
        ({"tags": ["ok", "t" * 129]}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"tags": {"a": 1}}, "tags"),
        ({"timout": "1h"}, "timout"),
    ],
)
def test_invalid_options_are_400_naming_the_field(api: httpx.Client, body: dict[str, object], field: str) -> None:
    assert field in error_of(api.post(TOKENS, json=body), 400)


@pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b'"text"', b"{", b'{"timeout": NaN}'])
def test_a_body_that_is_not_a_json_object_is_400(api: httpx.Client, raw: bytes) -> None:
    error_of(api.post(TOKENS, content=raw, headers={"content-type": "application/json"}), 400)


def test_empty_body_creates_with_defaults(api: httpx.Client) -> None:
    response = api.post(TOKENS, content=b"")
    assert response.status_code == 200 and TOKEN_ID.match(response.json()["id"])


def test_json_body_is_read_whatever_the_content_type(api: httpx.Client) -> None:
    response = api.post(
        TOKENS, content=b'{"tags":"curl"}', headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200
    assert retrieve(api, response.json()["id"])["tags"] == ["curl"]


def test_body_over_32_kib_is_413(api: httpx.Client) -> None:
    body = json.dumps({"tags": ["x"], "idempotencyKey": "k" * 32_800}).encode()
    assert "32768" in error_of(api.post(TOKENS, content=body), 413)


def test_eleven_tags_is_422(api: httpx.Client) -> None:
    message = error_of(api.post(TOKENS, json={"tags": [f"t{i}" for i in range(11)]}), 422)
    assert message == "Waitpoints can only have 10 tags, you're trying to set 11."


def test_tags_as_string_list_and_limits(api: httpx.Client) -> None:
    assert retrieve(api, create(api, tags="one")["id"])["tags"] == ["one"]
    ten = [f"tag-{i}" for i in range(9)] + ["x" * 128]
    assert retrieve(api, create(api, tags=ten)["id"])["tags"] == ten


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wp_dev_" + "x" * 43, "Basic dXNlcjpwYXNz", "Bearer not-a-key", "wp_dev_" + "x" * 43],
)
def test_missing_or_unknown_key_is_401(anonymous: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    error_of(anonymous.post(TOKENS, json={}, headers=headers), 401)


def test_access_token_cannot_create(api: httpx.Client, anonymous: httpx.Client) -> None:
    pat = create(api)["publicAccessToken"]
    error_of(anonymous.post(TOKENS, json={}, headers={"Authorization": f"Bearer {pat}"}), 401)


def test_unauthenticated_comes_before_validation(anonymous: httpx.Client) -> None:
    error_of(anonymous.post(TOKENS, content=b"not json"), 401)


# --- idempotency -----------------------------------------------------------------------------------------


def test_same_idempotency_key_returns_the_same_token(api: httpx.Client) -> None:
    first = create(api, idempotencyKey="order-1", tags=["first"], timeout="1h")
    second = create(api, idempotencyKey="order-1", tags=["second"], timeout="5m")
    assert second["id"] == first["id"] and second["url"] == first["url"]
    assert first["isCached"] is False and second["isCached"] is True
    token = retrieve(api, first["id"])
    assert token["tags"] == ["first"] and token["idempotencyKey"] == "order-1"
    assert parse_iso(token["idempotencyKeyExpiresAt"]) - parse_iso(token["createdAt"]) == timedelta(hours=1)


def test_cached_whatever_the_status(api: httpx.Client) -> None:
    first = create(api, idempotencyKey="done-1")
    assert api.post(f"{TOKENS}/{first['id']}/complete", json={"data": 1}).status_code == 200
    again = create(api, idempotencyKey="done-1")
    assert again["id"] == first["id"] and again["isCached"] is True


def test_new_token_after_the_key_expires(api: httpx.Client) -> None:
    import time

    first = create(api, idempotencyKey="short-lived", idempotencyKeyTTL="1s")
    time.sleep(1.1)
    second = create(api, idempotencyKey="short-lived", idempotencyKeyTTL="1s")
    assert second["id"] != first["id"] and second["isCached"] is False


def test_idempotency_keys_are_per_environment(api: httpx.Client, other_api: httpx.Client) -> None:
    mine = create(api, idempotencyKey="shared-name")
    theirs = create(other_api, idempotencyKey="shared-name")
    assert mine["id"] != theirs["id"] and theirs["isCached"] is False


def test_twenty_concurrent_creates_with_one_key_make_one_token(api: httpx.Client) -> None:
    def attempt(_: int) -> dict[str, object]:
        return create(api, idempotencyKey="race-1", tags=["race"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    assert len({r["id"] for r in results}) == 1
    assert sum(1 for r in results if r["isCached"] is False) == 1
