"""Small fakes for the client tests: scripted transports, recording sleeps, a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx

from tests.contracts import documented_example

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A transport handler that answers each request with the next planned reply.

    A reply is a response, an exception to raise (a timeout, a dropped connection),
    or a function of the request. ``requests`` keeps what arrived, in order.
    """

    def __init__(self, replies: Iterable[Reply]) -> None:
        self._replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self._replies:
            raise AssertionError(f"unplanned request {request.method} {request.url}")
        reply = self._replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            # A client binds the response it receives to itself: answer with a copy,
            # so one planned response can serve several requests and tests.
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return reply(request)

    @property
    def transport(self) -> httpx.MockTransport:
        """The handler as an ``httpx`` transport (sync and async)."""
        return httpx.MockTransport(self)


class RecordingSleep:
    """A ``sleep`` that records how long it was asked to wait and moves its clock as much."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.waits: list[float] = []
        self.clock = clock or FakeClock()

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.now += seconds


class AsyncRecordingSleep:
    """The async twin of :class:`RecordingSleep`."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self._sleep = RecordingSleep(clock)
        self.clock = self._sleep.clock

    @property
    def waits(self) -> list[float]:
        """Every wait asked for, in order."""
        return self._sleep.waits

    async def __call__(self, seconds: float) -> None:
        self._sleep(seconds)


class FakeClock:
    """A monotonic clock that moves only when told (or when a RecordingSleep sleeps)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def person_body(person_id: int = 1) -> Any:
    """The contract's documented ``getPerson`` answer, for another id if asked."""
    body = documented_example("getPerson")
    body["data"]["id"] = person_id
    return body


def pipedrive_error(status: int, error: str, info: str, **headers: str) -> httpx.Response:
    """A Pipedrive error answer: ``{"success": false, "error": ..., "error_info": ...}``."""
    return httpx.Response(
        status,
        json={"success": False, "error": error, "error_info": info, "data": None},
        headers=headers,
    )


def mailchimp_problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    **headers: str,
) -> httpx.Response:
    """A Mailchimp ``application/problem+json`` answer (API-FACTS 2.2)."""
    body: dict[str, Any] = {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "995c5cb0-3280-4a6e-808b-3b096d0bb219",
    }
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(
        status,
        content=httpx.Response(200, json=body).content,
        headers={"content-type": "application/problem+json", **headers},
    )
