"""POST /api/v1/waitpoints/tokens/{id}/callback/{hash}: no API key, the hash is the credential."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

import boto3
import pytest

from .helpers import TOKENS, callback_path, create, error_of, retrieve

if TYPE_CHECKING:
    import httpx

    from .conftest import Stack


def _callback(anonymous: httpx.Client, url: str, **kwargs: object) -> httpx.Response:
    return anonymous.post(callback_path(url), **kwargs)  # type: ignore[arg-type]


def test_json_body_becomes_the_output(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    response = _callback(anonymous, created["url"], json={"status": "succeeded", "output": ["a.png"]})
    assert response.status_code == 200 and response.json() == {"success": True}
    token = retrieve(api, created["id"])
    assert token["status"] == "COMPLETED" and token["outputType"] == "application/json"
    assert json.loads(token["output"]) == {"status": "succeeded", "output": ["a.png"]}


def test_form_body_becomes_an_object_of_its_fields(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    _callback(
        anonymous,
        created["url"],
        content=b"decision=approve&note=ok+then&tag=a&tag=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    output = json.loads(retrieve(api, created["id"])["output"])
    assert output == {"decision": "approve", "note": "ok then", "tag": ["a", "b"]}


def test_json_sent_the_curl_way_is_json(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    _callback(
        anonymous,
        created["url"],
        content=b'{"approved": true}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert json.loads(retrieve(api, created["id"])["output"]) == {"approved": True}


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_other_bodies_are_kept_as_text(api: httpx.Client, anonymous: httpx.Client, content_type: str | None) -> None:
    created = create(api)
    headers = {"content-type": content_type} if content_type else {}
    _callback(anonymous, created["url"], content=b"<ok>done</ok>", headers=headers)
    token = retrieve(api, created["id"])
    assert (token["output"], token["outputType"]) == ("<ok>done</ok>", "text/plain")


def test_empty_body_is_an_empty_object(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    assert _callback(anonymous, created["url"]).status_code == 200
    token = retrieve(api, created["id"])
    assert (token["output"], token["outputType"]) == ("{}", "application/json")


@pytest.mark.parametrize(
    "forge",
    [
        lambda h, other: "0" * 64,
        lambda h, other: h.upper(),
        lambda h, other: h[:-1],
        lambda h, other: h + "0",
        lambda h, other: other,
        lambda h, other: hmac.new(b"another deployment", b"x", hashlib.sha256).hexdigest(),
    ],
)
def test_forged_hashes_are_401_and_change_nothing(api: httpx.Client, anonymous: httpx.Client, forge) -> None:  # type: ignore[no-untyped-def]
    created, other = create(api), create(api)
    good = created["url"].rsplit("/", 1)[1]
    path = f"{TOKENS}/{created['id']}/callback/{forge(good, other['url'].rsplit('/', 1)[1])}"
    error_of(anonymous.post(path, json={"forged": True}), 401)
    assert retrieve(api, created["id"])["status"] == "WAITING"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405(api: httpx.Client, anonymous: httpx.Client, method: str) -> None:
    created = create(api)
    response = anonymous.request(method, callback_path(created["url"]))
    error_of(response, 405)
    assert response.headers["allow"] == "POST"


def test_already_completed_is_200_and_unchanged(api: httpx.Client, anonymous: httpx.Client) -> None:
    created = create(api)
    _callback(anonymous, created["url"], json={"n": 1})
    again = _callback(anonymous, created["url"], json={"n": 2})
    assert again.status_code == 200 and again.json() == {"success": True}
    assert json.loads(retrieve(api, created["id"])["output"]) == {"n": 1}


def test_timed_out_is_200_and_stays_timed_out(api: httpx.Client, anonymous: httpx.Client) -> None:
    import time

    created = create(api, timeout="1s")
    time.sleep(1.2)
    assert _callback(anonymous, created["url"], json={"late": True}).status_code == 200
    assert retrieve(api, created["id"])["status"] == "TIMED_OUT"


def test_correct_hash_for_a_token_that_does_not_exist_is_404(local_stack: Stack, anonymous: httpx.Client) -> None:
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=local_stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    arn = secrets.list_secrets()["SecretList"][0]["ARN"]
    from waitpoints_core.signing import SigningKeys

    keys = SigningKeys.from_secret_string(secrets.get_secret_value(SecretId=arn)["SecretString"])
    missing = "waitpoint_" + "q" * 25
    response = anonymous.post(f"{TOKENS}/{missing}/callback/{keys.callback_hash(missing)}", json={})
    assert error_of(response, 404) == "Waitpoint not found"
