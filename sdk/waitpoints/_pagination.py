"""``list_tokens``'s lazy iterators: pages are fetched only as iteration reaches them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from ._types import Token, TokenPage


def _next_params(params: dict[str, str], page: TokenPage) -> dict[str, str] | None:
    """The parameters of the page after ``page``: the same filters and size, with ``page[after]``."""
    if page.next_cursor is None:
        return None
    following = {k: v for k, v in params.items() if k not in ("page[after]", "page[before]")}
    following["page[after]"] = page.next_cursor
    return following


class TokenList:
    """The tokens that match a ``list_tokens`` query, newest first, fetched a page at a time.

    Iterate it for the tokens (``for token in client.list_tokens(...)``), or call ``pages()`` for the pages.
    Each iteration starts again from the first page.
    """

    def __init__(self, fetch: Callable[[dict[str, str]], TokenPage], params: dict[str, str]) -> None:
        self._fetch = fetch
        self.params = dict(params)

    def pages(self) -> Iterator[TokenPage]:
        """Each page in turn, following ``pagination.next``."""
        params: dict[str, str] | None = self.params
        while params is not None:
            page = self._fetch(params)
            yield page
            params = _next_params(params, page)

    def first_page(self) -> TokenPage:
        """Only the first page."""
        return self._fetch(self.params)

    def __iter__(self) -> Iterator[Token]:
        for page in self.pages():
            yield from page.data

    def __repr__(self) -> str:
        return f"TokenList({self.params!r})"


class AsyncTokenList:
    """The async twin of ``TokenList``: ``async for token in client.list_tokens(...)``."""

    def __init__(self, fetch: Callable[[dict[str, str]], Awaitable[TokenPage]], params: dict[str, str]) -> None:
        self._fetch = fetch
        self.params = dict(params)

    async def pages(self) -> AsyncIterator[TokenPage]:
        """Each page in turn, following ``pagination.next``."""
        params: dict[str, str] | None = self.params
        while params is not None:
            page = await self._fetch(params)
            yield page
            params = _next_params(params, page)

    async def first_page(self) -> TokenPage:
        """Only the first page."""
        return await self._fetch(self.params)

    async def __aiter__(self) -> AsyncIterator[Token]:
        async for page in self.pages():
            for token in page.data:
                yield token

    def __repr__(self) -> str:
        return f"AsyncTokenList({self.params!r})"
