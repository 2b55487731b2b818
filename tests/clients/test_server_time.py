"""The clients keep the service's own time from the ``Date`` header of its responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from pdmc.clients._core import ServerClock
from pdmc.emulator import Emulator


def test_the_mailchimp_client_reads_mailchimps_time_from_each_response():
    """Before any call the time is unknown; after each one it is the service's, to the second."""
    emulator = Emulator()
    emulator.advance(0.75)
    client = emulator.mailchimp_client()
    assert client.server_time is None

    client.get_audience(emulator.mailchimp.default_audience_id)
    assert client.server_time == emulator.clock.now().replace(microsecond=0)

    emulator.advance(90)
    client.ping()
    assert client.server_time == emulator.clock.now().replace(microsecond=0)


async def test_the_async_mailchimp_client_reads_mailchimps_time_too():
    """The async client keeps the service's time as the sync one does."""
    emulator = Emulator()
    async with emulator.async_mailchimp_client() as client:
        assert client.server_time is None
        await client.get_audience(emulator.mailchimp.default_audience_id)
        assert client.server_time == emulator.clock.now().replace(microsecond=0)


def test_a_late_response_never_moves_the_server_time_back():
    """Responses arriving out of order: the latest time any of them carried wins."""
    clock = ServerClock()
    clock.observe(httpx.Headers({"date": "Tue, 05 Jan 2027 09:00:10 GMT"}))
    clock.observe(httpx.Headers({"date": "Tue, 05 Jan 2027 09:00:04 GMT"}))
    assert clock.latest() == datetime(2027, 1, 5, 9, 0, 10, tzinfo=UTC)


def test_a_missing_or_malformed_date_is_ignored():
    """A response without a usable Date header leaves the known time as it was."""
    clock = ServerClock()
    clock.observe(httpx.Headers({}))
    clock.observe(httpx.Headers({"date": "yesterday, around noon"}))
    assert clock.latest() is None
    clock.observe(httpx.Headers({"date": "Tue, 05 Jan 2027 09:00:10 -0100"}))
    clock.observe(httpx.Headers({"date": "not a date"}))
    assert clock.latest() == datetime(2027, 1, 5, 9, 0, 10, tzinfo=UTC) + timedelta(hours=1)
