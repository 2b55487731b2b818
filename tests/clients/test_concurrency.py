"""Mailchimp's 10-connection limit: a client never has more requests in flight than allowed."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pdmc.clients import AsyncMailchimpClient, MailchimpClient
from pdmc.clients.mailchimp import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from pdmc.errors import ConfigurationError
from tests.cassettes.build_cassettes import ADA, LIST_ID, MAILCHIMP_KEY, member_json

CALLS = 50


class InFlight:
    """Counts requests being answered at once and remembers the most seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.answered = 0

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1
            self.answered += 1


def _member() -> httpx.Response:
    return httpx.Response(200, json=member_json(ADA))


@pytest.mark.parametrize("limit", [1, 3, DEFAULT_CONCURRENCY, MAX_CONCURRENCY])
async def test_async_client_keeps_at_most_its_limit_in_flight(limit: int) -> None:
    """50 concurrent calls through one async client never exceed max_concurrency in flight."""
    flight = InFlight()
    gate = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        flight.enter()
        if flight.now == limit:
            gate.set()  # the limit was reached: let every request finish
        await gate.wait()
        await asyncio.sleep(0)
        flight.leave()
        return _member()

    async with AsyncMailchimpClient(
        MAILCHIMP_KEY, transport=httpx.MockTransport(answer), max_concurrency=limit
    ) as client:
        members = await asyncio.gather(*(client.get_member(LIST_ID, ADA) for _ in range(CALLS)))
    assert len(members) == flight.answered == CALLS
    assert flight.most == limit


@pytest.mark.parametrize("limit", [1, 4, MAX_CONCURRENCY])
def test_sync_client_shared_by_threads_keeps_at_most_its_limit_in_flight(limit: int) -> None:
    """50 threads sharing one client never have more than max_concurrency requests in flight."""
    flight = InFlight()
    turn = threading.Condition()

    def answer(request: httpx.Request) -> httpx.Response:
        with turn:
            flight.enter()
            turn.notify_all()
            # Hold each request until the limit is filled (or only the last few are left),
            # then a moment longer: a client that let more through would have them in.
            turn.wait_for(lambda: flight.now >= limit or flight.now + flight.answered == CALLS, 5)
            turn.wait(0.002)
        with turn:
            flight.leave()
            turn.notify_all()
        return _member()

    with (
        MailchimpClient(
            MAILCHIMP_KEY, transport=httpx.MockTransport(answer), max_concurrency=limit
        ) as client,
        ThreadPoolExecutor(max_workers=CALLS) as pool,
    ):
        members = list(pool.map(lambda _: client.get_member(LIST_ID, ADA), range(CALLS)))
    assert len(members) == flight.answered == CALLS
    assert flight.most == limit


@pytest.mark.parametrize("limit", [0, MAX_CONCURRENCY + 1, 50])
def test_a_limit_outside_one_to_ten_is_refused(limit: int) -> None:
    """max_concurrency above Mailchimp's 10 connections (or below 1) is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="between 1 and 10"):
        MailchimpClient(MAILCHIMP_KEY, max_concurrency=limit)
    with pytest.raises(ConfigurationError, match="between 1 and 10"):
        AsyncMailchimpClient(MAILCHIMP_KEY, max_concurrency=limit)
