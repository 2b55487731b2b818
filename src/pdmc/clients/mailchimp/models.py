"""Typed, frozen models of the Mailchimp objects a sync reads and writes.

Models are built from the wire by :data:`pdmc.clients.mailchimp.converter`; unknown
keys are ignored. Write payloads use :data:`pdmc.UNSET` for "leave this out".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeAlias

from attrs import field, frozen

from pdmc._secret import Secret
from pdmc._types import UNSET, UnsetType

__all__ = [
    "Account",
    "Audience",
    "AudienceStats",
    "AudienceWebhook",
    "Batch",
    "BatchOperation",
    "BatchOperationResult",
    "BatchSubscribeError",
    "BatchSubscribeResult",
    "Member",
    "MemberStatus",
    "MemberTag",
    "MemberUpsert",
    "MergeField",
    "MergeFieldOptions",
    "MergeFieldType",
    "Segment",
    "StaticSegmentUpdate",
    "TagStatus",
    "TagUpdate",
    "WebhookEvents",
    "WebhookSources",
    "WritableStatus",
]

MemberStatus: TypeAlias = Literal[
    "subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"
]
WritableStatus: TypeAlias = Literal[
    "subscribed", "unsubscribed", "cleaned", "pending", "transactional"
]
MergeFieldType: TypeAlias = Literal[
    "text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown",
    "birthday", "zip",
]  # fmt: skip
TagStatus: TypeAlias = Literal["active", "inactive"]


@frozen(kw_only=True)
class Account:
    """The account behind a credential (``GET /``)."""

    account_id: str
    account_name: str | None = None
    login_id: str | None = None
    email: str | None = None
    role: str | None = None


@frozen(kw_only=True)
class AudienceStats:
    """The counts Mailchimp keeps for an audience."""

    member_count: int = 0
    unsubscribe_count: int = 0
    cleaned_count: int = 0
    total_contacts: int | None = None


@frozen(kw_only=True)
class Audience:
    """An audience (a "list" in the API); read ``double_optin`` before choosing ``pending``."""

    id: str
    name: str
    double_optin: bool = False
    date_created: datetime | None = None
    stats: AudienceStats | None = None


@frozen(kw_only=True)
class MemberTag:
    """A tag on a member."""

    id: int | None = None
    name: str


@frozen(kw_only=True)
class Member:
    """An audience member; ``id`` is the subscriber hash (MD5 of the lowercased email)."""

    id: str
    email_address: str
    status: MemberStatus
    unique_email_id: str | None = None
    contact_id: str | None = None
    email_type: str | None = None
    merge_fields: Mapping[str, Any] = field(factory=dict)
    interests: Mapping[str, bool] = field(factory=dict)
    language: str | None = None
    vip: bool = False
    timestamp_signup: datetime | None = None
    timestamp_opt: datetime | None = None
    last_changed: datetime | None = None
    tags: tuple[MemberTag, ...] = ()
    list_id: str | None = None

    @property
    def tag_names(self) -> frozenset[str]:
        """The names of the member's tags."""
        return frozenset(tag.name for tag in self.tags)


@frozen(kw_only=True)
class MemberUpsert:
    """One member to add or update (single PUT or a row of batch subscribe).

    ``status_if_new`` applies only when the address is new. ``status`` overwrites the
    status of an existing member unconditionally; leave it :data:`~pdmc.UNSET` unless
    the contact asked for the change. ``tags`` are names added as active tags.
    """

    email_address: str
    status_if_new: WritableStatus | UnsetType = UNSET
    status: WritableStatus | UnsetType = UNSET
    merge_fields: Mapping[str, Any] | UnsetType = UNSET
    email_type: Literal["html", "text"] | UnsetType = UNSET
    language: str | UnsetType = UNSET
    interests: Mapping[str, bool] | UnsetType = UNSET
    vip: bool | UnsetType = UNSET
    tags: tuple[str, ...] | UnsetType = UNSET


@frozen(kw_only=True)
class BatchSubscribeError:
    """One refused row of a batch subscribe, with the reason Mailchimp gave."""

    email_address: str
    error: str
    error_code: str | None = None
    field: str | None = None
    field_message: str | None = None


@frozen(kw_only=True)
class BatchSubscribeResult:
    """What a batch subscribe did: created and updated members, and refused rows.

    ``errors`` lists refused rows as sent; :meth:`typed_errors` turns each into the
    :mod:`pdmc.errors` class a runner acts on.
    """

    new_members: tuple[Member, ...] = ()
    updated_members: tuple[Member, ...] = ()
    errors: tuple[BatchSubscribeError, ...] = ()
    total_created: int = 0
    total_updated: int = 0
    error_count: int = 0


@frozen(kw_only=True)
class TagUpdate:
    """A tag to put on (``active``) or take off (``inactive``) a member."""

    name: str
    status: TagStatus = "active"


@frozen(kw_only=True)
class Segment:
    """A segment: ``static`` (a tag), ``saved`` (conditions) or ``fuzzy``."""

    id: int
    name: str
    type: str  # "saved", "static" (a tag) or "fuzzy"
    member_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    list_id: str | None = None
    options: Mapping[str, Any] | None = None


@frozen(kw_only=True)
class StaticSegmentUpdate:
    """What adding and removing members of a static segment did."""

    total_added: int = 0
    total_removed: int = 0
    error_count: int = 0
    errors: tuple[Mapping[str, Any], ...] = ()


@frozen(kw_only=True)
class MergeFieldOptions:
    """Type-specific settings of a merge field."""

    default_country: int | None = None
    phone_format: str | None = None
    date_format: str | None = None
    choices: tuple[str, ...] = ()
    size: int | None = None


@frozen(kw_only=True)
class MergeField:
    """An audience merge field; ``tag`` is the key used in ``merge_fields`` (e.g. FNAME)."""

    merge_id: int
    tag: str
    name: str
    type: str  # one of MergeFieldType; unknown future types pass through
    required: bool = False
    default_value: str | None = None
    public: bool = True
    display_order: int | None = None
    options: MergeFieldOptions = field(factory=MergeFieldOptions)
    help_text: str | None = None
    list_id: str | None = None


@frozen(kw_only=True)
class WebhookEvents:
    """Which audience events a webhook receives."""

    subscribe: bool = False
    unsubscribe: bool = False
    profile: bool = False
    cleaned: bool = False
    upemail: bool = False
    campaign: bool = False


@frozen(kw_only=True)
class WebhookSources:
    """Which sources of change a webhook reports; ``api=False`` hides pdmc's own writes."""

    user: bool = False
    admin: bool = False
    api: bool = False


@frozen(kw_only=True)
class AudienceWebhook:
    """An audience webhook.

    ``signing_secret`` is returned once, when the webhook is created with signing
    enabled; it is a :class:`~pdmc.Secret`, so it never shows in a repr or log.
    ``url`` is the callback as registered, often with a secret in its query string
    (pdmc's own webhooks carry ``?secret=...``); the repr masks every query value.
    """

    id: str
    url: str = field(repr=lambda url: repr(_masked_query(url)))
    events: WebhookEvents = field(factory=WebhookEvents)
    sources: WebhookSources = field(factory=WebhookSources)
    list_id: str | None = None
    signing_enabled: bool = False
    signing_secret: Secret | None = field(default=None, eq=False)


def _masked_query(url: str) -> str:
    """``url`` with the value of every query parameter masked."""
    base, _, query = url.partition("?")
    if not query:
        return url
    names = (part.split("=", 1)[0] for part in query.split("&"))
    return base + "?" + "&".join(f"{name}=**********" for name in names)


@frozen(kw_only=True)
class BatchOperation:
    """One operation of a ``/batches`` request; ``body`` is sent as a JSON string."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    params: Mapping[str, Any] | UnsetType = UNSET
    body: Mapping[str, Any] | UnsetType = UNSET
    operation_id: str | UnsetType = UNSET


@frozen(kw_only=True)
class Batch:
    """A ``/batches`` request and its progress."""

    id: str
    status: str  # pending, preprocessing, started, finalizing, finished
    total_operations: int = 0
    finished_operations: int = 0
    errored_operations: int = 0
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    response_body_url: str | None = None

    @property
    def is_finished(self) -> bool:
        """Whether Mailchimp has finished every operation."""
        return self.status == "finished"


@frozen(kw_only=True)
class BatchOperationResult:
    """The outcome of one operation of a finished ``/batches`` request."""

    operation_id: str | None
    status_code: int
    response: Any
