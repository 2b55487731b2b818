"""Fingerprints: a stable hash of a contact's mapped values on one side.

The engine stores the fingerprint of what it last wrote or read; when a later read
gives the same fingerprint, nothing it maps has changed, so it skips the write, and
a change event carrying its own write comes back with the fingerprint it stored, so
it recognises the echo. Values are hashed in canonical form, so formats that mean
the same (``5`` and ``"5"``, ``1.50`` and ``1.5``, ``01/31/2024`` and
``2024-01-31``, an address's key order, an email address's case) hash the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pdmc._types import UNSET
from pdmc.clients.mailchimp.models import Member
from pdmc.clients.pipedrive.models import Person
from pdmc.mapping._catalog import Field
from pdmc.mapping._convert import InvalidValueError, read_value
from pdmc.mapping._fieldmap import FieldMap
from pdmc.mapping._kinds import Kind
from pdmc.mapping._read import read_member, read_person
from pdmc.mapping._values import CanonicalValue, canonical_json

__all__ = ["fingerprint", "fingerprint_fields", "fingerprint_member", "fingerprint_person"]


def fingerprint(values: Mapping[str, CanonicalValue | None]) -> str:
    """The SHA-256 hex digest of ``values`` as canonical JSON (sorted keys, no spaces)."""
    payload = {key: canonical_json(value) for key, value in values.items()}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint_fields(entries: Iterable[tuple[Field, Any]]) -> str:
    """The fingerprint of wire values, each read through its field into canonical form.

    An absent (:data:`~pdmc.UNSET`) or empty value counts as ``None``; a value that
    cannot be read is hashed as its ``repr``, so it still fingerprints stably.
    """
    values: dict[str, Any] = {}
    for field, wire in entries:
        try:
            value = None if wire is UNSET else read_value(field, wire)
        except InvalidValueError:
            values[field.key] = f"unreadable: {wire!r}"
            continue
        if field.kind is Kind.EMAIL and isinstance(value, str):
            value = value.strip().casefold()
        values[field.key] = value
    return fingerprint(values)


def fingerprint_person(person: Person, fieldmap: FieldMap) -> str:
    """The fingerprint of the Pipedrive values ``fieldmap`` names on ``person``."""
    return fingerprint_fields(
        (field, read_person(person, field))
        for field in (fieldmap.pipedrive[pair.pipedrive] for pair in fieldmap.pairs)
    )


def fingerprint_member(member: Member, fieldmap: FieldMap) -> str:
    """The fingerprint of the Mailchimp values ``fieldmap`` names on ``member``."""
    return fingerprint_fields(
        (field, read_member(member, field))
        for field in (fieldmap.mailchimp[pair.mailchimp] for pair in fieldmap.pairs)
    )
