"""The one cattrs converter of the Pipedrive API: wire JSON to models and back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import fields
from cattrs.preconf.json import make_converter

from pdmc._types import UnsetType
from pdmc.clients.pipedrive.models import (
    ContactPoint,
    CurrentUser,
    DealParticipant,
    Person,
    PersonField,
    PersonInput,
    PersonSearchHit,
    PostalAddress,
    Webhook,
)

__all__ = ["converter"]

converter = make_converter()
"""Structures Pipedrive JSON into :mod:`pdmc.clients.pipedrive.models` and back."""


def _datetime(value: Any, _: type) -> datetime:
    # v2 sends RFC 3339 ("...Z"); v1 sends "YYYY-MM-DD HH:MM:SS" in UTC without a zone.
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


converter.register_structure_hook(datetime, _datetime)
converter.register_unstructure_hook(
    datetime, lambda value: value.astimezone(UTC).isoformat().replace("+00:00", "Z")
)


def _nulls_to_defaults(data: Mapping[str, Any], cls: type) -> dict[str, Any]:
    """Drop ``null`` values of fields whose default is not ``None`` (lists sent as null)."""
    keep = {}
    defaults = {f.name: f.default for f in fields(cls)}
    for key, value in data.items():
        if value is None and key in defaults and defaults[key] is not None:
            continue
        keep[key] = value
    return keep


_structure_person = converter.gen_structure_attrs_fromdict(Person)
converter.register_structure_hook(
    Person, lambda data, _: _structure_person(_nulls_to_defaults(data, Person), Person)
)


def _structure_person_field(data: Mapping[str, Any], _: type) -> PersonField:
    required = data.get("required_fields") or {}
    return _structure_field_base({**data, "required": bool(required.get("enabled"))}, PersonField)


_structure_field_base = converter.gen_structure_attrs_fromdict(PersonField)
converter.register_structure_hook(PersonField, _structure_person_field)


def _structure_search_hit(data: Mapping[str, Any], _: type) -> PersonSearchHit:
    item = data.get("item") or {}
    return PersonSearchHit(
        id=int(item["id"]),
        name=item.get("name"),
        emails=tuple(str(e) for e in item.get("emails") or ()),
        phones=tuple(str(p) for p in item.get("phones") or ()),
        result_score=data.get("result_score"),
    )


converter.register_structure_hook(PersonSearchHit, _structure_search_hit)


def _structure_participant(data: Mapping[str, Any], _: type) -> DealParticipant:
    person = data.get("person_id")
    person_id = person.get("value") if isinstance(person, Mapping) else person
    if person_id is None and isinstance(data.get("person"), Mapping):
        person_id = data["person"].get("id")
    if person_id is None:
        raise ValueError(f"deal participant {data.get('id')!r} names no person")
    return DealParticipant(
        id=int(data["id"]),
        person_id=int(person_id),
        active_flag=bool(data.get("active_flag", True)),
        add_time=_datetime(data["add_time"], datetime) if data.get("add_time") else None,
    )


converter.register_structure_hook(DealParticipant, _structure_participant)


def _structure_user(data: Mapping[str, Any], _: type) -> CurrentUser:
    access = data.get("access") or ()
    is_admin = bool(data.get("is_admin")) or any(
        entry.get("app") == "global" and entry.get("admin") for entry in access
    )
    return _structure_user_base({**data, "is_admin": is_admin}, CurrentUser)


_structure_user_base = converter.gen_structure_attrs_fromdict(CurrentUser)
converter.register_structure_hook(CurrentUser, _structure_user)

_structure_webhook = converter.gen_structure_attrs_fromdict(Webhook)
converter.register_structure_hook(
    Webhook, lambda data, _: _structure_webhook(_nulls_to_defaults(data, Webhook), Webhook)
)


converter.register_unstructure_hook(
    ContactPoint,
    lambda point: {
        k: v
        for k, v in (("value", point.value), ("primary", point.primary), ("label", point.label))
        if v is not None
    },
)


def _unstructure_input(value: PersonInput) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for attribute in fields(PersonInput):
        item = getattr(value, attribute.name)
        if isinstance(item, UnsetType):
            continue
        if isinstance(item, PostalAddress):
            item = {k: v for k, v in converter.unstructure(item).items() if v is not None}
        else:
            item = converter.unstructure(item)
        body[attribute.name] = list(item) if isinstance(item, tuple) else item
    return body


converter.register_unstructure_hook(PersonInput, _unstructure_input)
