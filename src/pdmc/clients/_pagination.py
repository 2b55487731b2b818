"""Pagination: small strategy objects with no I/O, and iterators that walk pages.

A strategy knows where a page's items are and how to ask for the next page. List
calls return a :class:`PageIterator` (or :class:`AsyncPageIterator`): iterate it
for items, or call :meth:`~PageIterator.pages` to walk whole pages. Only one page
is held in memory at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

from attrs import frozen

from pdmc.errors import PaginationError

__all__ = [
    "AsyncPageIterator",
    "CountOffsetPagination",
    "CursorPagination",
    "Page",
    "PageIterator",
    "Pagination",
    "StartLimitPagination",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

Params = Mapping[str, Any]


class Pagination(Protocol):
    """A paging scheme: where items are, and the query of the next page."""

    def first(self, params: Params) -> Params:
        """Return the query of the first page."""
        ...

    def items(self, body: Any) -> list[Any]:
        """Return the raw items of a page body."""
        ...

    def next(self, params: Params, body: Any) -> Params | None:
        """Return the query of the page after ``body``, or ``None`` at the end.

        Raises:
            PaginationError: the service returned a position it returned before.
        """
        ...

    def total(self, body: Any) -> int | None:
        """Return the total number of items the service reports, if it does."""
        ...


def _position(params: Params) -> tuple[tuple[str, str], ...]:
    """A hashable key of a page's query; list values (``ids=[1, 2]``) hash by their repr."""
    return tuple(sorted((name, repr(value)) for name, value in params.items()))


def _dig(body: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


class CursorPagination:
    """Pipedrive v2: ``cursor`` and ``limit`` (up to 500), ``additional_data.next_cursor``."""

    max_limit = 500

    def __init__(self, *, limit: int = 500, items_key: str = "data") -> None:
        if not 1 <= limit <= self.max_limit:
            raise ValueError(f"limit must be between 1 and {self.max_limit}")
        self.limit = limit
        self.items_key = items_key

    def first(self, params: Params) -> Params:
        return {**params, "limit": self.limit}

    def items(self, body: Any) -> list[Any]:
        found = _dig(body, *self.items_key.split("."))
        return list(found) if isinstance(found, list) else []

    def next(self, params: Params, body: Any) -> Params | None:
        cursor = _dig(body, "additional_data", "next_cursor")
        if not cursor:
            return None
        return {**params, "cursor": cursor}

    def total(self, body: Any) -> int | None:
        del body
        return None


class StartLimitPagination:
    """Pipedrive v1: ``start`` and ``limit``, ``additional_data.pagination``."""

    max_limit = 500

    def __init__(self, *, limit: int = 500, items_key: str = "data") -> None:
        if not 1 <= limit <= self.max_limit:
            raise ValueError(f"limit must be between 1 and {self.max_limit}")
        self.limit = limit
        self.items_key = items_key

    def first(self, params: Params) -> Params:
        return {**params, "start": 0, "limit": self.limit}

    def items(self, body: Any) -> list[Any]:
        found = _dig(body, self.items_key)
        return list(found) if isinstance(found, list) else []

    def next(self, params: Params, body: Any) -> Params | None:
        page = _dig(body, "additional_data", "pagination")
        if not isinstance(page, Mapping) or not page.get("more_items_in_collection"):
            return None
        start = int(params.get("start", 0))
        next_start = page.get("next_start")
        if not isinstance(next_start, int) or next_start <= start:
            raise PaginationError(f"the service returned next_start={next_start!r} after {start}")
        return {**params, "start": next_start}

    def total(self, body: Any) -> int | None:
        del body
        return None


class CountOffsetPagination:
    """Mailchimp: ``count`` (up to 1000) and ``offset``; ``total_items`` ends the walk."""

    max_count = 1000

    def __init__(self, *, items_key: str, count: int = 1000) -> None:
        if not 1 <= count <= self.max_count:
            raise ValueError(f"count must be between 1 and {self.max_count}")
        self.count = count
        self.items_key = items_key

    def first(self, params: Params) -> Params:
        return {**params, "count": self.count, "offset": 0}

    def items(self, body: Any) -> list[Any]:
        found = _dig(body, self.items_key)
        return list(found) if isinstance(found, list) else []

    def next(self, params: Params, body: Any) -> Params | None:
        got = len(self.items(body))
        offset = int(params.get("offset", 0)) + got
        total = self.total(body)
        done = offset >= total if total is not None else got < self.count
        if got == 0 or done:
            return None
        return {**params, "offset": offset}

    def total(self, body: Any) -> int | None:
        total = _dig(body, "total_items")
        return total if isinstance(total, int) else None


@frozen
class Page(Generic[T_co]):
    """One page of a listing: its items, its number (from 1) and the reported total.

    ``resume`` is the query of the next page (``None`` on the last one): store it with
    your checkpoint and pass it to ``pages(resume=...)`` to continue a walk later.
    """

    items: tuple[T_co, ...]
    number: int
    total: int | None
    resume: Mapping[str, Any] | None

    @property
    def has_next(self) -> bool:
        """Whether another page follows."""
        return self.resume is not None


class _Walk(Generic[T]):
    """The no-I/O part of walking pages: numbering, structuring, the loop guard."""

    def __init__(self, pagination: Pagination, structure: Callable[[Any], T]) -> None:
        self._pagination = pagination
        self._structure = structure
        self._seen: set[tuple[tuple[str, str], ...]] = set()
        self._number = 0

    def start(self, params: Params, resume: Params | None = None) -> Params:
        first = dict(resume) if resume is not None else self._pagination.first(params)
        self._seen.add(_position(first))
        return first

    def step(self, params: Params, body: Any) -> tuple[Page[T], Params | None]:
        following = self._pagination.next(params, body)
        if following is not None:
            key = _position(following)
            if key in self._seen:
                raise PaginationError(
                    f"the service sent a page position twice ({dict(following)!r}); stopping"
                )
            self._seen.add(key)
        self._number += 1
        page = Page(
            items=tuple(self._structure(raw) for raw in self._pagination.items(body)),
            number=self._number,
            total=self._pagination.total(body),
            resume=following,
        )
        return page, following


class PageIterator(Generic[T]):
    """Iterate for items; call :meth:`pages` to walk whole pages.

    Each iteration starts from the first page. The HTTP requests happen while you
    iterate, one page at a time. A page position that comes back a second time
    raises :class:`~pdmc.errors.PaginationError` instead of looping forever.
    """

    def __init__(
        self,
        fetch: Callable[[Params], Any],
        pagination: Pagination,
        params: Params,
        structure: Callable[[Any], T],
    ) -> None:
        self._fetch = fetch
        self._pagination = pagination
        self._params = params
        self._structure = structure

    def pages(self, *, resume: Params | None = None) -> Iterator[Page[T]]:
        """Yield each page in turn, from the first or from a page's ``resume`` query."""
        walk = _Walk(self._pagination, self._structure)
        params: Params | None = walk.start(self._params, resume)
        while params is not None:
            page, params = walk.step(params, self._fetch(params))
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class AsyncPageIterator(Generic[T]):
    """The async twin of :class:`PageIterator`: ``async for`` items, or :meth:`pages`."""

    def __init__(
        self,
        fetch: Callable[[Params], Awaitable[Any]],
        pagination: Pagination,
        params: Params,
        structure: Callable[[Any], T],
    ) -> None:
        self._fetch = fetch
        self._pagination = pagination
        self._params = params
        self._structure = structure

    async def pages(self, *, resume: Params | None = None) -> AsyncIterator[Page[T]]:
        """Yield each page in turn, from the first or from a page's ``resume`` query."""
        walk = _Walk(self._pagination, self._structure)
        params: Params | None = walk.start(self._params, resume)
        while params is not None:
            page, params = walk.step(params, await self._fetch(params))
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item
