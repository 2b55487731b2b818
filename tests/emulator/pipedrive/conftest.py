"""Fixtures of the Pipedrive emulator tests: one emulated Pipedrive, clients, a webhook inbox.

The rig wires a :class:`PipedriveEmulator` alone to an :class:`EmulatorTransport`
(the public pieces ``Emulator`` is built from), so these tests stand on the
Pipedrive half only. :class:`ContractCheck` wraps a transport and validates every
request and response against the official contracts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pdmc.clients import PipedriveClient, RetryPolicy
from pdmc.emulator import EmulatorClock, EmulatorTransport, FaultPlan, WebhookDelivery
from pdmc.emulator.pipedrive import PipedriveEmulator
from tests.contracts import ValidationResult, validate_exchange

API = "https://api.pipedrive.com"


class Inbox:
    """A webhook endpoint for tests: records deliveries and answers ``status``."""

    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self.status = 200

    def __call__(self, delivery: WebhookDelivery) -> int:
        self.deliveries.append(delivery)
        return self.status

    def payloads(self) -> list[dict[str, Any]]:
        """The JSON body of every delivery, in order."""
        return [json.loads(d.body) for d in self.deliveries]

    def metas(self) -> list[dict[str, Any]]:
        """``meta`` of every delivery, in order."""
        return [payload["meta"] for payload in self.payloads()]


class ContractCheck(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Passes traffic to ``inner`` and validates every exchange against the contracts."""

    def __init__(self, inner: EmulatorTransport) -> None:
        self.inner = inner
        self.results: list[ValidationResult] = []
        self.statuses: list[int] = []

    def _check(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.results.append(validate_exchange(request, response))
        self.statuses.append(response.status_code)
        return response

    def answered(self) -> set[str]:
        """operationIds that got at least one success (2xx) answer."""
        return {
            result.operation_id
            for result, status in zip(self.results, self.statuses, strict=True)
            if result.operation_id is not None and 200 <= status < 300
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return self._check(request, response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self._check(request, response)

    @property
    def failures(self) -> list[str]:
        """Every contract violation seen, one text per exchange."""
        return [str(result) for result in self.results if not result.ok]

    @property
    def response_failures(self) -> list[str]:
        """Exchanges whose response broke its contract (whatever the request was)."""
        return [
            str(result)
            for result in self.results
            if any(error.startswith("response") for error in result.errors)
        ]


class Rig:
    """One emulated Pipedrive with its clock, faults, transport and webhook inbox."""

    def __init__(self, *, plan: str = "professional") -> None:
        self.clock = EmulatorClock()
        self.faults = FaultPlan()
        self.pipedrive = PipedriveEmulator(self.clock, plan=plan)
        self.inbox = Inbox()
        self.pipedrive.webhook_handler = self.inbox
        self.transport = EmulatorTransport(
            [self.pipedrive],
            self.faults,
            advance=self.clock.advance,
            after_request=self.pipedrive.deliver_webhooks,
        )
        self.checked = ContractCheck(self.transport)

    @property
    def token(self) -> str:
        """The default company's API token."""
        return self.pipedrive.default_company.api_token.reveal()

    def client(self, **kwargs: Any) -> PipedriveClient:
        """pdmc's client for the default company, on emulated time, contract-checked."""
        kwargs.setdefault("retry", RetryPolicy.no_wait(attempts=1))
        return PipedriveClient(
            self.pipedrive.default_company.api_token,
            transport=self.checked,
            sleep=self.clock.sleep,
            clock=self.clock.monotonic,
            **kwargs,
        )

    def http(
        self, *, token: str | None = None, base_url: str = API, checked: bool = True
    ) -> httpx.Client:
        """A raw ``httpx`` client with the API token header, contract-checked unless
        ``checked`` is false (for tests that send thousands of requests)."""
        return httpx.Client(
            base_url=base_url,
            transport=self.checked if checked else self.transport,
            headers={"x-api-token": token if token is not None else self.token},
        )

    def advance(self, seconds: float) -> None:
        """Move the clock and deliver what became due."""
        self.clock.advance(seconds)
        self.pipedrive.deliver_webhooks()


def basic(user: str, password: str) -> str:
    """An ``Authorization: Basic`` header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def rig() -> Iterator[Rig]:
    """A fresh emulated Pipedrive (professional plan).

    After the test, every response it answered must have followed its contract,
    even those to requests the test made wrong on purpose.
    """
    made = Rig()
    yield made
    assert made.checked.response_failures == []


@pytest.fixture
def http(rig: Rig) -> Iterator[httpx.Client]:
    """A raw, contract-checked client of the rig."""
    with rig.http() as client:
        yield client
