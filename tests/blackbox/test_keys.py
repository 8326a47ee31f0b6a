"""Key administration on a running stack: list, revoke, rotate the signing key, retire an old one."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.local_stack import admin, running_stack

from .helpers import TOKENS, callback_path, create, error_of, retrieve

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .conftest import Stack


def test_keys_are_listed_without_the_keys(local_stack: Stack) -> None:
    listing = admin("api_keys", local_stack.state_dir, "--list")  # type: ignore[arg-type]
    assert listing.returncode == 0
    assert {line.split()[1] for line in listing.stdout.splitlines()} >= {"dev", "other"}
    assert local_stack.key not in listing.stdout and local_stack.key[: len("wp_dev_") + 4] + "…" in listing.stdout


def test_a_revoked_key_stops_working(local_stack: Stack) -> None:
    state = local_stack.state_dir
    assert state is not None
    key = admin("api_keys", state, "--env", "revoke-me").stdout.strip()
    with local_stack.client(key) as client:
        assert client.post(TOKENS, json={}).status_code == 200
        (key_id,) = [
            line.split()[0] for line in admin("api_keys", state, "--list").stdout.splitlines() if " revoke-me " in line
        ]
        assert admin("api_keys", state, "--revoke", key_id).returncode == 0
        time.sleep(1.2)  # this stack caches known keys for 1 s (60 s by default)
        error_of(client.post(TOKENS, json={}), 401)
    assert admin("api_keys", state, "--revoke", key_id).returncode == 1


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, httpx.Client]]:
    """Rotation changes what every later request is signed with: this test gets a stack of its own."""
    state = tmp_path_factory.mktemp("rotation")
    with (
        running_stack(state, WAITPOINTS_SIGNING_KEY_CACHE_SECONDS="1") as values,
        httpx.Client(
            base_url=values["WAITPOINTS_API_URL"],
            timeout=30,
            headers={"Authorization": f"Bearer {values['WAITPOINTS_SECRET_KEY']}"},
        ) as api,
    ):
        yield state, api


def test_rotation_keeps_outstanding_urls_and_retiring_ends_them(
    local_stack: Stack, own_stack: tuple[Path, httpx.Client]
) -> None:
    state, api = own_stack
    anonymous = httpx.Client(base_url=str(api.base_url))
    before, finished_before = create(api), create(api)
    assert admin("signing_keys", state).returncode == 0
    time.sleep(1.2)  # this stack caches the signing keys for 1 s (300 s by default)
    after = create(api)
    assert callback_path(retrieve(api, before["id"])["url"]) != callback_path(before["url"])  # re-signed with k2
    assert anonymous.post(callback_path(finished_before["url"]), json={"old": 1}).status_code == 200
    assert anonymous.post(callback_path(after["url"]), json={"new": 1}).status_code == 200

    short_cache = {"WAITPOINTS_SIGNING_KEY_CACHE_SECONDS": "1"}  # as this stack's functions: k1 is safe to retire
    assert admin("signing_keys", state, "--retire", "k1", **short_cache).returncode == 0
    time.sleep(1.2)
    error_of(anonymous.post(callback_path(before["url"]), json={"late": 1}), 401)
    assert anonymous.post(callback_path(retrieve(api, before["id"])["url"]), json={"k2": 1}).status_code == 200
    assert "current" in admin("signing_keys", state, "--retire", "k2").stderr
