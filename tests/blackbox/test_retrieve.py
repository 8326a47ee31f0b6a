"""GET /api/v1/waitpoints/tokens/{id} over real HTTP."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

from .helpers import TOKENS, create, error_of, no_nulls, parse_iso, retrieve

if TYPE_CHECKING:
    import httpx


def test_waiting_token_shape(api: httpx.Client) -> None:
    created = create(api, tags=["a", "b"], timeout="1h")
    token = retrieve(api, created["id"])
    assert token == {
        "id": created["id"],
        "url": created["url"],
        "status": "WAITING",
        "createdAt": token["createdAt"],
        "timeoutAt": token["timeoutAt"],
        "tags": ["a", "b"],
        "outputIsError": False,
        "waiters": [],  # a secret key's retrieve lists them (test_waiters.py)
    }
    parse_iso(token["createdAt"])
    parse_iso(token["timeoutAt"])


def test_absent_fields_are_omitted_never_null(api: httpx.Client) -> None:
    token = retrieve(api, create(api)["id"])
    assert no_nulls(token)
    for absent in ("completedAt", "idempotencyKey", "idempotencyKeyExpiresAt", "output", "outputType"):
        assert absent not in token


def test_bare_id_is_accepted(api: httpx.Client) -> None:
    created = create(api)
    assert retrieve(api, created["id"].removeprefix("waitpoint_"))["id"] == created["id"]


@pytest.mark.parametrize(
    "token_id",
    [
        "waitpoint_" + "a" * 25,
        "waitpoint_short",
        "WAITPOINT_" + "A" * 25,
        "nope",
        "..%2F..%2Fetc%2Fpasswd",
        "waitpoint_" + "a" * 500,
        "waitpoint_" + "a" * 24 + "_",
    ],
)
def test_unknown_or_malformed_id_is_404(api: httpx.Client, token_id: str) -> None:
    assert error_of(api.get(f"{TOKENS}/{token_id}"), 404) == "Waitpoint not found"


def test_another_environments_token_is_404(api: httpx.Client, other_api: httpx.Client) -> None:
    created = create(api)
    assert error_of(other_api.get(f"{TOKENS}/{created['id']}"), 404) == "Waitpoint not found"


def test_retrieve_needs_the_secret_key(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    error_of(anonymous.get(f"{TOKENS}/{created['id']}"), 401)
    pat = {"Authorization": f"Bearer {created['publicAccessToken']}"}
    error_of(anonymous.get(f"{TOKENS}/{created['id']}", headers=pat), 401)


def test_past_timeout_reads_timed_out_at_once(api: httpx.Client) -> None:
    created = create(api, timeout="1s")
    assert retrieve(api, created["id"])["status"] == "WAITING"
    time.sleep(1.2)
    token = retrieve(api, created["id"])
    assert token["status"] == "TIMED_OUT"
    assert token["outputIsError"] is True and token["outputType"] == "application/json"
    assert token["completedAt"] == token["timeoutAt"]
    assert json.loads(token["output"]) == {
        "code": "WAITPOINT_TIMEOUT",
        "message": f"Waitpoint timed out at {token['timeoutAt']}",
    }
    assert parse_iso(token["timeoutAt"]) > parse_iso(token["createdAt"])
