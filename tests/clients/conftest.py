"""Fixtures of the client tests: every request checked against the contracts, cassettes,
clients wired to them, and no network.

``contract_traffic`` (autouse) watches every request any ``httpx`` client sends during
a test, after auth is applied, and validates it against its contract with the harness
in ``tests.contracts``; the response is validated too, unless the test is marked
``responses_unchecked`` (fault injection, generated bulk pages). A single violation
fails the test at teardown, listing every one.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from pdmc.clients import (
    AsyncMailchimpClient,
    AsyncPipedriveClient,
    MailchimpClient,
    PipedriveClient,
    RetryPolicy,
)
from tests.cassettes.build_cassettes import (
    MAILCHIMP_KEY,
    PIPEDRIVE_TOKEN,
    cassette_vcr,
    outside_the_contracts,
)
from tests.contracts import validate_exchange, validate_request


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "responses_unchecked(reason): the test's responses break the contracts on purpose "
        "(truncated or HTML bodies, generated bulk pages); its requests are still checked",
    )


class ContractTraffic:
    """Validates each request (and response) as it is sent; remembers what was sent."""

    def __init__(self, *, check_responses: bool) -> None:
        self.check_responses = check_responses
        self.keep_requests = True
        self.sent: list[httpx.Request] = []
        self.checked = 0
        self.violations: list[str] = []
        self._valid: set[tuple[object, ...]] = set()

    def observe(self, request: httpx.Request, response: httpx.Response | None) -> None:
        """Check one request and, when it arrived and is to be checked, its response.

        A request identical to one already found valid (same method, URL, headers
        and body) is not validated twice when its response goes unchecked: a walk
        measured with tracemalloc then sees none of the validator's allocations.
        """
        if self.keep_requests:
            self.sent.append(request)
        if outside_the_contracts(request.url) is not None:
            return
        answered = response if self.check_responses else None
        key = (request.method, str(request.url), request.content, *request.headers.multi_items())
        if answered is None and key in self._valid:
            return
        result = (
            validate_request(request) if answered is None else validate_exchange(request, answered)
        )
        self.checked += 1
        if not result.ok:
            self.violations.append(str(result))
        elif answered is None:
            self._valid.add(key)

    def sent_to(self, path: str) -> list[httpx.Request]:
        """The requests sent to ``path`` (no query), in order."""
        return [request for request in self.sent if request.url.path == path]


@pytest.fixture(autouse=True)
def contract_traffic(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ContractTraffic]:
    """Check every request the test sends (after auth, retries and refreshes included)."""
    traffic = ContractTraffic(
        check_responses=request.node.get_closest_marker("responses_unchecked") is None
    )
    # ``_send_single_request`` is where httpx hands each finished request (auth applied,
    # one per try and per OAuth refresh) to the transport, whatever the transport is.
    send_sync = httpx.Client._send_single_request
    send_async = httpx.AsyncClient._send_single_request

    def watched_sync(client: httpx.Client, sent: httpx.Request) -> httpx.Response:
        try:
            response = send_sync(client, sent)
        except Exception:
            traffic.observe(sent, None)
            raise
        response.read()
        traffic.observe(sent, response)
        return response

    async def watched_async(client: httpx.AsyncClient, sent: httpx.Request) -> httpx.Response:
        await sent.aread()
        try:
            response = await send_async(client, sent)
        except Exception:
            traffic.observe(sent, None)
            raise
        await response.aread()
        traffic.observe(sent, response)
        return response

    monkeypatch.setattr(httpx.Client, "_send_single_request", watched_sync)
    monkeypatch.setattr(httpx.AsyncClient, "_send_single_request", watched_async)
    yield traffic
    if traffic.violations:
        pytest.fail(
            f"{len(traffic.violations)} request(s) broke their contract:\n"
            + "\n".join(traffic.violations),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any real connection: cassettes and mock transports answer everything."""

    def refuse(*_: Any) -> None:
        raise OSError("the client tests never touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


Replay = Callable[[str], contextlib.AbstractContextManager[Any]]


@pytest.fixture
def replay() -> Replay:
    """Replay a cassette by name; every recorded exchange must be used, in order."""

    @contextlib.contextmanager
    def play(name: str) -> Iterator[Any]:
        with cassette_vcr().use_cassette(f"{name}.yaml") as cassette:
            yield cassette
        unplayed = len(cassette.data) - cassette.play_count
        assert cassette.all_played, f"{name}: {unplayed} recorded exchange(s) were never requested"

    return play


NO_RETRY = RetryPolicy(attempts=1)


@pytest.fixture
def pipedrive() -> Iterator[PipedriveClient]:
    """A Pipedrive client on the default transport (which vcrpy intercepts)."""
    with PipedriveClient(PIPEDRIVE_TOKEN, retry=NO_RETRY) as client:
        yield client


@pytest.fixture
async def async_pipedrive() -> AsyncIterator[AsyncPipedriveClient]:
    """An async Pipedrive client on the default transport (which vcrpy intercepts)."""
    async with AsyncPipedriveClient(PIPEDRIVE_TOKEN, retry=NO_RETRY) as client:
        yield client


@pytest.fixture
def mailchimp() -> Iterator[MailchimpClient]:
    """A Mailchimp client on the default transport (which vcrpy intercepts)."""
    with MailchimpClient(MAILCHIMP_KEY, retry=NO_RETRY) as client:
        yield client


@pytest.fixture
async def async_mailchimp() -> AsyncIterator[AsyncMailchimpClient]:
    """An async Mailchimp client on the default transport (which vcrpy intercepts)."""
    async with AsyncMailchimpClient(MAILCHIMP_KEY, retry=NO_RETRY) as client:
        yield client
