"""Fixtures of the Mailchimp emulator tests: one emulated Mailchimp, clients, a webhook inbox.

The fixtures wire a :class:`MailchimpEmulator` alone to an :class:`EmulatorTransport`
(the public pieces ``Emulator`` is built from), so these tests stand on the Mailchimp
half only; tests of the whole ``Emulator`` build their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from pdmc.clients import MailchimpClient, RetryPolicy
from pdmc.emulator import EmulatorClock, EmulatorTransport, FaultPlan, WebhookDelivery
from pdmc.emulator.mailchimp import MailchimpEmulator

API = "https://us6.api.mailchimp.com/3.0"


class Inbox:
    """A webhook endpoint for tests: records deliveries, answers ``status``."""

    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self.status = 200

    def __call__(self, delivery: WebhookDelivery) -> int:
        self.deliveries.append(delivery)
        return self.status

    @property
    def posts(self) -> list[WebhookDelivery]:
        """Event deliveries (validation GETs left out)."""
        return [d for d in self.deliveries if d.method == "POST"]

    def events(self) -> list[dict[str, str]]:
        """The form fields of every event delivered, in order."""
        return [dict(parse_qsl(d.body.decode(), keep_blank_values=True)) for d in self.posts]

    def types(self) -> list[str]:
        """The ``type`` of every event delivered, in order."""
        return [event["type"] for event in self.events()]


class Rig:
    """One emulated Mailchimp with its clock, faults, transport and webhook inbox."""

    def __init__(self) -> None:
        self.clock = EmulatorClock()
        self.faults = FaultPlan()
        self.mailchimp = MailchimpEmulator(self.clock)
        self.inbox = Inbox()
        self.mailchimp.webhook_handler = self.inbox
        self.transport = EmulatorTransport(
            [self.mailchimp],
            self.faults,
            advance=self.clock.advance,
            after_request=self.mailchimp.deliver_webhooks,
        )

    @property
    def list_id(self) -> str:
        """The default audience."""
        return self.mailchimp.default_audience_id

    def client(self, **kwargs: Any) -> MailchimpClient:
        """pdmc's client for the default account, on emulated time, without retries."""
        kwargs.setdefault("retry", RetryPolicy.no_wait(attempts=1))
        return MailchimpClient(
            self.mailchimp.default_account.api_key,
            transport=self.transport,
            sleep=self.clock.sleep,
            **kwargs,
        )

    def http(self, *, key: str | None = None, base_url: str = API) -> httpx.Client:
        """A raw ``httpx`` client with Basic auth (any user name, the API key)."""
        secret = key or self.mailchimp.default_account.api_key.reveal()
        return httpx.Client(transport=self.transport, base_url=base_url, auth=("anyone", secret))

    def advance(self, seconds: float) -> int:
        """Move the clock, then deliver the webhooks that became due."""
        self.clock.advance(seconds)
        return self.mailchimp.deliver_webhooks()


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.fixture
def mailchimp(rig: Rig) -> MailchimpEmulator:
    return rig.mailchimp


@pytest.fixture
def client(rig: Rig) -> Iterator[MailchimpClient]:
    with rig.client() as made:
        yield made


@pytest.fixture
def http(rig: Rig) -> Iterator[httpx.Client]:
    with rig.http() as made:
        yield made


@pytest.fixture
def list_id(rig: Rig) -> str:
    return rig.list_id
