"""Typed, frozen models of the Pipedrive objects a sync reads and writes.

Models are built from the wire by :data:`pdmc.clients.pipedrive.converter`; keys the
models do not name are ignored, so new fields Pipedrive adds never break a client.
Write payloads use :data:`pdmc.UNSET` for "leave this out" and ``None`` for "clear it".
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeAlias

from attrs import field, frozen

from pdmc._types import UNSET, UnsetType

__all__ = [
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
    "MarketingStatus",
    "Person",
    "PersonField",
    "PersonFieldType",
    "PersonInput",
    "PersonSearchHit",
    "Pipeline",
    "PostalAddress",
    "RecentItem",
    "Stage",
    "Webhook",
]

MarketingStatus: TypeAlias = Literal["no_consent", "unsubscribed", "subscribed", "archived"]

PersonFieldType: TypeAlias = Literal[
    "int", "double", "boolean", "varchar", "text", "phone", "varchar_options",
    "varchar_auto", "date", "daterange", "time", "timerange", "enum", "set", "address",
    "monetary", "deal", "deals", "lead", "org", "people", "project", "stage", "user",
    "activity", "json", "picture", "status", "visible_to", "price_list",
    "billing_frequency", "projects_board", "projects_phase", "pipeline", "product",
]  # fmt: skip
"""Every ``field_type`` the contracts list (v2, plus ``pipeline`` and ``product`` of v1)."""


@frozen(kw_only=True)
class ContactPoint:
    """One email address or phone number of a person."""

    value: str
    primary: bool = False
    label: str | None = None


@frozen(kw_only=True)
class PostalAddress:
    """A person's postal address: the formatted ``value`` and its components."""

    value: str | None = None
    country: str | None = None
    admin_area_level_1: str | None = None
    admin_area_level_2: str | None = None
    locality: str | None = None
    sublocality: str | None = None
    route: str | None = None
    street_number: str | None = None
    subpremise: str | None = None
    postal_code: str | None = None


@frozen(kw_only=True)
class Person:
    """A Pipedrive person (v2 shape).

    ``custom_fields`` maps each custom field's 40-character hash to its wire value
    (a string, number, option id, list of option ids, or an object for address and
    monetary fields). :attr:`primary_email` is the address a sync uses.
    """

    id: int
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    owner_id: int | None = None
    org_id: int | None = None
    emails: tuple[ContactPoint, ...] = ()
    phones: tuple[ContactPoint, ...] = ()
    custom_fields: Mapping[str, Any] = field(factory=dict)
    label_ids: tuple[int, ...] = ()
    add_time: datetime | None = None
    update_time: datetime | None = None
    is_deleted: bool = False
    visible_to: int | None = None
    marketing_status: MarketingStatus | None = None
    postal_address: PostalAddress | None = None
    birthday: str | None = None
    job_title: str | None = None
    notes: str | None = None

    @functools.cached_property
    def primary_email(self) -> str | None:
        """The address flagged primary, else the first one, else ``None``; never blank."""
        emails = [e for e in self.emails if e.value and e.value.strip()]
        for point in emails:
            if point.primary:
                return point.value.strip()
        return emails[0].value.strip() if emails else None

    @functools.cached_property
    def primary_phone(self) -> str | None:
        """The phone flagged primary, else the first one, else ``None``."""
        phones = [p for p in self.phones if p.value and p.value.strip()]
        for point in phones:
            if point.primary:
                return point.value.strip()
        return phones[0].value.strip() if phones else None


@frozen(kw_only=True)
class PersonInput:
    """The body of a person create or update (v2).

    Every field defaults to :data:`~pdmc.UNSET` and is then left out of the request;
    ``None`` sends ``null``, which clears the value. In ``custom_fields`` a ``None``
    value clears that field.
    """

    name: str | UnsetType = UNSET
    owner_id: int | UnsetType | None = UNSET
    org_id: int | UnsetType | None = UNSET
    emails: tuple[ContactPoint, ...] | UnsetType = UNSET
    phones: tuple[ContactPoint, ...] | UnsetType = UNSET
    visible_to: int | UnsetType = UNSET
    label_ids: tuple[int, ...] | UnsetType = UNSET
    postal_address: PostalAddress | UnsetType | None = UNSET
    birthday: str | UnsetType | None = UNSET
    job_title: str | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET
    marketing_status: MarketingStatus | UnsetType = UNSET
    custom_fields: Mapping[str, Any] | UnsetType = UNSET


@frozen(kw_only=True)
class PersonSearchHit:
    """A person found by search: the id and the addresses the index matched."""

    id: int
    name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    result_score: float | None = None


@frozen(kw_only=True)
class FieldOption:
    """An option of an enum or set field (``id`` is a string for built-in fields)."""

    id: int | str
    label: str
    color: str | None = None


@frozen(kw_only=True)
class FieldSubfield:
    """A component of an address or monetary field."""

    field_code: str
    field_name: str
    field_type: str | None = None


@frozen(kw_only=True)
class PersonField:
    """A person field's metadata (v2 shape); custom fields are keyed by a 40-char hash.

    ``required`` is true when the account marks the field required (only known when
    the catalog was read with ``include_fields=required_fields``).
    """

    field_code: str
    field_name: str
    field_type: str  # one of PersonFieldType; unknown future types pass through
    is_custom_field: bool = False
    is_optional_response_field: bool = False
    options: tuple[FieldOption, ...] | None = None
    subfields: tuple[FieldSubfield, ...] | None = None
    required: bool = False


@frozen(kw_only=True)
class FilterCondition:
    """One condition of a filter: ``field_id`` compared by ``operator`` to ``value``."""

    object: str
    field_id: str
    operator: str
    value: Any = None
    extra_value: Any = None
    field_code: str | None = None


@frozen(kw_only=True)
class FilterConditionGroup:
    """Conditions joined by ``glue`` (``and`` or ``or``)."""

    glue: Literal["and", "or"]
    conditions: tuple[FilterCondition, ...] = ()


@frozen(kw_only=True)
class FilterConditions:
    """A filter's condition tree: groups joined by the top-level ``glue``."""

    glue: Literal["and", "or"] = "and"
    conditions: tuple[FilterConditionGroup, ...] = ()


@frozen(kw_only=True)
class Filter:
    """A saved filter; ``conditions`` is present when it was fetched one by one."""

    id: int
    name: str
    type: str
    active_flag: bool = True
    conditions: FilterConditions | None = None
    add_time: datetime | None = None
    update_time: datetime | None = None


@frozen(kw_only=True)
class Pipeline:
    """A sales pipeline."""

    id: int
    name: str
    order_nr: int | None = None
    is_deleted: bool = False


@frozen(kw_only=True)
class Stage:
    """A stage of a pipeline."""

    id: int
    name: str
    pipeline_id: int
    order_nr: int | None = None
    is_deleted: bool = False


@frozen(kw_only=True)
class Deal:
    """A deal (v2 shape); ``person_id`` is the deal's main person."""

    id: int
    title: str | None = None
    person_id: int | None = None
    org_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    status: str | None = None
    value: float | None = None
    currency: str | None = None
    is_deleted: bool = False
    add_time: datetime | None = None
    update_time: datetime | None = None
    stage_change_time: datetime | None = None
    custom_fields: Mapping[str, Any] = field(factory=dict)


@frozen(kw_only=True)
class DealParticipant:
    """A person taking part in a deal (v1 only)."""

    id: int
    person_id: int
    active_flag: bool = True
    add_time: datetime | None = None


@frozen(kw_only=True)
class Webhook:
    """A webhook subscription (v1 management API).

    The Basic-auth password is never kept: Pipedrive returns it on reads, and pdmc
    drops it so that no repr or log can carry it.
    """

    id: int
    subscription_url: str
    event_action: str
    event_object: str
    version: str = "1.0"
    is_active: bool = True
    name: str | None = None
    user_id: int | None = None
    http_auth_user: str | None = None
    last_http_status: int | None = None
    last_delivery_time: datetime | None = None
    add_time: datetime | None = None


@frozen(kw_only=True)
class CurrentUser:
    """The user the credential belongs to, with the company it acts for."""

    id: int
    name: str
    email: str
    company_id: int
    company_name: str | None = None
    company_domain: str | None = None
    is_admin: bool = False
    timezone_name: str | None = None


@frozen(kw_only=True)
class RecentItem:
    """One entry of ``/v1/recents``: the kind of item, its id and its data as sent."""

    item: str
    id: int
    data: Mapping[str, Any] | None = None
