"""The one cattrs converter of the Mailchimp API: wire JSON to models and back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import fields
from cattrs.preconf.json import make_converter

from pdmc._secret import Secret
from pdmc._types import UnsetType
from pdmc.clients.mailchimp.models import BatchOperation, Member, MemberUpsert

__all__ = ["converter"]

converter = make_converter()
"""Structures Mailchimp JSON into :mod:`pdmc.clients.mailchimp.models` and back."""


def _datetime(value: Any, _: type) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:  # Mailchimp sends "" for timestamps it does not know
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


converter.register_structure_hook(datetime, _datetime)
converter.register_structure_hook(Secret, lambda value, _: Secret(str(value)))
converter.register_unstructure_hook(datetime, lambda value: value.astimezone(UTC).isoformat())

_structure_member = converter.gen_structure_attrs_fromdict(Member)


def _member(data: Any, _: type) -> Member:
    cleaned = {k: v for k, v in data.items() if v is not None and v != ""}
    cleaned.setdefault("id", data.get("id", ""))
    return _structure_member(cleaned, Member)


converter.register_structure_hook(Member, _member)


def _without_unset(value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for attribute in fields(type(value)):
        item = getattr(value, attribute.name)
        if isinstance(item, UnsetType):
            continue
        item = converter.unstructure(item)
        body[attribute.name] = list(item) if isinstance(item, tuple) else item
    return body


converter.register_unstructure_hook(MemberUpsert, _without_unset)
converter.register_unstructure_hook(BatchOperation, _without_unset)
