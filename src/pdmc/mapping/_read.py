"""Reading one field's wire value from a Pipedrive person or a Mailchimp member."""

from __future__ import annotations

from typing import Any

from pdmc._types import UNSET
from pdmc.clients.mailchimp.models import Member
from pdmc.clients.pipedrive.models import Person
from pdmc.mapping._catalog import MAILCHIMP_EMAIL_KEY, Field

__all__ = ["read_member", "read_person"]


def read_person(person: Person, field: Field) -> Any:
    """The wire value of a Pipedrive ``field`` on ``person``.

    Returns :data:`~pdmc.UNSET` when the person does not report the field (a custom
    field missing from ``custom_fields``, or a field pdmc does not read).
    """
    if field.custom:
        return person.custom_fields.get(field.key, UNSET)
    if field.read is None:
        return UNSET
    return getattr(person, field.read)


def read_member(member: Member, field: Field) -> Any:
    """The wire value of a Mailchimp ``field`` on ``member`` (``EMAIL``: its address).

    Returns :data:`~pdmc.UNSET` when the member's ``merge_fields`` lack the tag.
    """
    if field.key == MAILCHIMP_EMAIL_KEY:
        return member.email_address
    return member.merge_fields.get(field.key, UNSET)
