"""Races: many completions of one token, through the API and the callback URL at once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .helpers import callback_path, complete, create, retrieve

if TYPE_CHECKING:
    import httpx


def test_twenty_concurrent_completions_have_one_winner(stack, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    created = create(api)
    barrier = threading.Barrier(20, timeout=60)

    def attempt(n: int) -> int:
        with stack.client() as client:
            barrier.wait()
            if n % 2:
                return complete(client, created["id"], {"data": {"winner": n}}).status_code
            return client.post(callback_path(created["url"]), json={"winner": n}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert statuses == [200] * 20
    first = retrieve(api, created["id"])
    assert first["status"] == "COMPLETED"
    winner = json.loads(first["output"])["winner"]
    assert winner in range(20)
    for _ in range(5):
        assert json.loads(retrieve(api, created["id"])["output"]) == {"winner": winner}
