"""Faithful, stateful emulators of Pipedrive and Mailchimp.

Use :class:`Emulator` in demos, notebooks and tests: it holds both fake services,
one controllable clock, and a fault plan, and gives you ready-made pdmc clients (or
an ``httpx`` transport for any client, or real HTTP on localhost).

>>> from pdmc.emulator import Emulator
>>> emulator = Emulator()
>>> with emulator.pipedrive_client() as client:
...     user = client.get_current_user()
"""

from __future__ import annotations

from pdmc.emulator._clock import EmulatorClock
from pdmc.emulator._emulator import Emulator
from pdmc.emulator._faults import Fault, FaultKind, FaultPlan
from pdmc.emulator._seed import (
    ContactTrait,
    SeedContact,
    SeedDeal,
    SeedMember,
    SeedPerson,
    SeedSpec,
    generate_contacts,
)
from pdmc.emulator._seed_load import SeedSummary, seed_emulator
from pdmc.emulator._server import EmulatorServer
from pdmc.emulator._service import OperationCounts, RequestLog
from pdmc.emulator._transport import EmulatorTransport
from pdmc.emulator._webhooks import WebhookDelivery, WebhookHandler

__all__ = [
    "ContactTrait",
    "Emulator",
    "EmulatorClock",
    "EmulatorServer",
    "EmulatorTransport",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "OperationCounts",
    "RequestLog",
    "SeedContact",
    "SeedDeal",
    "SeedMember",
    "SeedPerson",
    "SeedSpec",
    "SeedSummary",
    "WebhookDelivery",
    "WebhookHandler",
    "generate_contacts",
    "seed_emulator",
]
