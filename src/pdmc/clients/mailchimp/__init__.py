"""The Mailchimp Marketing API client, its models, OAuth and ``subscriber_hash``."""

from __future__ import annotations

from pdmc.clients.mailchimp._api import BATCH_LIMIT, subscriber_hash, typed_batch_errors
from pdmc.clients.mailchimp._client import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    AsyncMailchimpClient,
    MailchimpClient,
    data_center_of,
)
from pdmc.clients.mailchimp._convert import converter
from pdmc.clients.mailchimp._operations import OPERATIONS
from pdmc.clients.mailchimp.models import (
    Account,
    Audience,
    AudienceStats,
    AudienceWebhook,
    Batch,
    BatchOperation,
    BatchOperationResult,
    BatchSubscribeError,
    BatchSubscribeResult,
    Member,
    MemberTag,
    MemberUpsert,
    MergeField,
    MergeFieldOptions,
    Segment,
    StaticSegmentUpdate,
    TagUpdate,
    WebhookEvents,
    WebhookSources,
)
from pdmc.clients.mailchimp.oauth import MailchimpOAuthApp, MailchimpTokenMetadata

__all__ = [
    "BATCH_LIMIT",
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "OPERATIONS",
    "Account",
    "AsyncMailchimpClient",
    "Audience",
    "AudienceStats",
    "AudienceWebhook",
    "Batch",
    "BatchOperation",
    "BatchOperationResult",
    "BatchSubscribeError",
    "BatchSubscribeResult",
    "MailchimpClient",
    "MailchimpOAuthApp",
    "MailchimpTokenMetadata",
    "Member",
    "MemberTag",
    "MemberUpsert",
    "MergeField",
    "MergeFieldOptions",
    "Segment",
    "StaticSegmentUpdate",
    "TagUpdate",
    "WebhookEvents",
    "WebhookSources",
    "converter",
    "data_center_of",
    "subscriber_hash",
    "typed_batch_errors",
]
