"""Values a JSON body can carry that cannot be stored as they are (issue 14, #2 and #9): lone UTF-16
surrogates anywhere in a body, numbers beyond a double's range, and tags that a listing could never find.
Each is a 400 naming what is wrong, the same through the API and the callback URL, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from .support import body_of, with_auth, with_body, with_hash, with_id

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
Create = Callable[..., dict[str, Any]]

# JSON text (escapes, as a sender writes them): a lone high, a lone low, and a reversed pair.
SURROGATES = ['"\\ud800"', '"\\udfff"', '"\\udc00\\ud800"', '"ok \\ud83d"']
NON_FINITE = ["1e309", "-1e309", "1" * 400 + ".0", "[1, 2e400]"]


def complete_event(load_event: LoadEvent, key: str, token_id: str, body: str) -> dict[str, Any]:
    return with_body(with_id(with_auth(load_event("api_complete_token"), key), token_id), body)


def callback_event(load_event: LoadEvent, url: str, body: str, content_type: str) -> dict[str, Any]:
    *_, token_id, _, url_hash = url.split("/")
    event = with_hash(with_id(load_event("callback_json"), token_id), url_hash)
    return with_body(event, body, content_type=content_type)


def create_event(load_event: LoadEvent, key: str, body: str) -> dict[str, Any]:
    return with_body(with_auth(load_event("api_create_token"), key), body)


def assert_unchanged(aws: Deployment, token_id: str) -> None:
    token = aws.store.get_token(token_id)
    assert token is not None and token.status.value == "WAITING" and token.output is None


@pytest.mark.parametrize("text", SURROGATES)
def test_lone_surrogate_in_complete_data_is_400(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent, text: str
) -> None:
    token_id = create()["id"]
    for body in ('{"data": ' + text + "}", '{"data": {"k": [' + text + "]}}", '{"data": {' + text + ": 1}}"):
        response = api(complete_event(load_event, secret_key, token_id, body))
        assert response["statusCode"] == 400, (body, response)
        assert "surrogate" in body_of(response)["error"]
    assert_unchanged(aws, token_id)


@pytest.mark.parametrize("text", SURROGATES)
@pytest.mark.parametrize("content_type", ["application/json", "application/cloudevents+json"])
def test_lone_surrogate_in_json_callback_body_is_400(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent, text: str, content_type: str
) -> None:
    created = create()
    for body in (text, '{"status": ' + text + "}", "[" + text + "]"):
        response = callback(callback_event(load_event, created["url"], body, content_type))
        assert response["statusCode"] == 400, (body, response)
        assert "surrogate" in body_of(response)["error"]
    assert_unchanged(aws, created["id"])


def test_lone_surrogate_in_a_guarded_callback_is_400(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    """A completeWhen token reads the body's fields and records its delivery id: neither may see a surrogate."""
    created = create({"completeWhen": {"status": ["done"]}})
    body = '{"object": "event", "id": "evt_\\ud800", "status": "\\ud800"}'
    response = callback(callback_event(load_event, created["url"], body, "application/json"))
    assert response["statusCode"] == 400, response
    assert_unchanged(aws, created["id"])
    assert "deliveries" not in json.dumps(aws.item(created["id"]))


def test_paired_surrogate_escapes_are_an_ordinary_character(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    token_id = create()["id"]
    response = api(complete_event(load_event, secret_key, token_id, '{"data": {"e": "\\ud83d\\ude00"}}'))
    assert response["statusCode"] == 200, response
    token = aws.store.get_token(token_id)
    assert token is not None and json.loads(token.output or "") == {"e": "\U0001f600"}


@pytest.mark.parametrize(
    "field",
    [
        '"tags": [{s}]',
        '"tags": {s}',
        '"idempotencyKey": {s}',
        '"timeout": {s}',
        '"idempotencyKeyTTL": {s}',
        '"completeWhen": {{"status": [{s}]}}',
        '"completeWhen": {{{s}: ["x"]}}',
        '"webhookSignature": {{"scheme": "stripe", "secret": {s}}}',
    ],
)
def test_lone_surrogate_in_any_create_field_is_400(
    api: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent, field: str
) -> None:
    body = "{" + field.format(s='"a\\ud800"') + "}"
    response = api(create_event(load_event, secret_key, body))
    assert response["statusCode"] == 400, (body, response)
    assert "surrogate" in body_of(response)["error"]


@pytest.mark.parametrize("number", NON_FINITE)
def test_non_finite_number_in_complete_is_400(
    api: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent, number: str
) -> None:
    token_id = create()["id"]
    response = api(complete_event(load_event, secret_key, token_id, '{"data": ' + number + "}"))
    assert response["statusCode"] == 400, response
    assert "double" in body_of(response)["error"]
    assert_unchanged(aws, token_id)


@pytest.mark.parametrize("number", NON_FINITE)
def test_non_finite_number_in_json_callback_is_400_like_complete(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent, number: str
) -> None:
    """The callback used to store `1e309` as JSON (which every reader then parses as Infinity) while complete
    refused it; both refuse it now, with the same words."""
    created = create()
    for body in (number, '{"n": ' + number + "}"):
        response = callback(callback_event(load_event, created["url"], body, "application/json"))
        assert response["statusCode"] == 400, (body, response)
        assert "double" in body_of(response)["error"]
    assert_unchanged(aws, created["id"])


def test_largest_finite_double_is_still_accepted(callback: Invoke, create: Create, load_event: LoadEvent) -> None:
    created = create()
    response = callback(callback_event(load_event, created["url"], '{"n": 1.7976931348623157e308}', "application/json"))
    assert response["statusCode"] == 200, response


@pytest.mark.parametrize("tags", ['"a,b"', '["ok", "a,b"]', '[","]'])
def test_tag_with_a_comma_is_400(api: Invoke, secret_key: str, load_event: LoadEvent, tags: str) -> None:
    """filter[tags]=a,b splits on commas, so a tag holding one could never be listed."""
    response = api(create_event(load_event, secret_key, '{"tags": ' + tags + "}"))
    assert response["statusCode"] == 400, response
    assert "comma" in body_of(response)["error"]
