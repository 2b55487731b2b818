"""Person fields: the standard ones, custom fields of every type, and their values.

A custom field is keyed by a 40-character hash. Its value is kept as the v2 API
sends it (an option id for ``enum``, a list for ``set``, an object for ``address``,
``monetary`` and the ranges), and this module turns it into the other shapes
Pipedrive uses: typed webhook objects, option labels, and the values filters compare.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from attrs import define, field

from pdmc.emulator.pipedrive._wire import bad_request, rfc3339, valid_date

__all__ = [
    "ADDRESS_KEYS",
    "ALL_FIELD_TYPES",
    "CREATABLE_TYPES",
    "FieldDef",
    "FieldRegistry",
    "Option",
    "Resolver",
    "Validator",
    "address_value",
    "clean_value",
    "comparable",
    "is_numeric",
    "labelled",
    "typed_for_webhook",
]

CREATABLE_TYPES: Final = frozenset(
    {
        "varchar",
        "text",
        "double",
        "phone",
        "date",
        "daterange",
        "time",
        "timerange",
        "set",
        "enum",
        "varchar_auto",
        "address",
        "monetary",
        "org",
        "people",
        "user",
    }
)
"""The types ``POST /api/v2/personFields`` accepts."""

ALL_FIELD_TYPES: Final = frozenset(
    {
        *CREATABLE_TYPES,
        "int",
        "boolean",
        "varchar_options",
        "deal",
        "deals",
        "lead",
        "project",
        "stage",
        "activity",
        "json",
        "picture",
        "status",
        "visible_to",
        "price_list",
        "billing_frequency",
        "projects_board",
        "projects_phase",
        "pipeline",
        "product",
    }
)
"""Every ``field_type`` the contracts list (v2, plus ``pipeline`` and ``product`` of v1)."""

ADDRESS_KEYS: Final = (
    "value",
    "country",
    "admin_area_level_1",
    "admin_area_level_2",
    "locality",
    "sublocality",
    "route",
    "street_number",
    "subpremise",
    "postal_code",
)
"""The components of an address value, as in a person's ``postal_address``."""

_ADDRESS_SUBFIELDS: Final = (
    ("subpremise", "Apartment/suite no"),
    ("street_number", "House number"),
    ("route", "Street/road name"),
    ("sublocality", "District/sublocality"),
    ("locality", "City/town/village/locality"),
    ("admin_area_level_1", "State/county"),
    ("admin_area_level_2", "Region"),
    ("country", "Country"),
    ("postal_code", "ZIP/Postal code"),
    ("formatted_address", "Full/combined address"),
)

_ID_TYPES: Final = frozenset(
    {
        "org",
        "people",
        "user",
        "deal",
        "project",
        "stage",
        "activity",
        "picture",
        "pipeline",
        "product",
        "price_list",
        "projects_board",
        "projects_phase",
    }
)
_NUMBER_TYPES: Final = frozenset({"int", "double", "monetary", *_ID_TYPES})
_TEXT_LIMITS: Final = MappingProxyType(
    {"varchar": 255, "varchar_auto": 255, "phone": 255, "varchar_options": 255, "text": 65_535}
)


@define
class Option:
    """A choice of an enum or set field (string ids for built-in fields)."""

    id: int | str
    label: str
    color: str | None = None
    add_time: float | None = None


@define
class FieldDef:
    """One person field: its code, name, type, options, and the numeric id filters use."""

    code: str
    name: str
    type: str
    id: int
    custom: bool = False
    options: list[Option] | None = None
    optional_response: bool = False
    required: bool = False
    add_time: float | None = None
    _options_by_id: dict[int | str, Option] = field(factory=dict, repr=False)

    def __attrs_post_init__(self) -> None:
        self._options_by_id = {option.id: option for option in self.options or ()}

    def option(self, option_id: object) -> Option | None:
        """The option with this id, if the field has it."""
        if isinstance(option_id, bool) or not isinstance(option_id, int | str):
            return None
        return self._options_by_id.get(option_id)

    def subfields(self) -> list[dict[str, str]] | None:
        """The components of an address or monetary field, as the v2 API lists them."""
        if self.type == "address":
            return [
                {
                    "field_code": f"{self.code}_{key}",
                    "field_name": f"{label} of {self.name}",
                    "field_type": "varchar",
                }
                for key, label in _ADDRESS_SUBFIELDS
            ]
        if self.type == "monetary":
            return [
                {
                    "field_code": f"{self.code}_currency",
                    "field_name": f"Currency of {self.name}",
                    "field_type": "varchar",
                }
            ]
        return None

    def wire(self, include: Sequence[str] = ()) -> dict[str, Any]:
        """The v2 ``personFields`` item; ``include`` adds the optional objects asked for."""
        item: dict[str, Any] = {
            "field_name": self.name,
            "field_code": self.code,
            "field_type": self.type,
            "options": None
            if self.options is None
            else [
                {
                    "id": option.id,
                    "label": option.label,
                    "color": option.color,
                    "add_time": None if option.add_time is None else rfc3339(option.add_time),
                    "update_time": None if option.add_time is None else rfc3339(option.add_time),
                }
                for option in self.options
            ],
            "subfields": self.subfields(),
            "is_custom_field": self.custom,
            "is_optional_response_field": self.optional_response,
        }
        if "ui_visibility" in include:
            item["ui_visibility"] = {
                "add_visible_flag": True,
                "details_visible_flag": True,
                "show_in_add_deal_dialog": {"show": False, "order": None},
            }
        if "important_fields" in include:
            item["important_fields"] = {"enabled": False, "stage_ids": []}
        if "required_fields" in include:
            item["required_fields"] = {"enabled": self.required}
        return item


_LABEL_OPTIONS: Final = (
    ("Customer", "green"),
    ("Hot lead", "red"),
    ("Warm lead", "yellow"),
    ("Cold lead", "blue"),
)
_MARKETING_OPTIONS: Final = (
    ("no_consent", "No consent"),
    ("unsubscribed", "Unsubscribed"),
    ("subscribed", "Subscribed"),
    ("archived", "Archived"),
)
_STANDARD: Final = (
    ("name", "Name", "varchar"),
    ("first_name", "First name", "varchar"),
    ("last_name", "Last name", "varchar"),
    ("email", "Email", "varchar"),
    ("phone", "Phone", "phone"),
    ("org_id", "Organization", "org"),
    ("owner_id", "Owner", "user"),
    ("label_ids", "Labels", "set"),
    ("visible_to", "Visible to", "visible_to"),
    ("marketing_status", "Marketing status", "enum"),
    ("add_time", "Person created", "date"),
    ("update_time", "Update time", "date"),
    ("picture_id", "Profile picture", "picture"),
    ("postal_address", "Postal address", "address"),
    ("birthday", "Birthday", "date"),
    ("job_title", "Job title", "varchar"),
    ("notes", "Notes", "text"),
    ("im", "Instant messenger", "varchar"),
)


class FieldRegistry:
    """A company's person fields: standard ones from the start, custom ones as added."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._by_code: dict[str, FieldDef] = {}
        self._by_id: dict[int, FieldDef] = {}
        self._next_field_id = 9001
        self._next_option_id = 1
        for code, name, kind in _STANDARD:
            options = None
            if code == "label_ids":
                options = [
                    Option(self._take_option_id(), label, color) for label, color in _LABEL_OPTIONS
                ]
            elif code == "marketing_status":
                options = [Option(key, label) for key, label in _MARKETING_OPTIONS]
            self._register(
                FieldDef(
                    code,
                    name,
                    kind,
                    self._take_field_id(),
                    options=options,
                    optional_response=code == "marketing_status",
                    required=code == "name",
                )
            )

    def _take_field_id(self) -> int:
        self._next_field_id += 1
        return self._next_field_id - 1

    def _take_option_id(self) -> int:
        self._next_option_id += 1
        return self._next_option_id - 1

    def _register(self, definition: FieldDef) -> FieldDef:
        self._by_code[definition.code] = definition
        self._by_id[definition.id] = definition
        return definition

    def __iter__(self) -> Iterator[FieldDef]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> FieldDef | None:
        """The field with this code (a standard name or a 40-character hash)."""
        return self._by_code.get(code)

    def by_id_or_code(self, reference: str) -> FieldDef | None:
        """The field a filter condition names, by numeric id or by code."""
        if reference.isdigit():
            return self._by_id.get(int(reference))
        return self._by_code.get(reference)

    def custom(self, code: str) -> FieldDef | None:
        """The custom field with this hash."""
        found = self._by_code.get(code)
        return found if found is not None and found.custom else None

    def remove(self, code: str) -> FieldDef | None:
        """Delete the custom field with this hash; ``None`` when there is none.

        Persons stop showing its values at once, since every rendering walks the
        registry; standard fields cannot be deleted, as in Pipedrive.
        """
        found = self.custom(code)
        if found is not None:
            del self._by_code[code]
            del self._by_id[found.id]
        return found

    @property
    def labels(self) -> FieldDef:
        """The built-in ``label_ids`` field and its options."""
        return self._by_code["label_ids"]

    def add(self, name: str, kind: str, labels: Sequence[str] | None, now: float) -> FieldDef:
        """Add a custom field of any listed type; options are required for enum and set.

        Raises:
            APIProblem: 400 for an unknown type, missing or unexpected options, or a
                blank name or option label.
        """
        if not name.strip():
            raise bad_request("field_name must not be empty")
        if kind not in ALL_FIELD_TYPES:
            raise bad_request(f"field_type {kind!r} is not a person field type")
        if kind in {"enum", "set"}:
            if not labels:
                raise bad_request(f"a {kind} field needs at least one option")
            if any(not str(label).strip() for label in labels):
                raise bad_request("option labels must not be empty")
        elif labels:
            raise bad_request(f"a {kind} field takes no options")
        code = "".join(self._rng.choice("0123456789abcdef") for _ in range(40))
        options = (
            [Option(self._take_option_id(), str(label), None, now) for label in labels]
            if labels
            else None
        )
        return self._register(
            FieldDef(
                code, name, kind, self._take_field_id(), custom=True, options=options, add_time=now
            )
        )


# values ------------------------------------------------------------------------------

Resolver = Callable[[str, int], bool]
"""Answers whether an id of a kind (``user``, ``people``) exists in the company."""


def _text(value: Any, kind: str, where: str) -> str:
    if not isinstance(value, str):
        raise bad_request(f"{where} must be a string for a {kind} field")
    limit = _TEXT_LIMITS.get(kind)
    if limit is not None and len(value) > limit:
        raise bad_request(f"{where} is longer than {limit} characters")
    return value


def _number(value: Any, where: str, *, integer: bool = False) -> int | float:
    allowed = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise bad_request(f"{where} must be {'an integer' if integer else 'a number'}")
    return value


def _time(value: Any, where: str) -> str:
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) not in {2, 3} or not all(p.isdigit() and len(p) == 2 for p in parts):  # noqa: PLR2004
        raise bad_request(f"{where} must be a time as HH:MM:SS")
    hours, minutes, *seconds = (int(p) for p in parts)
    if hours > 23 or minutes > 59 or (seconds and seconds[0] > 59):  # noqa: PLR2004
        raise bad_request(f"{where} must be a time as HH:MM:SS")
    return value if len(parts) == 3 else f"{value}:00"  # noqa: PLR2004


def _range(value: Any, kind: str, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or set(value) != {"start", "end"}:
        raise bad_request(f"{where} must be an object with start and end for a {kind} field")
    if kind == "daterange":
        if not (valid_date(value["start"]) and valid_date(value["end"])):
            raise bad_request(f"{where} start and end must be dates as YYYY-MM-DD")
        start, end = str(value["start"]), str(value["end"])
    else:
        start, end = _time(value["start"], where), _time(value["end"], where)
    if end < start:
        raise bad_request(f"{where} ends before it starts")
    return {"start": start, "end": end}


def address_value(value: Any, where: str) -> dict[str, str]:
    """An address object with only known, string components and a ``value``."""
    if not isinstance(value, Mapping):
        raise bad_request(f"{where} must be an address object")
    unknown = sorted(set(value) - {*ADDRESS_KEYS, "formatted_address"})
    if unknown:
        raise bad_request(f"{where} has unknown address parts: {', '.join(unknown)}")
    cleaned = {key: part for key, part in value.items() if part is not None}
    if any(not isinstance(part, str) for part in cleaned.values()):
        raise bad_request(f"{where} address parts must be strings")
    if not cleaned.get("value"):
        raise bad_request(f"{where} needs the full address in value")
    return cleaned


def _monetary(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != {"value", "currency"}:
        raise bad_request(f"{where} must be an object with value and currency")
    currency = value["currency"]
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():  # noqa: PLR2004
        raise bad_request(f"{where} currency must be a 3-letter code")
    return {"value": _number(value["value"], where), "currency": currency.upper()}


def _option_ids(definition: FieldDef, value: Any, where: str) -> Any:
    if definition.type == "enum":
        if definition.option(value) is None:
            raise bad_request(f"{where} is not an option id of {definition.name!r}")
        return value
    if not isinstance(value, list) or not value:
        raise bad_request(f"{where} must be a non-empty list of option ids (use null to clear)")
    if len(set(map(str, value))) != len(value):
        raise bad_request(f"{where} lists an option twice")
    for item in value:
        if definition.option(item) is None:
            raise bad_request(f"{where}: {item!r} is not an option id of {definition.name!r}")
    return list(value)


def _reference(kind: str, value: Any, where: str, exists: Resolver) -> int:
    found = _number(value, where, integer=True)
    if found <= 0 or not exists(kind, int(found)):
        raise bad_request(f"{where}: no {kind} with id {found}")
    return int(found)


def _date(value: Any, where: str) -> str:
    if not valid_date(value):
        raise bad_request(f"{where} must be a date as YYYY-MM-DD")
    return str(value)


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"{where} must be true or false")
    return value


def _deal_ids(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise bad_request(f"{where} must be a list of deal ids")
    return list(value)


Validator = Callable[[FieldDef, Any, str, Resolver], Any]
"""Checks one custom field value: definition, value, where (for messages), id resolver."""

_VALIDATORS: Final[Mapping[str, Validator]] = MappingProxyType(
    {
        **{kind: lambda d, v, w, _: _text(v, d.type, w) for kind in _TEXT_LIMITS},
        "int": lambda _, v, w, __: _number(v, w, integer=True),
        "double": lambda _, v, w, __: _number(v, w),
        "monetary": lambda _, v, w, __: _monetary(v, w),
        "address": lambda _, v, w, __: address_value(v, w),
        "time": lambda _, v, w, __: _time(v, w),
        "date": lambda _, v, w, __: _date(v, w),
        "boolean": lambda _, v, w, __: _boolean(v, w),
        "enum": lambda d, v, w, _: _option_ids(d, v, w),
        "set": lambda d, v, w, _: _option_ids(d, v, w),
        "daterange": lambda d, v, w, _: _range(v, d.type, w),
        "timerange": lambda d, v, w, _: _range(v, d.type, w),
        "user": lambda d, v, w, exists: _reference(d.type, v, w, exists),
        "people": lambda d, v, w, exists: _reference(d.type, v, w, exists),
        # References to objects the emulator does not hold: any positive id.
        **{
            kind: lambda d, v, w, _: _reference(d.type, v, w, lambda _k, _i: True)
            for kind in _ID_TYPES - {"user", "people"}
        },
        "deals": lambda _, v, w, __: _deal_ids(v, w),
        "json": lambda _, v, __, ___: v,
    }
)


def clean_value(definition: FieldDef, value: Any, exists: Resolver) -> Any:
    """The value to store for a custom field, checked against its type.

    ``None`` clears the field. Raises :class:`APIProblem` (400) naming the field
    and the reason when the value does not fit the type. Types without a rule of
    their own (``lead``, ``status``, ``visible_to``, ``billing_frequency``) take text.
    """
    if value is None:
        return None
    where = f"custom_fields.{definition.code}"
    validator = _VALIDATORS.get(definition.type)
    if validator is None:
        return _text(value, definition.type, where)
    return validator(definition, value, where, exists)


def labelled(definition: FieldDef, value: Any) -> Any:
    """An enum or set value with labels (``include_option_labels=true``)."""
    if definition.type == "enum":
        option = definition.option(value)
        return {"id": value, "label": option.label if option else None}
    if definition.type == "set":
        return [
            {"id": item, "label": option.label if (option := definition.option(item)) else None}
            for item in value
        ]
    return value


def typed_for_webhook(kind: str, value: Any) -> dict[str, Any]:
    """A custom field value as webhooks v2 carry it: ``{"type": ..., <value keys>}``."""
    if kind == "enum" or kind in _ID_TYPES:
        return {"type": kind, "id": value}
    if kind == "set":
        return {"type": kind, "values": [{"id": item} for item in value]}
    if kind in {"daterange", "timerange"}:
        return {"type": kind, "value": value["start"], "until": value["end"]}
    if kind in {"monetary", "address"}:
        return {"type": kind, **value}
    return {"type": kind, "value": value}


def comparable(kind: str, value: Any) -> list[Any]:
    """The values a filter compares for one stored value (several for sets).

    Numbers for numeric and id types, strings otherwise; empty when the field is empty.
    """
    if value is None or value in ("", []):
        return []
    if kind == "set":
        return [float(item) for item in value]
    if kind in {"monetary", "address"}:
        value = value["value"]
    elif kind in {"daterange", "timerange"}:
        value = value["start"]
    elif kind == "boolean":
        return [1.0 if value else 0.0]
    if kind in _NUMBER_TYPES or kind == "enum":
        try:
            return [float(value)]
        except (TypeError, ValueError):
            return [str(value)]
    return [str(value)]


def is_numeric(kind: str) -> bool:
    """Whether a filter compares values of this type as numbers."""
    return kind in _NUMBER_TYPES or kind in {"enum", "set", "boolean"}
