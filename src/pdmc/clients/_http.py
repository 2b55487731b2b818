"""The thin sync and async shells that send what :class:`ClientCore` builds.

Each shell owns (or borrows) an ``httpx`` client, applies the retry policy with
tenacity, waits for the pacer, keeps the number of requests in flight under the
core's limit, and turns ``httpx`` exceptions into :mod:`pdmc.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import cattrs
import httpx
import tenacity

from pdmc.clients._core import APIRequest, Call, ClientCore, Listing
from pdmc.clients._pagination import AsyncPageIterator, PageIterator
from pdmc.errors import (
    APIError,
    ConnectError,
    RequestTimeoutError,
    ResponseShapeError,
    TransportError,
)

__all__ = ["AsyncHTTP", "SyncHTTP", "default_timeout"]

logger = logging.getLogger("pdmc.http")

T = TypeVar("T")


def default_timeout() -> httpx.Timeout:
    """The default timeouts: 10 s to connect, 60 s for the rest."""
    return httpx.Timeout(60.0, connect=10.0)


def _transport_error(request: APIRequest, exc: httpx.TransportError) -> TransportError:
    method, path = request.operation.method, request.path
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(f"{method} {path} timed out", method=method, url=path)
    return ConnectError(
        f"{method} {path}: the connection failed ({type(exc).__name__})", method=method, url=path
    )


def _without_query(url: str) -> str:
    # A pre-signed download URL carries its signature in the query: a credential.
    return str(httpx.URL(url).copy_with(query=None))


def _downloaded(url: str, response: httpx.Response) -> bytes:
    if not response.is_success:
        where = _without_query(url)
        raise APIError(
            f"GET {where} failed with {response.status_code}",
            status_code=response.status_code,
            method="GET",
            url=where,
        )
    return response.content


def _structured(call: Call[T], body: Any) -> T:
    """Structure a decoded body, turning a shape mismatch into a typed error."""
    try:
        return call.structure(body)
    except (KeyError, TypeError, ValueError, AttributeError, cattrs.BaseValidationError) as exc:
        operation = call.request.operation.id
        raise ResponseShapeError(
            f"{operation}: the response does not have the documented shape ({type(exc).__name__})",
            operation=operation,
        ) from exc


def _retrying_kwargs(core: ClientCore, request: APIRequest) -> dict[str, Any]:
    policy = core.retry
    idempotent = request.operation.idempotent

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.wait_seconds(error, state.attempt_number)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        # tenacity computes a wait even after the last try, then stops without
        # sleeping; only a wait that really happens is counted and logged.
        error = state.outcome.exception() if state.outcome else None
        seconds = state.upcoming_sleep
        core.usage.record_wait(seconds)
        logger.info(
            "retrying %s after %s (try %d of %d, waiting %.2fs)",
            request.operation.id,
            type(error).__name__,
            state.attempt_number + 1,
            policy.attempts,
            seconds,
        )

    return {
        "stop": tenacity.stop_after_attempt(policy.attempts),
        "wait": wait,
        "before_sleep": before_sleep,
        "retry": tenacity.retry_if_exception(
            lambda error: policy.is_retryable(error, idempotent=idempotent)
        ),
        "reraise": True,
    }


class SyncHTTP:
    """Sends requests for a sync client; safe to share between threads."""

    def __init__(
        self,
        core: ClientCore,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.core = core
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(
            transport=transport, timeout=timeout or default_timeout()
        )
        self._sleep = sleep
        self._slots = (
            threading.BoundedSemaphore(core.max_concurrency) if core.max_concurrency else None
        )

    def close(self) -> None:
        """Close the ``httpx`` client if this shell created it."""
        if self._owns_client:
            self._client.close()

    def request(self, request: APIRequest) -> Any:
        """Send ``request`` with retries; return the decoded body or raise."""
        tries = 0

        def attempt() -> Any:
            nonlocal tries
            tries += 1
            return self._attempt(request, retry=tries > 1)

        retrying = tenacity.Retrying(sleep=self._sleep, **_retrying_kwargs(self.core, request))
        return retrying(attempt)

    def call(self, call: Call[T]) -> T:
        """Send a call and structure its result."""
        return _structured(call, self.request(call.request))

    def listing(self, listing: Listing[T]) -> PageIterator[T]:
        """Return an iterator over the items of every page of a listing."""
        request = listing.request
        return PageIterator(
            lambda params: self.request(request.with_params(params)),
            listing.pagination,
            request.params,
            listing.structure,
        )

    def download(self, url: str) -> bytes:
        """GET an absolute, pre-signed URL without credentials; return the body."""
        try:
            response = self._client.get(url)
        except httpx.TransportError as exc:
            where = _without_query(url)
            raise ConnectError(f"GET {where} failed", method="GET", url=where) from exc
        return _downloaded(url, response)

    def _attempt(self, request: APIRequest, *, retry: bool) -> Any:
        self._wait_for_pacer(request)
        built = self.core.build(request)
        with self._slot():
            try:
                response = self._client.send(built, auth=self.core.auth)
                # The body is read; dropping the stream breaks httpx's response <-> stream
                # cycle, so each page is freed at once instead of at the next full GC.
                response.stream = httpx.ByteStream(b"")
            except httpx.TransportError as exc:
                self.core.usage.record(request.operation, retry=retry, rate_limited=False)
                raise _transport_error(request, exc) from exc
        self.core.observe(request, response, retry=retry)
        return self.core.decode(request, response)

    def _wait_for_pacer(self, request: APIRequest) -> None:
        pacer = self.core.pacer
        while pacer is not None and (delay := pacer.reserve()) > 0:
            if delay > self.core.retry.max_wait:
                raise self.core.quota_exhausted(request, delay)
            self.core.usage.record_wait(delay)
            self._sleep(delay)

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        if self._slots is None:
            yield
            return
        with self._slots:
            yield


class AsyncHTTP:
    """Sends requests for an async client; safe to share between tasks of one loop."""

    def __init__(
        self,
        core: ClientCore,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.core = core
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            transport=transport, timeout=timeout or default_timeout()
        )
        self._sleep = sleep
        self._slots = asyncio.Semaphore(core.max_concurrency) if core.max_concurrency else None

    async def aclose(self) -> None:
        """Close the ``httpx`` client if this shell created it."""
        if self._owns_client:
            await self._client.aclose()

    async def request(self, request: APIRequest) -> Any:
        """Send ``request`` with retries; return the decoded body or raise."""
        tries = 0

        async def attempt() -> Any:
            nonlocal tries
            tries += 1
            return await self._attempt(request, retry=tries > 1)

        retrying = tenacity.AsyncRetrying(sleep=self._sleep, **_retrying_kwargs(self.core, request))
        return await retrying(attempt)

    async def call(self, call: Call[T]) -> T:
        """Send a call and structure its result."""
        return _structured(call, await self.request(call.request))

    def listing(self, listing: Listing[T]) -> AsyncPageIterator[T]:
        """Return an async iterator over the items of every page of a listing."""
        request = listing.request
        return AsyncPageIterator(
            lambda params: self.request(request.with_params(params)),
            listing.pagination,
            request.params,
            listing.structure,
        )

    async def download(self, url: str) -> bytes:
        """GET an absolute, pre-signed URL without credentials; return the body."""
        try:
            response = await self._client.get(url)
        except httpx.TransportError as exc:
            where = _without_query(url)
            raise ConnectError(f"GET {where} failed", method="GET", url=where) from exc
        return _downloaded(url, response)

    async def _attempt(self, request: APIRequest, *, retry: bool) -> Any:
        await self._wait_for_pacer(request)
        built = self.core.build(request)
        async with self._slot():
            try:
                response = await self._client.send(built, auth=self.core.auth)
                # The body is read; dropping the stream breaks httpx's response <-> stream
                # cycle, so each page is freed at once instead of at the next full GC.
                response.stream = httpx.ByteStream(b"")
            except httpx.TransportError as exc:
                self.core.usage.record(request.operation, retry=retry, rate_limited=False)
                raise _transport_error(request, exc) from exc
        self.core.observe(request, response, retry=retry)
        return self.core.decode(request, response)

    async def _wait_for_pacer(self, request: APIRequest) -> None:
        pacer = self.core.pacer
        while pacer is not None and (delay := pacer.reserve()) > 0:
            if delay > self.core.retry.max_wait:
                raise self.core.quota_exhausted(request, delay)
            self.core.usage.record_wait(delay)
            await self._sleep(delay)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._slots is None:
            yield
            return
        async with self._slots:
            yield
