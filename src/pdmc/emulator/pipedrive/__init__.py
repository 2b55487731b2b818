"""The Pipedrive half of the emulator.

:class:`PipedriveEmulator` answers the Pipedrive operations a sync uses (persons,
person fields, filters, pipelines, stages, deals, participants, webhooks, recents,
the current user, OAuth tokens) with the rate limits, token costs and webhooks of
the real service. See ``docs/emulator-pipedrive.md`` for what is emulated and how it
differs from the real service.
"""

from __future__ import annotations

from pdmc.emulator.pipedrive._accounts import PLANS, Company, OAuthApp, Plan
from pdmc.emulator.pipedrive._costs import TOKEN_COSTS
from pdmc.emulator.pipedrive._emulator import PipedriveEmulator
from pdmc.emulator.pipedrive._limits import BLOCK_SECONDS, STRIKES_BEFORE_BLOCK, BurstUse
from pdmc.emulator.pipedrive._webhooks import (
    BAN_SECONDS,
    FIRST_FAILURES_BEFORE_BAN,
    RETRY_DELAYS,
    WebhookStatus,
)

__all__ = [
    "BAN_SECONDS",
    "BLOCK_SECONDS",
    "FIRST_FAILURES_BEFORE_BAN",
    "PLANS",
    "RETRY_DELAYS",
    "STRIKES_BEFORE_BLOCK",
    "TOKEN_COSTS",
    "BurstUse",
    "Company",
    "OAuthApp",
    "Plan",
    "PipedriveEmulator",
    "WebhookStatus",
]
