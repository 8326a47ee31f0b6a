"""The create request's validation, and how a stored token reads at a given time."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from waitpoints_core import CompleteTokenRequest, CreateTokenRequest, Principal, TokenStatus, Waitpoint
from waitpoints_core.durations import format_iso

# --- CreateTokenRequest --------------------------------------------------------------------------------


def test_camel_case_aliases_are_read() -> None:
    request = CreateTokenRequest.model_validate(
        {"timeout": "1h", "idempotencyKey": "order-42", "idempotencyKeyTTL": "2h", "tags": ["a", "b"]}
    )
    assert request.timeout == "1h"
    assert request.idempotency_key == "order-42"
    assert request.idempotency_key_ttl == "2h"
    assert request.tag_list() == ["a", "b"]


def test_empty_request_has_all_defaults() -> None:
    request = CreateTokenRequest.model_validate({})
    assert (request.timeout, request.idempotency_key, request.idempotency_key_ttl) == (None, None, None)
    assert request.tag_list() == []


def test_timeout_may_be_epoch_ms_integer() -> None:
    assert CreateTokenRequest.model_validate({"timeout": 1_893_456_000_000}).timeout == 1_893_456_000_000


@pytest.mark.parametrize("timeout", [1.5, True, ["10m"], {"m": 10}])
def test_timeout_of_another_type_is_rejected(timeout: object) -> None:
    with pytest.raises(ValidationError):
        CreateTokenRequest.model_validate({"timeout": timeout})


@pytest.mark.parametrize("extra", [{"foo": 1}, {"data": {}}, {"idempotencyKeyTtl": "1h"}, {"Tags": ["a"]}])
def test_unknown_fields_are_rejected(extra: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        CreateTokenRequest.model_validate(extra)
    assert caught.value.errors()[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("field", ["timeout", "idempotencyKey", "idempotencyKeyTTL", "tags"])
def test_explicit_null_is_rejected_naming_the_field(field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field} must not be null"):
        CreateTokenRequest.model_validate({field: None})


def test_single_tag_string_becomes_a_list_of_one() -> None:
    assert CreateTokenRequest.model_validate({"tags": "user:1"}).tag_list() == ["user:1"]


@pytest.mark.parametrize("tags", ["x", "x" * 128, ["x" * 128, "y"], []])
def test_tags_of_1_to_128_chars_are_accepted(tags: str | list[str]) -> None:
    CreateTokenRequest.model_validate({"tags": tags})


@pytest.mark.parametrize("tags", ["", "x" * 129, [""], ["ok", "x" * 129], [1], ["a", None], 5])
def test_tags_out_of_range_or_type_are_rejected(tags: object) -> None:
    with pytest.raises(ValidationError):
        CreateTokenRequest.model_validate({"tags": tags})


def test_eleven_tags_pass_validation_the_service_refuses_them() -> None:
    """The count is checked by the service (422), not by the model (400)."""
    assert len(CreateTokenRequest.model_validate({"tags": [str(i) for i in range(11)]}).tag_list()) == 11


@pytest.mark.parametrize("key", ["k", "k" * 2048])
def test_idempotency_key_of_1_to_2048_chars_is_accepted(key: str) -> None:
    assert CreateTokenRequest.model_validate({"idempotencyKey": key}).idempotency_key == key


@pytest.mark.parametrize("key", ["", "k" * 2049, 42])
def test_idempotency_key_out_of_range_is_rejected(key: object) -> None:
    with pytest.raises(ValidationError):
        CreateTokenRequest.model_validate({"idempotencyKey": key})


def test_request_is_frozen() -> None:
    request = CreateTokenRequest.model_validate({"timeout": "1h"})
    with pytest.raises(ValidationError):
        request.timeout = "2h"  # type: ignore[misc]


# --- CompleteTokenRequest ------------------------------------------------------------------------------


def test_complete_without_data_has_no_data() -> None:
    assert not CompleteTokenRequest.model_validate({}).has_data


@pytest.mark.parametrize("data", [None, 0, "", {}, [], False])
def test_complete_with_falsy_data_still_has_data(data: object) -> None:
    request = CompleteTokenRequest.model_validate({"data": data})
    assert request.has_data
    assert request.data == data


def test_complete_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        CompleteTokenRequest.model_validate({"data": 1, "output": 2})


# --- Waitpoint -----------------------------------------------------------------------------------------

CREATED = 1_800_000_000_000
TIMEOUT = CREATED + 600_000


def waiting(**overrides: object) -> Waitpoint:
    fields: dict[str, object] = {
        "id": "waitpoint_" + "a" * 25,
        "env": "dev",
        "status": TokenStatus.WAITING,
        "created_at": CREATED,
        "timeout_at": TIMEOUT,
        "expires_at": (TIMEOUT + 30 * 86_400_000) // 1000,
    }
    return Waitpoint(**{**fields, **overrides})  # type: ignore[arg-type]


def test_waiting_before_timeout_reads_as_stored() -> None:
    token = waiting()
    assert token.seen_at(TIMEOUT - 1) is token


def test_waiting_at_or_past_timeout_reads_timed_out() -> None:
    for now in (TIMEOUT, TIMEOUT + 1, TIMEOUT + 86_400_000):
        seen = waiting().seen_at(now)
        assert seen.status is TokenStatus.TIMED_OUT
        assert seen.output_is_error is True
        assert seen.completed_at == TIMEOUT
        assert seen.output_type == "application/json"
        assert json.loads(seen.output or "") == {
            "code": "WAITPOINT_TIMEOUT",
            "message": f"Waitpoint timed out at {format_iso(TIMEOUT)}",
        }


def test_timed_out_output_is_compact_json_with_millisecond_iso() -> None:
    seen = waiting().seen_at(TIMEOUT + 5)
    assert seen.output == (
        '{"code":"WAITPOINT_TIMEOUT","message":"Waitpoint timed out at ' + format_iso(TIMEOUT) + '"}'
    )
    assert format_iso(TIMEOUT).endswith(".000Z")


def test_timed_out_reading_does_not_change_the_stored_token() -> None:
    token = waiting()
    token.seen_at(TIMEOUT + 1)
    assert token.status is TokenStatus.WAITING
    assert token.output is None


def test_completed_token_past_its_timeout_stays_completed() -> None:
    token = waiting(
        status=TokenStatus.COMPLETED, completed_at=CREATED + 5, output='{"ok":true}', output_type="application/json"
    )
    assert token.seen_at(TIMEOUT + 1) == token


def test_exists_until_its_ttl_second() -> None:
    token = waiting(expires_at=2_000_000_000)
    assert token.exists_at(1_999_999_999_999)
    assert not token.exists_at(2_000_000_000_000)
    assert not token.exists_at(2_000_000_000_001)


def test_principal_with_secret_key_can_complete_anything() -> None:
    assert Principal("dev").can_complete("waitpoint_" + "b" * 25)


def test_principal_with_access_token_is_limited_to_its_scopes() -> None:
    mine, other = "waitpoint_" + "a" * 25, "waitpoint_" + "b" * 25
    principal = Principal("dev", (f"write:waitpoints:{mine}",))
    assert principal.can_complete(mine)
    assert not principal.can_complete(other)
    assert not Principal("dev", ()).can_complete(mine)
