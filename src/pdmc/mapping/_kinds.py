"""Sides, directions and kinds: what a field's vendor type means to a sync.

Each vendor type (Pipedrive's ``field_type``, Mailchimp's merge field ``type``) falls
into one canonical :class:`Kind`; the compatibility matrix and the value converters
work on kinds, so one rule serves every type that behaves the same.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Final, get_args

from pdmc.clients.mailchimp.models import MergeFieldType
from pdmc.clients.pipedrive.models import PersonFieldType

__all__ = [
    "EMAIL_TYPE",
    "MAILCHIMP_TYPES",
    "PIPEDRIVE_TYPES",
    "Direction",
    "Kind",
    "Side",
    "kind_of",
]

EMAIL_TYPE: Final = "email"
"""pdmc's type name for the email address on either side.

Neither vendor reports it as a field type of its own: Mailchimp keeps the address
outside the merge fields (``email_address``), and Pipedrive reports its email field
as text. Both are the contact's identity, so pdmc gives them a type of their own.
"""


class Side(enum.Enum):
    """The application a field belongs to."""

    PIPEDRIVE = "pipedrive"
    MAILCHIMP = "mailchimp"

    @property
    def title(self) -> str:
        """The application's name as people write it."""
        return self.value.capitalize()


class Direction(enum.Enum):
    """Which way a flow copies values: from its source side to its target side."""

    PD_TO_MC = "pd_to_mc"
    MC_TO_PD = "mc_to_pd"

    @property
    def source(self) -> Side:
        """The side values are read from."""
        return Side.PIPEDRIVE if self is Direction.PD_TO_MC else Side.MAILCHIMP

    @property
    def target(self) -> Side:
        """The side values are written to."""
        return Side.MAILCHIMP if self is Direction.PD_TO_MC else Side.PIPEDRIVE

    @property
    def arrow(self) -> str:
        """``"Pipedrive → Mailchimp"`` or the reverse."""
        return f"{self.source.title} → {self.target.title}"


class Kind(enum.Enum):
    """The canonical kind of value a field holds, whatever its vendor calls it."""

    TEXT = "text"
    LONG_TEXT = "long text"
    NUMBER = "number"
    MONETARY = "monetary"
    BOOLEAN = "yes/no"
    DATE = "date"
    TIME = "time"
    DATE_RANGE = "date range"
    TIME_RANGE = "time range"
    BIRTHDAY = "birthday"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    URL = "url"
    IMAGE_URL = "image url"
    ZIP = "zip"
    OPTION = "option"
    MULTI_OPTION = "multi-option"
    REFERENCE = "reference"
    CONSENT = "consent"
    SETTING = "setting"
    STRUCTURED = "structured"
    UNKNOWN = "unknown"

    @property
    def description(self) -> str:
        """One phrase saying what a value of this kind is."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: Final = MappingProxyType(
    {
        Kind.TEXT: "short text",
        Kind.LONG_TEXT: "long text",
        Kind.NUMBER: "a number",
        Kind.MONETARY: "an amount with a currency",
        Kind.BOOLEAN: "a yes/no value",
        Kind.DATE: "a calendar date",
        Kind.TIME: "a time of day",
        Kind.DATE_RANGE: "a range of dates",
        Kind.TIME_RANGE: "a range of times",
        Kind.BIRTHDAY: "a month and day without a year",
        Kind.PHONE: "a phone number",
        Kind.EMAIL: "the contact's email address",
        Kind.ADDRESS: "a postal address",
        Kind.URL: "a web address",
        Kind.IMAGE_URL: "the web address of an image",
        Kind.ZIP: "a 5-digit US ZIP code",
        Kind.OPTION: "one choice from a preset list",
        Kind.MULTI_OPTION: "several choices from a preset list",
        Kind.REFERENCE: "the id of another record",
        Kind.CONSENT: "a marketing-consent status",
        Kind.SETTING: "a setting of the record itself",
        Kind.STRUCTURED: "structured data",
        Kind.UNKNOWN: "a value of a type pdmc does not know",
    }
)

_PIPEDRIVE_KINDS: Final = MappingProxyType(
    {
        "int": Kind.NUMBER,
        "double": Kind.NUMBER,
        "boolean": Kind.BOOLEAN,
        "varchar": Kind.TEXT,
        "varchar_auto": Kind.TEXT,
        "text": Kind.LONG_TEXT,
        "phone": Kind.PHONE,
        "varchar_options": Kind.OPTION,
        "date": Kind.DATE,
        "daterange": Kind.DATE_RANGE,
        "time": Kind.TIME,
        "timerange": Kind.TIME_RANGE,
        "enum": Kind.OPTION,
        "set": Kind.MULTI_OPTION,
        "billing_frequency": Kind.OPTION,
        "address": Kind.ADDRESS,
        "monetary": Kind.MONETARY,
        "deal": Kind.REFERENCE,
        "deals": Kind.REFERENCE,
        "lead": Kind.REFERENCE,
        "org": Kind.REFERENCE,
        "people": Kind.REFERENCE,
        "project": Kind.REFERENCE,
        "stage": Kind.REFERENCE,
        "user": Kind.REFERENCE,
        "activity": Kind.REFERENCE,
        "picture": Kind.REFERENCE,
        "price_list": Kind.REFERENCE,
        "projects_board": Kind.REFERENCE,
        "projects_phase": Kind.REFERENCE,
        "pipeline": Kind.REFERENCE,
        "product": Kind.REFERENCE,
        "status": Kind.CONSENT,
        "visible_to": Kind.SETTING,
        "json": Kind.STRUCTURED,
        EMAIL_TYPE: Kind.EMAIL,
    }
)

_MAILCHIMP_KINDS: Final = MappingProxyType(
    {
        "text": Kind.TEXT,
        "number": Kind.NUMBER,
        "address": Kind.ADDRESS,
        "phone": Kind.PHONE,
        "date": Kind.DATE,
        "url": Kind.URL,
        "imageurl": Kind.IMAGE_URL,
        "radio": Kind.OPTION,
        "dropdown": Kind.OPTION,
        "birthday": Kind.BIRTHDAY,
        "zip": Kind.ZIP,
        EMAIL_TYPE: Kind.EMAIL,
    }
)

PIPEDRIVE_TYPES: Final[tuple[str, ...]] = (*get_args(PersonFieldType), EMAIL_TYPE)
"""Every Pipedrive person field type the contracts list, plus pdmc's ``email``."""

MAILCHIMP_TYPES: Final[tuple[str, ...]] = (*get_args(MergeFieldType), EMAIL_TYPE)
"""Every Mailchimp merge field type, plus ``email`` for the member's address."""


def kind_of(side: Side, field_type: str) -> Kind:
    """Return the kind of a field of ``field_type`` on ``side``.

    A type the vendor adds after this release is :attr:`Kind.UNKNOWN`, which the
    matrix refuses: pdmc does not map what it cannot check.
    """
    kinds = _PIPEDRIVE_KINDS if side is Side.PIPEDRIVE else _MAILCHIMP_KINDS
    return kinds.get(field_type, Kind.UNKNOWN)
