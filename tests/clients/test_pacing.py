"""Pacing by Pipedrive's rate-limit headers: wait for the window before a 429 happens."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pdmc.clients import AsyncPipedriveClient, PipedriveClient, RetryPolicy
from pdmc.errors import QuotaExhaustedError
from tests.cassettes.build_cassettes import PIPEDRIVE_TOKEN
from tests.clients._fakes import AsyncRecordingSleep, RecordingSleep, Script, person_body


def _answer(remaining: int, reset: int) -> httpx.Response:
    headers = {"x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": str(reset)}
    return httpx.Response(200, json=person_body(), headers=headers)


def test_an_exhausted_window_delays_the_next_request_until_it_resets() -> None:
    """remaining 0 and reset 2 make the next request wait 2 s, without any 429."""
    sleep = RecordingSleep()
    sent_at: list[float] = []

    def answer(remaining: int) -> Callable[[httpx.Request], httpx.Response]:
        def reply(_: httpx.Request) -> httpx.Response:
            sent_at.append(sleep.clock.now)
            return _answer(remaining, 2)

        return reply

    script = Script([answer(0), answer(39)])
    with PipedriveClient(
        PIPEDRIVE_TOKEN, transport=script.transport, sleep=sleep, clock=sleep.clock
    ) as client:
        client.get_person(1)
        client.get_person(1)
    assert sleep.waits == [2.0]
    assert sent_at[1] - sent_at[0] == 2.0
    usage = client.usage
    assert (usage.requests, usage.retries, usage.rate_limited, usage.waited) == (2, 0, 0, 2.0)


def test_requests_left_in_the_window_go_out_at_once() -> None:
    """While the window has requests left, nothing waits; the last one waits for the reset."""
    replies = [_answer(2, 2), _answer(1, 2), _answer(0, 2), _answer(39, 2)]
    script, sleep = Script(replies), RecordingSleep()
    client = PipedriveClient(
        PIPEDRIVE_TOKEN, transport=script.transport, sleep=sleep, clock=sleep.clock
    )
    for _ in range(3):
        client.get_person(1)
    assert sleep.waits == []
    client.get_person(1)
    assert sleep.waits == [2.0]


def test_the_window_resets_on_its_own_when_time_passes() -> None:
    """Once the reset time has passed on the clock, no wait is needed."""
    script, sleep = Script([_answer(0, 2), _answer(39, 2)]), RecordingSleep()
    client = PipedriveClient(
        PIPEDRIVE_TOKEN,
        transport=script.transport,
        sleep=sleep,
        clock=sleep.clock,
        retry=RetryPolicy(attempts=1),
    )
    client.get_person(1)
    sleep.clock.now += 2.5
    client.get_person(1)
    assert sleep.waits == []


async def test_the_async_client_paces_through_its_async_sleep() -> None:
    """The async client waits for an exhausted window with its own sleep and clock."""
    script, sleep = Script([_answer(0, 2), _answer(39, 2)]), AsyncRecordingSleep()
    async with AsyncPipedriveClient(
        PIPEDRIVE_TOKEN, transport=script.transport, sleep=sleep, clock=sleep.clock
    ) as client:
        await client.get_person(1)
        await client.get_person(1)
    assert sleep.waits == [2.0]
    assert client.usage.waited == 2.0


def test_a_window_resetting_beyond_max_wait_is_not_waited_for() -> None:
    """A spent budget resetting in hours raises QuotaExhaustedError and sends nothing."""
    script, sleep = Script([_answer(0, 7200), _answer(39, 2)]), RecordingSleep()
    client = PipedriveClient(
        PIPEDRIVE_TOKEN,
        transport=script.transport,
        sleep=sleep,
        clock=sleep.clock,
        retry=RetryPolicy(max_wait=60),
    )
    client.get_person(1)
    with pytest.raises(QuotaExhaustedError) as caught:
        client.get_person(1)
    assert caught.value.retry_after == 7200.0
    assert (client.usage.requests, sleep.waits) == (1, [])


async def test_the_async_client_does_not_wait_beyond_max_wait_either() -> None:
    """The async twin raises QuotaExhaustedError for the same spent window, sending nothing."""
    script, sleep = Script([_answer(0, 7200)]), AsyncRecordingSleep()
    async with AsyncPipedriveClient(
        PIPEDRIVE_TOKEN, transport=script.transport, sleep=sleep, clock=sleep.clock
    ) as client:
        await client.get_person(1)
        with pytest.raises(QuotaExhaustedError):
            await client.get_person(1)
        assert client.usage.requests == 1
