"""The async SDK against the session's local stack: the same calls as the sync client, awaited."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from waitpoints import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    Token,
    TokenStatus,
    WaitpointTimeoutError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .conftest import SdkStack

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(sdk_stack: SdkStack) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(sdk_stack.url, sdk_stack.key, max_retries=1) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def test_create_retrieve_complete(client: AsyncClient) -> None:
    key = unique("async")
    created = await client.create_token(timeout=timedelta(minutes=5), idempotency_key=key, tags=["async", key])
    assert (await client.create_token(idempotency_key=key)).is_cached
    token = await client.retrieve_token(created)
    assert token.status is TokenStatus.WAITING and token.tags == ("async", key) and token.idempotency_key == key
    assert token.timeout_at is not None and token.timeout_at - token.created_at == timedelta(minutes=5)
    assert await client.complete_token(created, {"status": "approved"}) is True
    assert (await client.retrieve_token(created.id)).output == {"status": "approved"}


async def test_concurrent_calls_share_the_client(client: AsyncClient) -> None:
    created = await asyncio.gather(*(client.create_token(tags=[f"c{i}"]) for i in range(4)))
    assert len({c.id for c in created}) == 4
    assert all(await asyncio.gather(*(client.complete_token(c, i) for i, c in enumerate(created))))
    tokens = await asyncio.gather(*(client.retrieve_token(c) for c in created))
    assert [t.output for t in tokens] == list(range(4))


async def test_public_access_token_and_errors(client: AsyncClient, sdk_stack: SdkStack) -> None:
    mine, other = await client.create_token(), await client.create_token()
    async with AsyncClient(sdk_stack.url, mine.public_access_token, max_retries=0) as browser:
        with pytest.raises(PermissionDeniedError):
            await browser.complete_token(other, 1)
        assert await browser.complete_token(mine, "ok") is True
    with pytest.raises(NotFoundError, match="Waitpoint not found"):
        await client.retrieve_token("waitpoint_" + "0" * 25)
    with pytest.raises(BadRequestError, match="timeout"):
        await client.create_token(timeout="soon")
    async with AsyncClient(sdk_stack.url, "wp_dev_" + "y" * 43, max_retries=0) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.retrieve_token(mine)


async def test_for_token_resolves_when_another_task_completes_the_token(
    client: AsyncClient, sdk_stack: SdkStack
) -> None:
    created = await client.create_token(timeout="1h")
    first_read = asyncio.Event()
    reads = 0

    class Counting(AsyncClient):
        async def retrieve_token(self, token_or_id: object) -> Token:  # type: ignore[override]
            nonlocal reads
            token = await super().retrieve_token(token_or_id)  # type: ignore[arg-type]
            reads += 1
            first_read.set()
            return token

    async def approve() -> None:
        await first_read.wait()
        async with httpx.AsyncClient() as http:  # through the callback URL, as a webhook would
            response = await http.post(created.url, json={"status": "approved"})
            assert response.status_code == 200

    async with Counting(sdk_stack.url, sdk_stack.key) as waiter:
        result, _ = await asyncio.gather(waiter.for_token(created, poll_interval=0.2, timeout=60), approve())
    assert result.ok and result.unwrap() == {"status": "approved"}
    assert reads >= 2


async def test_for_token_ends_when_the_token_times_out(client: AsyncClient) -> None:
    created = await client.create_token(timeout="1s")
    result = await client.for_token(created, poll_interval=5, timeout=30)
    assert not result.ok and result.timed_out
    with pytest.raises(WaitpointTimeoutError, match="Waitpoint timed out at"):
        result.unwrap()


async def test_for_token_gives_up_at_its_own_timeout(client: AsyncClient) -> None:
    created = await client.create_token(timeout="1h")
    result = await client.for_token(created, poll_interval=0.1, timeout=0.3)
    assert isinstance(result.error, WaitTimeoutError) and result.token.status is TokenStatus.WAITING


async def test_list_iterates_pages_lazily(client: AsyncClient) -> None:
    tag = unique("alist")
    ids = {(await client.create_token(tags=[tag])).id for _ in range(3)}
    assert {t.id async for t in client.list_tokens(tags=[tag], limit=2)} == ids
    pages = [p async for p in client.list_tokens(tags=tag, limit=2).pages()]
    assert [len(p.data) for p in pages] == [2, 1]
    first = await client.list_tokens_page(tags=[tag], status="WAITING", limit=2)
    assert first.next_cursor and len(first.data) == 2
