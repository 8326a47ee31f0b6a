"""POST /api/v1/waitpoints/tokens/{id}/callback/{hash} through the real callback handler."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from .support import body_of, headers_of, with_body, with_hash, with_id

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
Create = Callable[..., dict[str, Any]]


def callback_event(load_event: LoadEvent, name: str, token_id: str, url_hash: str) -> dict[str, Any]:
    return with_hash(with_id(load_event(name), token_id), url_hash)


def for_url(load_event: LoadEvent, name: str, url: str) -> dict[str, Any]:
    """The sample event, aimed at a callback URL as create returned it."""
    *_, token_id, _, url_hash = url.split("/")
    return callback_event(load_event, name, token_id, url_hash)


def stored(aws: Deployment, token_id: str) -> tuple[str, str | None, str | None]:
    token = aws.store.get_token(token_id)
    assert token is not None
    return token.status.value, token.output, token.output_type


def test_json_callback_completes_with_the_json_value(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    response = callback(for_url(load_event, "callback_json", created["url"]))
    assert response["statusCode"] == 200
    assert body_of(response) == {"success": True}
    assert headers_of(response)["content-type"] == "application/json"
    status, output, output_type = stored(aws, created["id"])
    assert (status, output_type) == ("COMPLETED", "application/json")
    assert json.loads(output or "") == {"status": "approved", "approver": "jane@example.com", "amount": 4200}


def test_form_callback_completes_with_an_object_of_fields(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    assert callback(for_url(load_event, "callback_form", created["url"]))["statusCode"] == 200
    status, output, output_type = stored(aws, created["id"])
    assert (status, output_type) == ("COMPLETED", "application/json")
    assert json.loads(output or "") == {"status": "approved", "approver": "jane@example.com", "note": "looks good"}


def test_text_callback_completes_with_the_text(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    assert callback(for_url(load_event, "callback_text", created["url"]))["statusCode"] == 200
    assert stored(aws, created["id"]) == ("COMPLETED", "approved", "text/plain")


def test_empty_callback_completes_with_an_empty_object(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    event = for_url(load_event, "callback_empty", created["url"])
    assert "body" not in event
    assert callback(event)["statusCode"] == 200
    assert stored(aws, created["id"]) == ("COMPLETED", "{}", "application/json")


def test_base64_encoded_body_is_decoded(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    event = for_url(load_event, "callback_base64", created["url"])
    assert event["isBase64Encoded"] is True
    assert callback(event)["statusCode"] == 200
    status, output, _ = stored(aws, created["id"])
    assert status == "COMPLETED"
    assert json.loads(output or "") == {"status": "approved", "note": "Zoë ☃"}


def test_base64_non_utf8_body_is_415_and_changes_nothing(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    event = with_body(
        for_url(load_event, "callback_text", created["url"]),
        b"\x89PNG\r\n\x1a\n\xff\xfe",
        base64_encoded=True,
        content_type="application/octet-stream",
    )
    response = callback(event)
    assert response["statusCode"] == 415
    assert "UTF-8" in body_of(response)["error"]
    assert stored(aws, created["id"]) == ("WAITING", None, None)


def test_the_callback_url_of_create_works_after_completion_too(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    """A webhook retried after success gets 200 again, and the first data stays."""
    created = create()
    assert callback(for_url(load_event, "callback_text", created["url"]))["statusCode"] == 200
    again = with_body(for_url(load_event, "callback_text", created["url"]), "rejected")
    assert callback(again)["statusCode"] == 200
    assert stored(aws, created["id"]) == ("COMPLETED", "approved", "text/plain")


def test_wrong_hash_is_401_and_changes_nothing(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    response = callback(callback_event(load_event, "callback_json", created["id"], "0" * 64))
    assert response["statusCode"] == 401
    assert "hash does not match" in body_of(response)["error"]
    assert stored(aws, created["id"]) == ("WAITING", None, None)


def test_another_tokens_hash_is_401(callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent) -> None:
    first, second = create(), create()
    other_hash = first["url"].rsplit("/", 1)[1]
    assert callback(callback_event(load_event, "callback_json", second["id"], other_hash))["statusCode"] == 401
    assert stored(aws, second["id"])[0] == "WAITING"


def test_uppercase_hash_is_401(callback: Invoke, create: Create, load_event: LoadEvent) -> None:
    created = create()
    *_, token_id, _, url_hash = created["url"].split("/")
    assert callback(callback_event(load_event, "callback_json", token_id, url_hash.upper()))["statusCode"] == 401


def test_the_placeholder_sample_event_is_401(callback: Invoke, load_event: LoadEvent) -> None:
    assert callback(load_event("callback_json"))["statusCode"] == 401


def test_malformed_id_is_401(callback: Invoke, aws: Deployment, load_event: LoadEvent) -> None:
    assert (
        callback(callback_event(load_event, "callback_json", "../../etc", aws.keys.callback_hash("../../etc")))[
            "statusCode"
        ]
        == 401
    )


def test_get_is_405_with_allow_post(callback: Invoke, create: Create, load_event: LoadEvent) -> None:
    created = create()
    response = callback(for_url(load_event, "callback_get", created["url"]))
    assert response["statusCode"] == 405
    assert headers_of(response)["allow"] == "POST"
    assert "POST" in body_of(response)["error"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD"])
def test_other_methods_are_405(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent, method: str
) -> None:
    created = create()
    event = for_url(load_event, "callback_json", created["url"])
    event["requestContext"]["http"]["method"] = method
    assert callback(event)["statusCode"] == 405
    assert stored(aws, created["id"])[0] == "WAITING"


def test_correct_hash_for_a_missing_token_is_404(callback: Invoke, aws: Deployment, load_event: LoadEvent) -> None:
    token_id = "waitpoint_" + "z" * 25
    response = callback(callback_event(load_event, "callback_json", token_id, aws.keys.callback_hash(token_id)))
    assert response["statusCode"] == 404
    assert body_of(response) == {"error": "Waitpoint not found"}
    assert aws.item(token_id) is None  # the update did not create an item


def test_bare_id_with_the_hash_of_the_full_id_completes(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    *_, token_id, _, url_hash = created["url"].split("/")
    event = callback_event(load_event, "callback_text", token_id.removeprefix("waitpoint_"), url_hash)
    assert callback(event)["statusCode"] == 200
    assert stored(aws, created["id"])[0] == "COMPLETED"


def test_body_over_3_mb_is_413(callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent) -> None:
    created = create()
    event = with_body(for_url(load_event, "callback_text", created["url"]), "x" * (3 * 1024 * 1024 + 1))
    response = callback(event)
    assert response["statusCode"] == 413
    assert "3145728 bytes" in body_of(response)["error"]
    assert stored(aws, created["id"])[0] == "WAITING"


def test_body_of_exactly_256_kib_is_accepted(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    event = with_body(for_url(load_event, "callback_text", created["url"]), "y" * (256 * 1024))
    assert callback(event)["statusCode"] == 200
    assert len(stored(aws, created["id"])[1] or "") == 256 * 1024


def test_wrong_hash_is_checked_before_size(callback: Invoke, create: Create, load_event: LoadEvent) -> None:
    created = create()
    event = with_body(callback_event(load_event, "callback_text", created["id"], "0" * 64), "x" * (300 * 1024))
    assert callback(event)["statusCode"] == 401


def test_callback_for_a_timed_out_token_is_200_and_changes_nothing(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    aws.ddb.update_item(
        TableName=aws.table,
        Key={"pk": {"S": f"TOKEN#{created['id']}"}, "sk": {"S": "TOKEN"}},
        UpdateExpression="SET timeoutAt = :t",
        ExpressionAttributeValues={":t": {"N": str(int(time.time() * 1000) - 1)}},
    )
    assert callback(for_url(load_event, "callback_json", created["url"]))["statusCode"] == 200
    assert stored(aws, created["id"]) == ("WAITING", None, None)


def test_callback_works_for_tokens_of_any_environment(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create(key=aws.mint("prod"))
    assert callback(for_url(load_event, "callback_text", created["url"]))["statusCode"] == 200
    assert stored(aws, created["id"])[0] == "COMPLETED"
