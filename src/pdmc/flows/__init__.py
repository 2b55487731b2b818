"""Flows: the four built-in triggers, custom triggers, and the engine the caller drives.

Build a :class:`Flow` from a trigger, field pairs and an audience; hand it to a
:class:`SyncEngine` (the two clients plus a state store); call
:meth:`SyncEngine.run_due` from your scheduler and pass webhook deliveries to
:meth:`SyncEngine.receive` from your web framework.
"""

from __future__ import annotations

from pdmc.flows._builtin import (
    OVERLAP,
    DealStageTrigger,
    MailchimpSegmentsTrigger,
    NewMailchimpContactTrigger,
    PipedriveFiltersTrigger,
)
from pdmc.flows._engine import SyncEngine
from pdmc.flows._flow import DEFAULT_INTERVAL, Flow, NewMemberStatus
from pdmc.flows._report import (
    Action,
    ContactOutcome,
    Progress,
    ProgressCallback,
    SyncPlan,
    SyncReport,
)
from pdmc.flows._results import FlowState, Preview, PreviewRow, WebhookResult, WebhookSetup
from pdmc.flows._trigger import (
    Candidates,
    EventContext,
    ScanContext,
    Trigger,
    TriggerUpdates,
    WebhookNeeds,
)
from pdmc.flows._webhooks import (
    MailchimpEvent,
    MailchimpWebhookAuth,
    PipedriveEvent,
    PipedriveWebhookAuth,
    parse_mailchimp_event,
    parse_pipedrive_event,
)

__all__ = [
    "DEFAULT_INTERVAL",
    "OVERLAP",
    "Action",
    "Candidates",
    "ContactOutcome",
    "DealStageTrigger",
    "EventContext",
    "Flow",
    "FlowState",
    "MailchimpEvent",
    "MailchimpSegmentsTrigger",
    "MailchimpWebhookAuth",
    "NewMailchimpContactTrigger",
    "NewMemberStatus",
    "PipedriveEvent",
    "PipedriveFiltersTrigger",
    "PipedriveWebhookAuth",
    "Preview",
    "PreviewRow",
    "Progress",
    "ProgressCallback",
    "ScanContext",
    "SyncEngine",
    "SyncPlan",
    "SyncReport",
    "Trigger",
    "TriggerUpdates",
    "WebhookNeeds",
    "WebhookResult",
    "WebhookSetup",
    "parse_mailchimp_event",
    "parse_pipedrive_event",
]
