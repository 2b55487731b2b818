"""Audience merge fields: their definitions, and the values each type accepts.

Value rules follow Mailchimp's documentation (API-FACTS 2.6): text is cut at 255
bytes, numbers are numbers, an address is an object whose ``addr1``, ``city``,
``state`` and ``zip`` are required, dates follow the field's ``date_format`` (or ISO),
a birthday is ``MM/DD`` (or ``DD/MM``), radio and dropdown values are one of the
field's choices, a zip is five digits. An empty string clears a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final
from urllib.parse import urlsplit

from attrs import define, field

__all__ = [
    "MERGE_TYPES",
    "MergeFieldDefinition",
    "MergeValueError",
    "default_options",
    "normalize_value",
]

MERGE_TYPES: Final = (
    "text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown",
    "birthday", "zip",
)  # fmt: skip

_TEXT_BYTES: Final = 255
_DATE_FORMATS: Final = ("MM/DD/YYYY", "DD/MM/YYYY")
_BIRTHDAY_FORMATS: Final = ("MM/DD", "DD/MM")
_FORMAT_OPTIONS: Final = {
    "date": ("date_format", _DATE_FORMATS),
    "birthday": ("date_format", _BIRTHDAY_FORMATS),
    "phone": ("phone_format", ("none", "US")),
}
_ADDRESS_REQUIRED: Final = ("addr1", "city", "state", "zip")
_ADDRESS_PARTS: Final = ("addr1", "addr2", "city", "state", "zip", "country")
_US_PHONE: Final = re.compile(r"^\(?\d{3}\)?[-. ]?\d{3}[-. ]?\d{4}$")
_ANY_PHONE: Final = re.compile(r"^\+?[0-9()\-. ]{3,50}(?:\s*(?:x|ext\.?)\s*\d{1,6})?$")
_ZIP: Final = re.compile(r"^\d{5}$")
_ISO_DATE: Final = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_DAY_FIRST: Final = re.compile(r"^(\d{1,2})[-/](\d{1,2})[-/](\d{4})$")
_BIRTHDAY: Final = re.compile(r"^(\d{1,2})/(\d{1,2})$")
_LEAP_YEAR: Final = 2000


class MergeValueError(ValueError):
    """A merge field value the field's type refuses; ``message`` is what the API says."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@define
class MergeFieldDefinition:
    """One merge field of an audience, holding its wire values."""

    merge_id: int
    tag: str
    name: str
    type: str
    required: bool = False
    default_value: str = ""
    public: bool = True
    display_order: int = 0
    options: dict[str, Any] = field(factory=dict)
    help_text: str = ""

    def wire(self, list_id: str) -> dict[str, Any]:
        """The field as ``GET /lists/{id}/merge-fields`` shows it."""
        return {
            "merge_id": self.merge_id,
            "tag": self.tag,
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default_value": self.default_value,
            "public": self.public,
            "display_order": self.display_order,
            "options": dict(self.options),
            "help_text": self.help_text,
            "list_id": list_id,
        }


def default_options(field_type: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The ``options`` a new field of ``field_type`` gets, ``given`` ones applied.

    Raises:
        MergeValueError: an option value the type does not take.
    """
    if field_type in {"radio", "dropdown"}:
        choices = given.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise MergeValueError("choices must be a list of strings")
        return {"choices": list(choices)}
    if field_type in _FORMAT_OPTIONS:
        name, allowed = _FORMAT_OPTIONS[field_type]
        return {name: _pick(given, name, allowed)}
    if field_type == "address":
        return {"default_country": int(given.get("default_country", 164))}
    return {"size": 25} if field_type == "text" else {}


def _pick(given: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = given.get(name, allowed[0])
    if value not in allowed:
        raise MergeValueError(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


def normalize_value(definition: MergeFieldDefinition, value: Any) -> Any:
    """Return the value to store for ``definition``; ``None`` clears it.

    Raises:
        MergeValueError: the value does not fit the field's type.
    """
    if value is None or value == "":
        return None
    check = _CHECKS[definition.type]
    return check(definition, value)


def _text(definition: MergeFieldDefinition, value: Any) -> str:
    del definition
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MergeValueError("Please enter text")
    text = str(value)
    if len(text) * 4 <= _TEXT_BYTES or len(text.encode()) <= _TEXT_BYTES:
        return text  # short enough: keep the caller's string rather than a copy
    # Mailchimp cuts text at 255 bytes; never in the middle of a character.
    return text.encode()[:_TEXT_BYTES].decode("utf-8", "ignore")


def _number(definition: MergeFieldDefinition, value: Any) -> int | float:
    del definition
    if isinstance(value, bool):
        raise MergeValueError("Please enter a number")
    if isinstance(value, int | float):
        return value
    try:
        parsed = float(str(value).strip())
    except ValueError:
        raise MergeValueError("Please enter a number") from None
    return int(parsed) if parsed.is_integer() else parsed


def _address(definition: MergeFieldDefinition, value: Any) -> dict[str, str]:
    del definition
    if not isinstance(value, Mapping):
        raise MergeValueError("Please enter an address object (addr1, city, state, zip)")
    parts = {name: str(value.get(name) or "").strip() for name in _ADDRESS_PARTS}
    missing = [name for name in _ADDRESS_REQUIRED if not parts[name]]
    if missing:
        raise MergeValueError(f"Please enter a complete address (missing {', '.join(missing)})")
    parts["country"] = parts["country"] or "US"
    return parts


def _phone(definition: MergeFieldDefinition, value: Any) -> str:
    text = str(value).strip()
    us_format = definition.options.get("phone_format") == "US"
    if not (_US_PHONE if us_format else _ANY_PHONE).match(text):
        wanted = " in the format (###) ###-####" if us_format else ""
        raise MergeValueError(f"Please enter a valid phone number{wanted}")
    return text


def _date(definition: MergeFieldDefinition, value: Any) -> str:
    text = str(value).strip()
    day_first = definition.options.get("date_format") == "DD/MM/YYYY"
    if iso := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in iso.groups())
    elif local := _DAY_FIRST.match(text):
        first, second, year = (int(part) for part in local.groups())
        day, month = (first, second) if day_first else (second, first)
    else:
        year = month = day = 0
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        wanted = definition.options.get("date_format", "MM/DD/YYYY")
        raise MergeValueError(f"Please enter a date as {wanted} or YYYY-MM-DD") from None


def _birthday(definition: MergeFieldDefinition, value: Any) -> str:
    text = str(value).strip()
    day_first = definition.options.get("date_format") == "DD/MM"
    found = _BIRTHDAY.match(text)
    first, second = (int(part) for part in found.groups()) if found else (0, 0)
    day, month = (first, second) if day_first else (second, first)
    try:
        date(_LEAP_YEAR, month, day)
    except ValueError:
        wanted = definition.options.get("date_format", "MM/DD")
        raise MergeValueError(f"Please enter a birthday as {wanted}") from None
    return f"{first:02d}/{second:02d}"


def _url(definition: MergeFieldDefinition, value: Any) -> str:
    del definition
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or "." not in parts.netloc or " " in text:
        raise MergeValueError("Please enter a valid URL")
    return text


def _choice(definition: MergeFieldDefinition, value: Any) -> str:
    text = str(value)
    if text not in definition.options.get("choices", ()):
        raise MergeValueError("Please choose one of the field's options")
    return text


def _zip(definition: MergeFieldDefinition, value: Any) -> str:
    del definition
    text = str(value).strip()
    if not _ZIP.match(text):
        raise MergeValueError("Please enter a 5-digit US ZIP code")
    return text


_CHECKS: Final = {
    "text": _text,
    "number": _number,
    "address": _address,
    "phone": _phone,
    "date": _date,
    "url": _url,
    "imageurl": _url,
    "radio": _choice,
    "dropdown": _choice,
    "birthday": _birthday,
    "zip": _zip,
}
