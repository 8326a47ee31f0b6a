"""Small helpers shared by the black-box tests."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

TOKENS = "/api/v1/waitpoints/tokens"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TOKEN_ID = re.compile(r"^waitpoint_[a-z0-9]{25}$")


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post(TOKENS, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def retrieve(api: httpx.Client, token_id: str) -> dict[str, Any]:
    response = api.get(f"{TOKENS}/{token_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def complete(api: httpx.Client, token_id: str, body: Any, **kwargs: Any) -> httpx.Response:
    return api.post(f"{TOKENS}/{token_id}/complete", json=body, **kwargs)


def callback_path(url: str) -> str:
    """The path of a callback URL (the URL's origin is the stack's own)."""
    return "/" + url.split("/", 3)[3]


def parse_iso(text: str) -> datetime:
    assert ISO_MS.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
    return str(body["error"])


def no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(v is not None and no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nulls(v) for v in value)
    return True
