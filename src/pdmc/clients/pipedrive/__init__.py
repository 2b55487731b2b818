"""The Pipedrive API client (v2, plus v1 where only v1 exists), its models and OAuth."""

from __future__ import annotations

from pdmc.clients.pipedrive._client import DEFAULT_BASE_URL, AsyncPipedriveClient, PipedriveClient
from pdmc.clients.pipedrive._convert import converter
from pdmc.clients.pipedrive._operations import OPERATIONS
from pdmc.clients.pipedrive.models import (
    ContactPoint,
    CurrentUser,
    Deal,
    DealParticipant,
    FieldOption,
    FieldSubfield,
    Filter,
    FilterCondition,
    FilterConditionGroup,
    FilterConditions,
    Person,
    PersonField,
    PersonInput,
    PersonSearchHit,
    Pipeline,
    PostalAddress,
    RecentItem,
    Stage,
    Webhook,
)
from pdmc.clients.pipedrive.oauth import PipedriveOAuthApp, PipedriveOAuthAuth, PipedriveTokens

__all__ = [
    "DEFAULT_BASE_URL",
    "OPERATIONS",
    "AsyncPipedriveClient",
    "ContactPoint",
    "CurrentUser",
    "Deal",
    "DealParticipant",
    "FieldOption",
    "FieldSubfield",
    "Filter",
    "FilterCondition",
    "FilterConditionGroup",
    "FilterConditions",
    "Person",
    "PersonField",
    "PersonInput",
    "PersonSearchHit",
    "Pipeline",
    "PipedriveClient",
    "PipedriveOAuthApp",
    "PipedriveOAuthAuth",
    "PipedriveTokens",
    "PostalAddress",
    "RecentItem",
    "Stage",
    "Webhook",
    "converter",
]
