"""Item size (issue 14, #1): no sequence of requests can grow a token item towards DynamoDB's 400 KB limit.

Every attribute a request can grow has a byte budget (dynamodb/codecs.py, SECURITY.md "Item budget"); each test
drives one attribute to its worst case through the real handlers and measures the item as DynamoDB counts it.
The old `deliveryIds` string set grew by up to 1 KB a delivery (256 emoji) with no bound: about 400 distinct
deliveries made the token impossible to complete, and then stalled the timeout sweep for every environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from waitpoints_core.bodies import OFFLOAD_BYTES
from waitpoints_core.config import CREATE_BODY_LIMIT
from waitpoints_core.dynamodb import codecs

from .support import body_of, with_auth, with_body, with_hash, with_id

if TYPE_CHECKING:
    from .conftest import Deployment, Invoke

LoadEvent = Callable[[str], dict[str, Any]]
EMOJI = "\U0001f600"  # 4 bytes of UTF-8; 12 once JSON-escaped as ASCII (\ud83d\ude00)


def _size(aws: Deployment, token_id: str) -> int:
    item = aws.item(token_id)
    assert item is not None
    return codecs.item_size(item)


def _callback(load_event: LoadEvent, url: str, body: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    *_, token_id, _, url_hash = url.split("/")
    event = with_body(with_hash(with_id(load_event("callback_json"), token_id), url_hash), body)
    event["headers"].update(headers or {})
    return event


def _largest_create(status: str) -> dict[str, Any]:
    """A create body just under the 10 KiB limit, spent where it grows most once stored: completeWhen (kept as
    ASCII JSON, 3 bytes stored per byte sent), 4-byte characters in tags and the idempotency key."""
    body: dict[str, Any] = {
        "tags": [EMOJI * 127 + str(i) for i in range(10)],
        "idempotencyKey": EMOJI * 100,
        "completeWhen": {"status": [status]},
        "timeout": "1h",
    }
    values = body["completeWhen"]["status"]
    while len(json.dumps(body, ensure_ascii=False).encode()) < CREATE_BODY_LIMIT - 600 and len(values) < 20:
        values.append(EMOJI * 100 + str(len(values)))
    while len(json.dumps(body, ensure_ascii=False).encode()) < CREATE_BODY_LIMIT - 40:
        values[-1] += EMOJI
    return body


def _create(api: Invoke, load_event: LoadEvent, key: str, body: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(body, ensure_ascii=False)
    assert len(raw.encode()) <= CREATE_BODY_LIMIT
    response = api(with_body(with_auth(load_event("api_create_token"), key), raw))
    assert response["statusCode"] == 200, response
    created: dict[str, Any] = body_of(response)
    return created


def test_worst_case_create_deliveries_and_output_stay_inside_the_budget(
    api: Invoke, callback: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent
) -> None:
    created = _create(api, load_event, secret_key, _largest_create("done"))
    token_id, url = created["id"], created["url"]
    after_create = _size(aws, token_id)
    assert after_create <= codecs.CREATE_BUDGET, after_create

    # Deliveries: distinct ids of 256 4-byte characters (1 KB each, what the old set stored), past the cap.
    # The first ones are written as record_delivery would have written them (1,000 moto writes of a growing
    # item take 40 s); the last 64 go through record_delivery and the callback URL, across the cap.
    ids = [f"{i:06d}" + EMOJI * 250 for i in range(codecs.DELIVERY_DIGESTS_CAP + 40)]
    seeded = codecs.DELIVERY_DIGESTS_CAP - 24
    aws.ddb.update_item(
        TableName=aws.table,
        Key={"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": "TOKEN"}},
        UpdateExpression="ADD deliveries :n, #ids :ids",
        ExpressionAttributeNames={"#ids": codecs.DELIVERY_DIGESTS},
        ExpressionAttributeValues={
            ":n": {"N": str(seeded)},
            ":ids": {"BS": [codecs.delivery_digest(i) for i in ids[:seeded]]},
        },
    )
    for delivery_id in ids[seeded:-3]:
        assert aws.store.record_delivery(token_id, delivery_id, 1) is True
    for delivery_id in ids[-3:]:  # the last few through the callback URL itself
        event = _callback(load_event, url, '{"status": "pending"}', {"webhook-id": delivery_id})
        assert callback(event)["statusCode"] == 200
    deliveries = len(ids)
    token = aws.store.get_token(token_id)
    assert token is not None and token.deliveries == deliveries
    item = aws.item(token_id)
    assert item is not None and len(item[codecs.DELIVERY_DIGESTS]["BS"]) == codecs.DELIVERY_DIGESTS_CAP
    after_deliveries = _size(aws, token_id)
    assert after_deliveries - after_create <= codecs.DELIVERY_BUDGET, after_deliveries - after_create
    # A sender's retry of a recorded id is still recognised and not counted again, past the cap too.
    assert aws.store.record_delivery(token_id, ids[0], 2) is False
    assert aws.store.record_delivery(token_id, ids[seeded + 1], 2) is False

    # The completing delivery: an output of exactly OFFLOAD_BYTES (the most an item holds), all 4-byte
    # characters. The callback and the API's complete still work, however many deliveries came before.
    pad = EMOJI * ((OFFLOAD_BYTES - len('{"status":"done","pad":""}')) // 4)
    body = json.dumps({"status": "done", "pad": pad}, ensure_ascii=False, separators=(",", ":"))
    body += " " * (OFFLOAD_BYTES - len(body.encode()))
    assert len(body.encode()) == OFFLOAD_BYTES
    response = callback(_callback(load_event, url, body))
    assert response["statusCode"] == 200 and body_of(response) == {"success": True}, response
    final = aws.store.get_token(token_id)
    assert final is not None and final.status.value == "COMPLETED" and final.output_ref is None
    final_size = _size(aws, token_id)
    spent = codecs.CREATE_BUDGET + codecs.DELIVERY_BUDGET + codecs.OUTPUT_BUDGET + codecs.FINAL_BUDGET
    print(f"item bytes: after create {after_create}, after deliveries {after_deliveries}, final {final_size}")
    assert final_size <= spent < codecs.ITEM_LIMIT - codecs.RESERVED_BUDGET, final_size


def test_deliveries_without_ids_and_completions_do_not_grow_the_item(
    api: Invoke, callback: Invoke, aws: Deployment, secret_key: str, load_event: LoadEvent
) -> None:
    """Counted deliveries without an id add nothing but the counter; the output is replaced, never appended."""
    created = _create(api, load_event, secret_key, {"completeWhen": {"status": ["done"]}})
    token_id, url = created["id"], created["url"]
    for _ in range(3):
        assert callback(_callback(load_event, url, '{"status": "pending"}'))["statusCode"] == 200
    before = _size(aws, token_id)
    for _ in range(20):
        assert callback(_callback(load_event, url, '{"status": "pending"}'))["statusCode"] == 200
    assert _size(aws, token_id) <= before + 1  # the counter's digits: 3 → 23
    token = aws.store.get_token(token_id)
    assert token is not None and token.deliveries == 23
