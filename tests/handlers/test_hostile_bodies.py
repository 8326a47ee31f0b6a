"""Bodies within the size limits that are still hard to digest: every one must get an HTTP answer (4xx, or
200 where the callback stores the body as text), never an unhandled exception (a 500 from API Gateway)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .support import body_of, with_auth, with_body, with_hash, with_id

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
Create = Callable[..., dict[str, Any]]

DEEP = "[" * 5_000 + "]" * 5_000  # 10,000 bytes: under the create limit, far deeper than Python's recursion limit
HUGE_INT = "9" * 5_000  # valid JSON; over Python's 4300-digit int conversion limit
# 1e15 is 4 bytes of JSON and 18 once re-serialised (1000000000000000.0): under 256 KiB in, over
# DynamoDB's 400 KB item limit out.
GROWING = "[" + ",".join(["1e15"] * 50_000) + "]"

NO_CRASH = "bug: an unhandled exception escapes the handler (API Gateway answers 500)"


def complete_event(load_event: LoadEvent, key: str, token_id: str, body: str) -> dict[str, Any]:
    return with_body(with_id(with_auth(load_event("api_complete_token"), key), token_id), body)


def callback_event(load_event: LoadEvent, url: str, body: str) -> dict[str, Any]:
    *_, token_id, _, url_hash = url.split("/")
    return with_body(with_hash(with_id(load_event("callback_json"), token_id), url_hash), body)


def test_deeply_nested_create_body_is_400(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    event = with_body(with_auth(load_event("api_create_token"), secret_key), '{"tags":' + DEEP[:-1] + "}")
    assert api(event)["statusCode"] == 400


def test_deeply_nested_complete_body_is_400(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    response = api(complete_event(load_event, secret_key, create()["id"], '{"data":' + DEEP + "}"))
    assert response["statusCode"] == 400


def test_deeply_nested_callback_body_gets_an_answer(callback: Invoke, create: Create, load_event: LoadEvent) -> None:
    response = callback(callback_event(load_event, create()["url"], DEEP))
    assert response["statusCode"] in (200, 400, 413, 415)


def test_huge_integer_in_create_is_400(api: Invoke, secret_key: str, load_event: LoadEvent) -> None:
    event = with_body(with_auth(load_event("api_create_token"), secret_key), '{"timeout":' + HUGE_INT + "}")
    assert api(event)["statusCode"] == 400


def test_huge_integer_in_complete_is_400(api: Invoke, create: Create, secret_key: str, load_event: LoadEvent) -> None:
    response = api(complete_event(load_event, secret_key, create()["id"], '{"data":' + HUGE_INT + "}"))
    assert response["statusCode"] == 400


def test_huge_integer_in_callback_is_stored_as_text(
    callback: Invoke, aws: Deployment, create: Create, load_event: LoadEvent
) -> None:
    created = create()
    assert callback(callback_event(load_event, created["url"], HUGE_INT))["statusCode"] == 200
    token = aws.store.get_token(created["id"])
    assert token is not None and (token.output, token.output_type) == (HUGE_INT, "text/plain")


def test_complete_whose_output_outgrows_what_retrieve_can_return_is_413(
    api: Invoke, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    """1e15 is 4 bytes in, 18 out (1000000000000000.0): a 3 MB body would become a 13 MB output."""
    growing = "[" + ",".join(["1e15"] * 600_000) + "]"
    event = complete_event(load_event, secret_key, create()["id"], '{"data":' + growing + "}")
    assert len(event["body"]) < 3 * 1024 * 1024
    response = api(event)
    assert response["statusCode"] == 413 and "JSON-escaped" in body_of(response)["error"]


def test_callback_whose_output_outgrows_the_item_limit_gets_an_answer(
    callback: Invoke, create: Create, load_event: LoadEvent
) -> None:
    response = callback(callback_event(load_event, create()["url"], GROWING))
    assert response["statusCode"] in (200, 400, 413)


def test_output_dense_in_quotes_that_retrieve_could_not_return_is_413_and_changes_nothing(
    api: Invoke, callback: Invoke, aws: Deployment, create: Create, secret_key: str, load_event: LoadEvent
) -> None:
    """A quote is 1 byte of output, 4 of the retrieve response (escaped in the body, then the body in the Lambda
    response): 1.6 MB of quotes is a 6.4 MB response, over Lambda's 6 MB. Refused at completion, so nothing is
    lost; 1.4 MB of them fits, and retrieve's whole response (as Lambda would serialize it) is under 6 MB."""
    from waitpoints_core.bodies import LAMBDA_RESPONSE_LIMIT

    created = create()
    token_id, url = created["id"], created["url"]
    over = callback_event(load_event, url, '"' * 1_600_000)
    over["headers"]["content-type"] = "text/plain"
    response = callback(over)
    assert response["statusCode"] == 413 and "Lambda's 6 MB" in body_of(response)["error"], response
    token = aws.store.get_token(token_id)
    assert token is not None and token.status.value == "WAITING"
    fits = callback_event(load_event, url, '"' * 1_400_000)
    fits["headers"]["content-type"] = "text/plain"
    assert callback(fits)["statusCode"] == 200
    retrieve = with_id(with_auth(load_event("api_retrieve_token"), secret_key), token_id)
    answer = api(retrieve)
    assert answer["statusCode"] == 200 and body_of(answer)["output"] == '"' * 1_400_000
    assert 5_600_000 < len(json.dumps(answer).encode()) <= LAMBDA_RESPONSE_LIMIT
