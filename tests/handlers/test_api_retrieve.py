"""GET /api/v1/waitpoints/tokens/{id} through the real API handler."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_core.durations import format_iso

from .support import body_of, with_auth, with_id, with_json

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
Create = Callable[..., dict[str, Any]]
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def retrieve(api: Invoke, load_event: LoadEvent, key: str | None, token_id: str) -> dict[str, Any]:
    return api(with_id(with_auth(load_event("api_retrieve_token"), key), token_id))


def complete(api: Invoke, load_event: LoadEvent, key: str, token_id: str, body: dict[str, Any]) -> None:
    response = api(with_json(with_id(with_auth(load_event("api_complete_token"), key), token_id), body))
    assert response["statusCode"] == 200, response


def assert_no_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for v in value.values():
            assert v is not None
            assert_no_nulls(v)
    elif isinstance(value, list):
        for v in value:
            assert_no_nulls(v)


def test_waiting_token_shape_omits_absent_fields(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    created = create({"timeout": "1h", "tags": ["a", "b"]})
    response = retrieve(api, load_event, secret_key, created["id"])
    assert response["statusCode"] == 200
    body = body_of(response)
    assert set(body) == {"id", "url", "status", "createdAt", "tags", "timeoutAt", "outputIsError", "waiters"}
    assert body["waiters"] == []  # a secret key's retrieve lists them (tests/handlers/test_waiter_listing.py)
    assert body["id"] == created["id"]
    assert body["url"] == created["url"]
    assert body["status"] == "WAITING"
    assert body["tags"] == ["a", "b"]
    assert body["outputIsError"] is False
    assert ISO_MS.fullmatch(body["createdAt"]) and ISO_MS.fullmatch(body["timeoutAt"])
    assert_no_nulls(body)


def test_timestamps_are_the_stored_ones(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    created = create({"timeout": "2h"})
    stored = aws.store.get_token(created["id"])
    assert stored is not None
    body = body_of(retrieve(api, load_event, secret_key, created["id"]))
    assert body["createdAt"] == format_iso(stored.created_at)
    assert body["timeoutAt"] == format_iso(stored.timeout_at)


def test_idempotency_fields_appear_when_set(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    created = create({"idempotencyKey": "job-7", "idempotencyKeyTTL": "2h"})
    body = body_of(retrieve(api, load_event, secret_key, created["id"]))
    stored = aws.store.get_token(created["id"])
    assert stored is not None
    assert body["idempotencyKey"] == "job-7"
    assert body["idempotencyKeyExpiresAt"] == format_iso(stored.created_at + 2 * 3_600_000)


def test_completed_token_has_output_and_completed_at(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    complete(api, load_event, secret_key, token_id, {"data": {"ok": True, "n": [1, 2]}})
    body = body_of(retrieve(api, load_event, secret_key, token_id))
    assert body["status"] == "COMPLETED"
    assert ISO_MS.fullmatch(body["completedAt"])
    assert body["output"] == '{"ok":true,"n":[1,2]}'
    assert body["outputType"] == "application/json"
    assert body["outputIsError"] is False
    assert_no_nulls(body)


def test_string_output_is_raw_text(api: Invoke, create: Create, secret_key: str, load_event: LoadEvent) -> None:
    token_id = create()["id"]
    complete(api, load_event, secret_key, token_id, {"data": "approved"})
    body = body_of(retrieve(api, load_event, secret_key, token_id))
    assert (body["output"], body["outputType"]) == ("approved", "text/plain")


def test_completed_without_data_has_no_output_field(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    complete(api, load_event, secret_key, token_id, {})
    body = body_of(retrieve(api, load_event, secret_key, token_id))
    assert body["status"] == "COMPLETED"
    assert "output" not in body and "outputType" not in body
    assert "completedAt" in body


def test_completed_with_null_data_stores_json_null(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    complete(api, load_event, secret_key, token_id, {"data": None})
    body = body_of(retrieve(api, load_event, secret_key, token_id))
    assert (body["output"], body["outputType"]) == ("null", "application/json")


def test_waiting_token_past_its_timeout_reads_timed_out(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    timeout_at = int(time.time() * 1000) - 5_000
    aws.ddb.update_item(
        TableName=aws.table,
        Key={"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}},
        UpdateExpression="SET timeoutAt = :t",
        ExpressionAttributeValues={":t": {"N": str(timeout_at)}},
    )
    body = body_of(retrieve(api, load_event, secret_key, token_id))
    assert body["status"] == "TIMED_OUT"
    assert body["outputIsError"] is True
    assert body["completedAt"] == body["timeoutAt"] == format_iso(timeout_at)
    assert body["outputType"] == "application/json"
    assert json.loads(body["output"]) == {
        "code": "WAITPOINT_TIMEOUT",
        "message": f"Waitpoint timed out at {format_iso(timeout_at)}",
    }


def test_bare_id_without_prefix_finds_the_token(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    response = retrieve(api, load_event, secret_key, token_id.removeprefix("waitpoint_"))
    assert response["statusCode"] == 200
    assert body_of(response)["id"] == token_id


def test_unknown_token_is_404(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    response = retrieve(api, load_event, secret_key, "waitpoint_" + "0" * 25)
    assert response["statusCode"] == 404
    assert body_of(response) == {"error": "Waitpoint not found"}


@pytest.mark.parametrize("raw", ["nope", "waitpoint_" + "A" * 25, "..%2F..%2Fetc", "waitpoint_" + "a" * 300, "%00"])
def test_malformed_id_is_404(api: Invoke, secret_key: str, load_event: LoadEvent, raw: str) -> None:
    assert retrieve(api, load_event, secret_key, raw)["statusCode"] == 404


def test_token_of_another_environment_is_404(
    api: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    response = retrieve(api, load_event, aws.mint("prod"), token_id)
    assert response["statusCode"] == 404
    assert body_of(response) == {"error": "Waitpoint not found"}


def test_retrieve_needs_a_secret_key(api: Invoke, create: Create, load_event: LoadEvent) -> None:
    created = create()
    assert retrieve(api, load_event, None, created["id"])["statusCode"] == 401
    assert retrieve(api, load_event, created["publicAccessToken"], created["id"])["statusCode"] == 401


def test_retrieve_with_a_body_is_413(api: Invoke, create: Create, secret_key: str, load_event: LoadEvent) -> None:
    token_id = create()["id"]
    event = with_json(with_id(with_auth(load_event("api_retrieve_token"), secret_key), token_id), {"x": 1})
    assert api(event)["statusCode"] == 413


def test_a_description_is_stored_and_returned_by_retrieve_not_list(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    """`description` (up to 1,000 characters) is returned by retrieve, and kept when the token completes; list
    pages leave it out (their indexes do not project it: docs in README, "Descriptions")."""
    text = "Waiting for approval — " + "x" * (1000 - 23)
    created = create({"timeout": "1h", "description": text, "tags": ["described"]})
    assert body_of(retrieve(api, load_event, secret_key, created["id"]))["description"] == text
    complete(api, load_event, secret_key, created["id"], {"data": 1})
    assert body_of(retrieve(api, load_event, secret_key, created["id"]))["description"] == text
    from tests.security import events

    listed = api(events.list_tokens(secret_key, **{"filter[tags]": "described"}))
    (item,) = body_of(listed)["data"]
    assert item["id"] == created["id"] and "description" not in item
