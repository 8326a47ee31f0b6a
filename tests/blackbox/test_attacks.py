"""Hostile requests over HTTP: another environment's key on every route, public access tokens outside their
one route, path traversal, oversized ids, hashes, headers and bodies. Each must get a 4xx JSON error (never
a 5xx), change nothing, and echo no credential back."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from .helpers import TOKENS, callback_path, complete, create, error_of, retrieve


def _unchanged(api: httpx.Client, token_id: str) -> None:
    token = retrieve(api, token_id)
    assert token["status"] == "WAITING" and "output" not in token, token


def test_another_environments_key_on_every_route(api: httpx.Client, other_api: httpx.Client) -> None:
    mine = create(api, idempotencyKey="shared-key", tags=["shared-tag"])
    # retrieve, complete (with and without a body), list (all, by tag, by idempotency key, by status)
    assert error_of(other_api.get(f"{TOKENS}/{mine['id']}"), 404) == "Waitpoint not found"
    assert error_of(complete(other_api, mine["id"], {"data": "theirs"}), 404) == "Waitpoint not found"
    assert error_of(other_api.post(f"{TOKENS}/{mine['id']}/complete"), 404) == "Waitpoint not found"
    for params in (
        {},
        {"filter[tags]": "shared-tag"},
        {"filter[idempotencyKey]": "shared-key"},
        {"filter[status]": "WAITING"},
        {"page[size]": "100"},
    ):
        listed = other_api.get(TOKENS, params=params)
        assert listed.status_code == 200 and mine["id"] not in {t["id"] for t in listed.json()["data"]}
    # create: idempotency keys belong to an environment, so the same key there is another token
    theirs = create(other_api, idempotencyKey="shared-key")
    assert theirs["id"] != mine["id"] and theirs["isCached"] is False
    # their public access token cannot complete my token either
    assert complete(
        httpx.Client(base_url=str(api.base_url), headers={"Authorization": f"Bearer {theirs['publicAccessToken']}"}),
        mine["id"],
        {"data": 1},
    ).status_code in (403, 404)
    _unchanged(api, mine["id"])


@pytest.mark.parametrize("route", ["create", "list", "retrieve"])
def test_a_public_access_token_only_completes(api: httpx.Client, anonymous: httpx.Client, route: str) -> None:
    token = create(api)
    auth = {"Authorization": f"Bearer {token['publicAccessToken']}"}
    response = {
        "create": lambda: anonymous.post(TOKENS, json={}, headers=auth),
        "list": lambda: anonymous.get(TOKENS, headers=auth),
        "retrieve": lambda: anonymous.get(f"{TOKENS}/{token['id']}", headers=auth),
    }[route]()
    assert token["publicAccessToken"] not in error_of(response, 401)


@pytest.mark.parametrize(
    "raw",
    [
        "..",
        "../..",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2f",
        "waitpoint_%2E%2E",
        "waitpoint_..%00",
        "%00",
        "waitpoint_" + "a" * 10_000,
        "a" * 25 + "%2F..",
        "waitpoint_aaaaaaaaaaaaaaaaaaaaaaaaa%0A",
    ],
)
def test_path_traversal_and_oversized_ids_are_404(api: httpx.Client, anonymous: httpx.Client, raw: str) -> None:
    token = create(api)
    for method, path in (("GET", f"{TOKENS}/{raw}"), ("POST", f"{TOKENS}/{raw}/complete")):
        response = api.request(method, path, json={"data": 1} if method == "POST" else None)
        assert response.status_code in (400, 404), (path, response.status_code, response.text)
        assert response.json().keys() == {"error"} or response.json().keys() == {"message"}
    url_hash = token["url"].rsplit("/", 1)[1]
    response = anonymous.post(f"{TOKENS}/{raw}/callback/{url_hash}", json={})
    assert response.status_code in (401, 404), (raw, response.status_code, response.text)
    _unchanged(api, token["id"])


@pytest.mark.parametrize("forged", ["", "0", "%2F..%2F", "g" * 64, "a" * 10_000, quote("ä" * 32), "%00" * 64])
def test_odd_callback_hashes_are_401_and_not_echoed(api: httpx.Client, anonymous: httpx.Client, forged: str) -> None:
    token = create(api)
    response = anonymous.post(f"{TOKENS}/{token['id']}/callback/{forged}", json={"forged": True})
    assert response.status_code in (401, 404), response.text
    if forged and response.status_code == 401:
        assert forged not in response.text
    _unchanged(api, token["id"])


def test_huge_headers_get_a_4xx_never_a_5xx(api: httpx.Client, stack) -> None:  # type: ignore[no-untyped-def]
    token = create(api)
    huge_key = "wp_dev_" + "A" * 60_000
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        response = client.get(f"{TOKENS}/{token['id']}", headers={"Authorization": f"Bearer {huge_key}"})
        assert 400 <= response.status_code < 500 and huge_key not in response.text
        many = {f"x-junk-{i}": "j" * 100 for i in range(90)}
        response = client.post(
            f"{TOKENS}/{token['id']}/complete",
            json={"data": 1},
            headers={**many, "Authorization": api.headers["Authorization"]},
        )
        assert response.status_code < 500, response.text
    cookie = api.get(f"{TOKENS}/{token['id']}", headers={"Cookie": "c=" + "x" * 8_000})
    assert cookie.status_code < 500


def test_huge_bodies_are_413_and_change_nothing(api: httpx.Client, anonymous: httpx.Client) -> None:
    token = create(api)
    big = b'{"data":"' + b"x" * (3 * 1024 * 1024) + b'"}'  # over the 3 MB completion limit, and create's 10 KB
    error_of(api.post(TOKENS, content=big, headers={"Content-Type": "application/json"}), 413)
    error_of(
        api.post(f"{TOKENS}/{token['id']}/complete", content=big, headers={"Content-Type": "application/json"}), 413
    )
    too_big = anonymous.post(callback_path(token["url"]), content=b"x" * (11 * 1024 * 1024))
    assert too_big.status_code == 413  # API Gateway's own 10 MB limit answers first
    _unchanged(api, token["id"])


def test_invalid_keys_are_not_echoed(anonymous: httpx.Client) -> None:
    for credential in (
        "wp_dev_" + "Z" * 43,
        "wp_prod_secretsecretsecretsecretsecretsecret123",
        "eyJhbGciOiJub25lIn0.e30.",
    ):
        response = anonymous.get(TOKENS, headers={"Authorization": f"Bearer {credential}"})
        assert credential not in error_of(response, 401)
