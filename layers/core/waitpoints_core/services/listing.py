"""Listing: one page of an environment's tokens, newest first, and the signed cursors to its neighbours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..durations import now_ms
from ..listing import AFTER, BEFORE, Cursor, KeyRange, decode_cursor, encode_cursor, list_sort_key

if TYPE_CHECKING:
    from ..keyring import KeyRing
    from ..listing import ListFilters, ListQuery
    from ..models import Waitpoint
    from ..ports import ListingStore


@dataclass(frozen=True)
class TokenPage:
    """One page of a listing, newest first, with the cursors to the neighbouring pages (None: no such page)."""

    tokens: list[Waitpoint]
    next: str | None
    previous: str | None


class ListingService:
    def __init__(self, store: ListingStore, signing_keys: KeyRing) -> None:
        self._store = store
        self._signing_keys = signing_keys

    def list_tokens(self, env: str, query: ListQuery) -> TokenPage:
        """One page of `env`'s tokens, newest first, each with its status as seen now.

        `page[before]` wins over `page[after]` (as in Trigger.dev). A cursor only works with the environment
        and filters it was made for; any other cursor is InvalidInput naming the parameter.
        """
        now = now_ms()
        param, text = (BEFORE, query.before) if query.before is not None else (AFTER, query.after)
        cursor = self._read_cursor(text, param, env, query.filters) if text is not None else None
        window = cursor.window if cursor else query.filters.window(now)
        forward = cursor.forward if cursor else True
        found = self._store.list_tokens(env, query.filters, KeyRange.of(window, cursor), forward, query.size + 1, now)
        more = len(found) > query.size
        page = found[: query.size] if forward else found[: query.size][::-1]
        first: str | None
        last: str | None
        if page:
            first, last = list_sort_key(page[0].created_at, page[0].id), list_sort_key(page[-1].created_at, page[-1].id)
        else:  # an empty page after a cursor still links back across that cursor's boundary
            first = last = cursor.boundary if cursor else None
        has_next = more if forward else cursor is not None
        has_previous = cursor is not None if forward else more

        def link(boundary: str | None, to_older: bool, wanted: bool) -> str | None:
            if not wanted or boundary is None:
                return None
            return encode_cursor(
                Cursor(boundary, to_older, window), env, query.filters, self._signing_keys.get().sign_cursor
            )

        return TokenPage([t.seen_at(now) for t in page], link(last, True, has_next), link(first, False, has_previous))

    def _read_cursor(self, text: str, param: str, env: str, filters: ListFilters) -> Cursor:
        def verify(payload: bytes, tag: bytes) -> bool:
            if self._signing_keys.get().verify_cursor(payload, tag):
                return True
            fresh = self._signing_keys.refresh_for_miss()  # a key rotated in by another container
            return fresh is not None and fresh.verify_cursor(payload, tag)

        return decode_cursor(text, param, env, filters, verify)
