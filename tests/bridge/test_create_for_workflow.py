"""CreateTokenFunction: workflows create tokens without an API key, in an environment that exists."""

from __future__ import annotations

import pytest
from waitpoints_core import InvalidInput
from waitpoints_local.lambdas import LocalFunction

from .conftest import TEMPLATE, Bridge


@pytest.fixture
def create_token(bridge: Bridge) -> LocalFunction:
    return LocalFunction(next(f for f in TEMPLATE.functions() if f.logical_id == "CreateTokenFunction"))


def test_creates_a_token_with_a_callback_url_on_the_api(bridge: Bridge, create_token: LocalFunction) -> None:
    created = create_token.invoke({"environment": "dev", "timeout": "1h", "tags": ["wf"], "idempotencyKey": "exec-1"})
    assert set(created) == {"id", "url", "isCached", "publicAccessToken"} and created["isCached"] is False
    assert created["url"].startswith(f"https://api.example.test/api/v1/waitpoints/tokens/{created['id']}/callback/")
    again = create_token.invoke({"environment": "dev", "idempotencyKey": "exec-1"})
    assert again["id"] == created["id"] and again["isCached"] is True
    assert bridge.service.tokens.retrieve("dev", created["id"]).tags == ["wf"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"environment": "nowhere"}, "environment"),
        ({}, "environment"),
        ({"environment": "dev", "timeout": "soon"}, "timeout"),
        ({"environment": "dev", "colour": "red"}, "colour"),
    ],
)
def test_bad_payloads_fail_with_invalid_input_naming_the_field(
    create_token: LocalFunction, payload: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        create_token.invoke(payload)
    assert field in raised.value.message
