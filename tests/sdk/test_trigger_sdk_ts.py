"""Trigger.dev's official TypeScript SDK (@trigger.dev/sdk 4.8.3) against the session's local stack.

tests/sdk_ts/trigger_sdk.mjs makes the calls with `configure({baseURL, accessToken, requestOptions: {retry:
{maxAttempts: 1}}})` and prints what each returned; these tests check every call succeeded and returned
what the service stored (read back over plain HTTP). The npm packages are installed once, with `npm ci`,
into tests/sdk_ts/node_modules; the tests skip only when node or npm is not installed.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from .conftest import TS_DIR

if TYPE_CHECKING:
    from .conftest import SdkStack

SCRIPT = TS_DIR / "trigger_sdk.mjs"


def run_scenario(node: str, stack: SdkStack, scenario: str) -> dict[str, Any]:
    env = {
        "PATH": str(Path(node).parent),
        "HOME": str(TS_DIR),
        "WAITPOINTS_API_URL": stack.url,
        "WAITPOINTS_SECRET_KEY": stack.key,
        "RUN_ID": uuid.uuid4().hex[:12],
    }
    result = subprocess.run(
        [node, str(SCRIPT), scenario], cwd=TS_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def stored(stack: SdkStack, token_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.url}/api/v1/waitpoints/tokens/{token_id}", headers={"Authorization": f"Bearer {stack.key}"}
    )
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def value(results: dict[str, Any], name: str) -> Any:
    outcome = results[name]
    assert outcome["ok"], f"{name}: {outcome}"
    return outcome["value"]


FIELDS = (
    "id",
    "url",
    "status",
    "tags",
    "createdAt",
    "timeoutAt",
    "completedAt",
    "idempotencyKey",
    "idempotencyKeyExpiresAt",
)


def same_fields(sdk_token: dict[str, Any], api: dict[str, Any], fields: tuple[str, ...] = FIELDS) -> None:
    """The SDK's token object carries exactly what the API stored (dates as the same instants)."""
    for field in fields:
        assert sdk_token.get(field) == api.get(field), field


@pytest.fixture(scope="module")
def results(node: str, sdk_stack: SdkStack) -> dict[str, Any]:
    return run_scenario(node, sdk_stack, "tokens")


def test_create_token_with_timeout_key_and_tags(results: dict[str, Any], sdk_stack: SdkStack) -> None:
    created = value(results, "created")
    assert created["id"].startswith("waitpoint_") and created["isCached"] is False
    assert created["publicAccessToken"].count(".") == 2
    api = stored(sdk_stack, created["id"])
    assert api["url"] == created["url"] and api["tags"][1] == "ts-sdk" and api["idempotencyKey"].startswith("ts-sdk-")
    same_fields(value(results, "retrievedWaiting"), api | {"status": "WAITING", "completedAt": None})


def test_create_token_with_a_description_as_the_guide_does(results: dict[str, Any], sdk_stack: SdkStack) -> None:
    """`wait.createToken({timeout: "1h", description: "Waiting for approval"})` ("Working with Wait Tokens in
    v4") is stored and returned by retrieve; the SDK's retrieve and list still parse (their schemas drop it)."""
    created = value(results, "described")
    api = stored(sdk_stack, created["id"])
    assert api["description"] == "Waiting for approval" and api["status"] == "WAITING"
    retrieved = value(results, "retrievedDescribed")
    same_fields(retrieved, api)
    assert "description" not in retrieved  # zod strips what the SDK does not know: nothing breaks
    (listed,) = value(results, "listedDescribed")
    assert listed["id"] == created["id"] and listed["status"] == "WAITING"


def test_a_second_create_with_the_key_is_cached(results: dict[str, Any]) -> None:
    created, cached = value(results, "created"), value(results, "cached")
    assert cached["isCached"] is True and cached["id"] == created["id"] and cached["url"] == created["url"]


def test_retrieve_token_reads_what_the_service_stored(results: dict[str, Any], sdk_stack: SdkStack) -> None:
    waiting = value(results, "retrievedWaiting")
    assert waiting["status"] == "WAITING" and "output" not in waiting
    completed = value(results, "retrievedCompleted")
    api = stored(sdk_stack, completed["id"])
    same_fields(completed, api)
    assert (
        completed["output"]
        == json.loads(api["output"])
        == {"status": "approved", "n": 1, "nested": {"list": [1, "two", None]}}
    )
    # The API's audit record (an extension, issue 17) is in what the SDK read, and the SDK's parsing of the
    # token is unaffected by it: Trigger.dev's schemas ignore fields they do not know.
    assert api["audit"]["door"] == "secret_key" and api["audit"]["action"] == "complete"
    assert "keyId" in api["audit"] and sdk_stack.key not in json.dumps(api["audit"])


def test_complete_token_with_the_secret_key_and_again(results: dict[str, Any]) -> None:
    assert value(results, "completed") == {"success": True}
    assert value(results, "completedAgain") == {"success": True}  # first completion wins, 200 all the same
    assert value(results, "retrievedAfterAgain")["output"]["status"] == "approved"


def test_a_date_timeout_is_stored(results: dict[str, Any], sdk_stack: SdkStack) -> None:
    created = value(results, "createdWithDate")
    assert stored(sdk_stack, created["id"])["timeoutAt"] == results["dateTimeout"]


def test_complete_token_with_the_public_access_token(results: dict[str, Any], sdk_stack: SdkStack) -> None:
    assert value(results, "completedWithPublicToken") == {"success": True}
    text = value(results, "retrievedText")
    assert text["status"] == "COMPLETED" and text["output"] == "plain text"
    api = stored(sdk_stack, text["id"])
    assert (api["output"], api["outputType"]) == ("plain text", "text/plain")


def test_complete_token_without_data(results: dict[str, Any]) -> None:
    assert value(results, "completedNoData") == {"success": True}
    token = value(results, "retrievedNoData")
    assert token["status"] == "COMPLETED" and "output" not in token


def test_errors_are_the_sdks_own_classes(results: dict[str, Any]) -> None:
    expected = {
        "completedOtherWithWrongToken": ("PermissionDeniedError", 403),
        "notFound": ("NotFoundError", 404),
        "badKey": ("AuthenticationError", 401),
        "tooManyTags": ("UnprocessableEntityError", 422),
    }
    for name, (error, status) in expected.items():
        outcome = results[name]
        assert not outcome["ok"] and (outcome["error"], outcome["status"]) == (error, status), name
    assert results["notFound"]["message"] == "Waitpoint not found"


def test_a_timed_out_token_has_the_sdks_timeout_error(results: dict[str, Any], sdk_stack: SdkStack) -> None:
    token = value(results, "retrievedTimedOut")
    assert token["status"] == "TIMED_OUT" and "output" not in token
    assert token["error"] == {
        "error": "WaitpointTimeoutError",
        "message": f"Waitpoint timed out at {token['timeoutAt']}",
    }
    same_fields(token, stored(sdk_stack, token["id"]))


def test_list_tokens_with_filters_and_pages(node: str, sdk_stack: SdkStack) -> None:
    results = run_scenario(node, sdk_stack, "list")
    ids = results["ids"]
    everything = value(results, "all")
    assert sorted(t["id"] for t in everything) == sorted(ids)
    for token in everything:  # a tag listing may not show a completion yet: the stream syncs it
        same_fields(
            token,
            stored(sdk_stack, token["id"]),
            ("id", "url", "tags", "createdAt", "timeoutAt", "idempotencyKey", "idempotencyKeyExpiresAt"),
        )
        assert "output" not in token
    assert {t["id"] for t in value(results, "waiting")} == set(ids[1:])
    assert {t["id"] for t in value(results, "completedOrTimedOut")} == {ids[0]}
    assert [t["id"] for t in value(results, "byKey")] == [ids[1]]
    assert {t["id"] for t in value(results, "lastHour")} == set(ids)
    assert {t["id"] for t in value(results, "fromTo")} == set(ids)
    assert value(results, "future") == []
    pages = value(results, "pages")
    assert len(pages["first"]) == 2 and pages["hasNext"] and len(pages["second"]) == 1
    assert set(pages["first"] + pages["second"]) == set(ids)


def test_a_rejected_token_retrieves_and_lists_without_error(node: str, sdk_stack: SdkStack) -> None:
    results = run_scenario(node, sdk_stack, "rejected")
    assert results["rejectStatus"] == 200
    token = value(results, "retrieved")
    assert token["id"] == results["id"] and token["status"] == "COMPLETED"
    assert "output" not in token  # the SDK turns an error output into `error`
    assert token["error"]["message"] == "Waitpoint rejected: Not this quarter"
    api = stored(sdk_stack, results["id"])
    assert api["rejected"] is True and api["rejectReason"] == "Not this quarter" and api["outputIsError"] is True
    same_fields(token, api)
    listed = value(results, "listed")
    assert [t["id"] for t in listed] == [results["id"]] and listed[0]["status"] == "COMPLETED"
    assert value(results, "listedCompleted") is not None  # a status filter of the SDK's own kinds works too


def test_the_official_sdk_needs_only_trigger_api_url_and_trigger_secret_key(node: str, sdk_stack: SdkStack) -> None:
    """A Trigger.dev user's environment, nothing else: no configure(), no WAITPOINTS_* variable."""
    env = {
        "PATH": str(Path(node).parent),
        "HOME": str(TS_DIR),
        "TRIGGER_API_URL": sdk_stack.url,
        "TRIGGER_SECRET_KEY": sdk_stack.key,
    }
    result = subprocess.run(
        [node, str(TS_DIR / "env_only.mjs")], cwd=TS_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["id"].startswith("waitpoint_") and f"/tokens/{out['id']}/callback/" in out["url"]
    assert (out["waiting"], out["completed"], out["output"]) == ("WAITING", "COMPLETED", {"approved": True})
    assert stored(sdk_stack, out["id"])["status"] == "COMPLETED"
