"""Mapping a whole contact: a person into merge fields, a member into a person's write body.

The engine calls these once per contact. A value that cannot convert becomes a
:class:`~pdmc.errors.ConversionError` in ``errors`` and the other fields still map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import evolve, frozen

from pdmc._types import UNSET
from pdmc.clients.mailchimp.models import Member
from pdmc.clients.pipedrive.models import ContactPoint, Person, PersonInput
from pdmc.errors import ConfigurationError, ConversionError
from pdmc.mapping._catalog import PIPEDRIVE_EMAIL_KEY, PIPEDRIVE_PHONE_KEY, Field
from pdmc.mapping._convert import convert_value
from pdmc.mapping._fieldmap import FieldMap
from pdmc.mapping._fingerprint import fingerprint_fields
from pdmc.mapping._kinds import Direction
from pdmc.mapping._read import read_member, read_person

__all__ = [
    "MappedMember",
    "MappedPerson",
    "map_member_to_person_input",
    "map_person_to_merge_fields",
]


@frozen
class MappedMember:
    """A person's values mapped for Mailchimp.

    Attributes:
        email: the address to write the member under, or ``None`` when the person
            has none (``errors`` then says so).
        values: merge field values by tag, ready for ``merge_fields``; ``""`` clears
            a field, and a field left alone is absent.
        errors: one :class:`~pdmc.errors.ConversionError` per value that could not
            convert.
        fingerprint: the fingerprint of the Mailchimp values this write leaves, as
            :func:`~pdmc.mapping.fingerprint_member` will read them back; fields the
            write leaves alone count as empty.
    """

    email: str | None
    values: Mapping[str, Any]
    errors: tuple[ConversionError, ...]
    fingerprint: str


@frozen
class MappedPerson:
    """A member's values mapped for Pipedrive.

    Attributes:
        input: the body of a person create or update; fields left alone are UNSET.
        values: the converted value of each written Pipedrive field by key (``None``
            clears it), before first and last name are joined into ``name``.
        errors: one :class:`~pdmc.errors.ConversionError` per value that could not
            convert.
        fingerprint: the fingerprint of the Pipedrive values this write leaves, as
            :func:`~pdmc.mapping.fingerprint_person` will read them back; fields the
            write leaves alone count as empty.
    """

    input: PersonInput
    values: Mapping[str, Any]
    errors: tuple[ConversionError, ...]
    fingerprint: str


def map_person_to_merge_fields(person: Person, fieldmap: FieldMap) -> MappedMember:
    """Convert the values ``fieldmap`` names on ``person`` for a Mailchimp write.

    Raises :class:`~pdmc.errors.ConfigurationError` when ``fieldmap`` copies the
    other way; a bad value never raises (see :class:`MappedMember`).
    """
    _check_direction(fieldmap, Direction.PD_TO_MC)
    values, errors, written = _convert_all(
        fieldmap, lambda field: read_person(person, field), f"person {person.id}"
    )
    email = values.pop(fieldmap.mailchimp.email.key, None)
    email_field = fieldmap.pipedrive.email.ref
    if email is None and all(error.field != email_field for error in errors):
        errors.append(
            ConversionError(
                "the person has no email address, which Mailchimp keys members by",
                field=email_field,
                reason="no email address",
                contact=f"person {person.id}",
            )
        )
    return MappedMember(email, values, tuple(errors), fingerprint_fields(written))


def map_member_to_person_input(
    member: Member, fieldmap: FieldMap, *, current: Person | None = None
) -> MappedPerson:
    """Convert the values ``fieldmap`` names on ``member`` into a person write body.

    ``current`` is the person being updated, when there is one; it keeps what the
    member does not carry: the other half of the name when only first or last name
    is mapped, and the person's other email addresses and phone numbers (a new
    value becomes primary, existing ones stay as secondary). Without it the body
    describes a new person. Raises :class:`~pdmc.errors.ConfigurationError` when
    ``fieldmap`` copies the other way; a bad value never raises.
    """
    _check_direction(fieldmap, Direction.MC_TO_PD)
    values, errors, written = _convert_all(
        fieldmap, lambda field: read_member(member, field), f"member {member.id}"
    )
    body = _person_input(values, fieldmap, current)
    return MappedPerson(body, values, tuple(errors), fingerprint_fields(written))


def _check_direction(fieldmap: FieldMap, expected: Direction) -> None:
    if fieldmap.direction is not expected:
        raise ConfigurationError(
            f"this field map copies {fieldmap.direction.arrow}, not {expected.arrow}"
        )


def _convert_all(
    fieldmap: FieldMap, read: Callable[[Field], Any], contact: str
) -> tuple[dict[str, Any], list[ConversionError], list[tuple[Field, Any]]]:
    """Convert every pair: written values by target key, errors, and what each target gets.

    The last list pairs each target field with its written value, or UNSET where the
    write leaves it alone (its value could not convert, or the source was empty).
    """
    values: dict[str, Any] = {}
    errors: list[ConversionError] = []
    written: list[tuple[Field, Any]] = []
    for pair in fieldmap.pairs:
        source, target = fieldmap.fields_of(pair)
        result = convert_value(
            read(source), source=source, target=target, pair=pair, contact=contact
        )
        if isinstance(result, ConversionError):
            errors.append(result)
            result = UNSET
        elif result is not UNSET:
            values[target.key] = result
        written.append((target, result))
    return values, errors, written


def _person_input(
    values: dict[str, Any], fieldmap: FieldMap, current: Person | None
) -> PersonInput:
    body: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, value in values.items():
        field = fieldmap.pipedrive[key]
        if field.custom:
            custom[key] = value
        elif field.write is not None and key not in _SPECIAL:
            body[field.write] = value
    if custom:
        body["custom_fields"] = custom
    body.update(_name(values, current))
    body.update(_contact_points(values, current))
    return PersonInput(**body)


def _name(values: dict[str, Any], current: Person | None) -> dict[str, str]:
    """``name`` joined from first and last name, each from ``values`` else ``current``."""
    if "first_name" not in values and "last_name" not in values:
        return {}
    first = values.get("first_name", current.first_name if current else None)
    last = values.get("last_name", current.last_name if current else None)
    name = " ".join(part.strip() for part in (first, last) if part and part.strip())
    return {"name": name} if name else {}


def _contact_points(
    values: dict[str, Any], current: Person | None
) -> dict[str, tuple[ContactPoint, ...]]:
    """``emails`` and ``phones`` with the mapped value as primary, where they change."""
    body = {}
    for key, attribute in ((PIPEDRIVE_EMAIL_KEY, "emails"), (PIPEDRIVE_PHONE_KEY, "phones")):
        if key in values:
            existing: tuple[ContactPoint, ...] = getattr(current, attribute) if current else ()
            points = _with_primary(values[key], existing)
            if points is not None:
                body[attribute] = points
    return body


_SPECIAL = frozenset({"first_name", "last_name", PIPEDRIVE_EMAIL_KEY, PIPEDRIVE_PHONE_KEY})


def _with_primary(
    value: str | None, existing: tuple[ContactPoint, ...]
) -> tuple[ContactPoint, ...] | None:
    """The contact points after making ``value`` primary; ``None`` when nothing changes.

    A ``None`` value (clear) drops the current primary point and keeps the others.
    Email addresses compare without case.
    """
    primary = next((p for p in existing if p.primary), existing[0] if existing else None)
    if value is None:
        return tuple(p for p in existing if p is not primary) if primary else None
    if any(p.value.strip().casefold() == value.strip().casefold() for p in existing):
        return None
    demoted = tuple(evolve(p, primary=False) for p in existing)
    return (ContactPoint(value=value, primary=True), *demoted)
