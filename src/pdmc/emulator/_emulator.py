"""The Emulator: both fake services, one clock, one fault plan, ready-made clients."""

from __future__ import annotations

import threading
from typing import Any

from pdmc.clients import (
    AsyncMailchimpClient,
    AsyncPipedriveClient,
    MailchimpClient,
    PipedriveClient,
    RetryPolicy,
)
from pdmc.emulator._clock import EmulatorClock
from pdmc.emulator._faults import FaultPlan
from pdmc.emulator._seed import SeedSpec
from pdmc.emulator._seed_load import SeedSummary, seed_emulator
from pdmc.emulator._server import EmulatorServer
from pdmc.emulator._transport import EmulatorTransport
from pdmc.emulator._webhooks import WebhookHandler
from pdmc.emulator.mailchimp import MailchimpEmulator
from pdmc.emulator.pipedrive import PipedriveEmulator

__all__ = ["Emulator"]

_MAX_DELIVERY_ROUNDS = 1000


class Emulator:
    """Stateful fakes of Pipedrive and Mailchimp for demos, notebooks and tests.

    Both services share :attr:`clock` and :attr:`faults`. :attr:`transport` is an
    ``httpx`` transport (sync and async) that pdmc's clients, or any ``httpx``
    client, can use; the ``*_client`` helpers return clients already wired to it,
    to the default accounts, and to the clock (so retries and pacing advance
    emulated time instead of sleeping). :meth:`serve` exposes the same state over
    real HTTP on localhost.

    Args:
        clock: the shared clock (a new one starting on a fixed date by default).
        pipedrive_plan: the Pipedrive plan whose rate limits apply.
        auto_deliver: deliver due webhooks right after each request, as the real
            services do within seconds; turn off to deliver by :meth:`deliver_webhooks`.
    """

    def __init__(
        self,
        *,
        clock: EmulatorClock | None = None,
        pipedrive_plan: str = "professional",
        auto_deliver: bool = True,
    ) -> None:
        self.clock = clock or EmulatorClock()
        self.faults = FaultPlan()
        self.pipedrive = PipedriveEmulator(self.clock, plan=pipedrive_plan)
        self.mailchimp = MailchimpEmulator(self.clock)
        self.auto_deliver = auto_deliver
        self._delivering = threading.local()
        self.transport = EmulatorTransport(
            [self.pipedrive, self.mailchimp],
            self.faults,
            advance=self.clock.advance,
            after_request=self._after_request,
            now=self.clock.now,
        )

    def __repr__(self) -> str:
        return f"Emulator(clock={self.clock!r})"

    def _after_request(self) -> None:
        # A handler that calls the API while handling a delivery must not deliver the next
        # one from inside that call: the outer delivery loop sends it when it returns.
        if self.auto_deliver and not getattr(self._delivering, "active", False):
            self.deliver_webhooks()

    def on_webhook(self, handler: WebhookHandler | None) -> None:
        """Send both services' webhook deliveries to ``handler`` (``None``: real HTTP)."""
        self.pipedrive.webhook_handler = handler
        self.mailchimp.webhook_handler = handler

    def deliver_webhooks(self) -> int:
        """Deliver every webhook due now on the clock; return how many were attempted."""
        self._delivering.active = True
        try:
            total = 0
            for _ in range(_MAX_DELIVERY_ROUNDS):
                made = self.pipedrive.deliver_webhooks() + self.mailchimp.deliver_webhooks()
                if not made:
                    return total
                total += made  # deliveries that handlers caused are sent in this loop too
            raise RuntimeError(
                f"webhook deliveries kept causing new ones for {_MAX_DELIVERY_ROUNDS} rounds: "
                "the handlers ping-pong"
            )
        finally:
            self._delivering.active = False

    def advance(self, seconds: float) -> int:
        """Move the clock forward, then deliver what became due; return deliveries made."""
        self.clock.advance(seconds)
        return self.deliver_webhooks()

    def seed(self, contacts: int = 100, *, seed: int = 0) -> SeedSummary:
        """Fill the default Pipedrive company and Mailchimp audience with realistic data.

        Creates custom person fields of every type, pipelines and stages, merge fields,
        tags, ``contacts`` contacts (persons, members, or both, with deals), two
        filters and two saved segments, all without emitting webhooks. The same
        ``seed`` always gives the same data. Returns the counts and the ids created;
        for another mix of contacts, use :func:`seed_emulator` with a :class:`SeedSpec`.

        Raises:
            ValueError: ``contacts`` is negative.
        """
        return seed_emulator(self, SeedSpec(contacts=contacts, seed=seed))

    def pipedrive_client(
        self, *, retry: RetryPolicy | None = None, **kwargs: Any
    ) -> PipedriveClient:
        """A :class:`PipedriveClient` for the default company, on emulated time."""
        return PipedriveClient(
            self.pipedrive.default_company.api_token,
            transport=self.transport,
            retry=retry,
            sleep=self.clock.sleep,
            clock=self.clock.monotonic,
            **kwargs,
        )

    def async_pipedrive_client(
        self, *, retry: RetryPolicy | None = None, **kwargs: Any
    ) -> AsyncPipedriveClient:
        """An :class:`AsyncPipedriveClient` for the default company, on emulated time."""
        return AsyncPipedriveClient(
            self.pipedrive.default_company.api_token,
            transport=self.transport,
            retry=retry,
            sleep=self.clock.asleep,
            clock=self.clock.monotonic,
            **kwargs,
        )

    def mailchimp_client(
        self, *, retry: RetryPolicy | None = None, **kwargs: Any
    ) -> MailchimpClient:
        """A :class:`MailchimpClient` for the default account, on emulated time."""
        return MailchimpClient(
            self.mailchimp.default_account.api_key,
            transport=self.transport,
            retry=retry,
            sleep=self.clock.sleep,
            **kwargs,
        )

    def async_mailchimp_client(
        self, *, retry: RetryPolicy | None = None, **kwargs: Any
    ) -> AsyncMailchimpClient:
        """An :class:`AsyncMailchimpClient` for the default account, on emulated time."""
        return AsyncMailchimpClient(
            self.mailchimp.default_account.api_key,
            transport=self.transport,
            retry=retry,
            sleep=self.clock.asleep,
            **kwargs,
        )

    def serve(
        self, host: str = "127.0.0.1", *, pipedrive_port: int = 0, mailchimp_port: int = 0
    ) -> EmulatorServer:
        """Serve both services over real HTTP on ``host`` (port 0 picks a free port).

        Use the result as a context manager; ``server.url_of(emulator.pipedrive)``
        and ``server.url_of(emulator.mailchimp)`` are the base URLs any HTTP client
        can use.

        Raises:
            OSError: a port is in use or the host cannot be bound.
        """
        return EmulatorServer(
            self.transport,
            host=host,
            ports={self.pipedrive: pipedrive_port, self.mailchimp: mailchimp_port},
        )
