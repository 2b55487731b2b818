"""Value conversion, value by value: wire value → canonical value → the other wire format.

:func:`convert_value` never raises for a bad value: it returns a
:class:`~pdmc.errors.ConversionError` naming the field and the reason, so the rest of
the contact's fields, and the other contacts, keep syncing. It tells "clear this
value" from "leave it alone": a cleared Mailchimp field is ``""``, a cleared Pipedrive
field ``None``, and :data:`pdmc.UNSET` means "do not write this field at all".
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

from attrs import frozen

from pdmc._types import UNSET
from pdmc.clients.pipedrive.models import PostalAddress
from pdmc.errors import ConversionError
from pdmc.mapping._catalog import Field
from pdmc.mapping._countries import COUNTRY_ALIASES, COUNTRY_NAMES
from pdmc.mapping._kinds import Kind, Side
from pdmc.mapping._pair import FieldPair
from pdmc.mapping._values import Address, CanonicalValue, Money, MonthDay

__all__ = [
    "InvalidValueError",
    "TextLimit",
    "convert_value",
    "empty_value",
    "read_value",
    "text_limit",
    "write_value",
]


_T = TypeVar("_T")


class InvalidValueError(Exception):
    """A value that cannot be read or written; ``args[0]`` says why.

    Internal to :mod:`pdmc.mapping`: :func:`convert_value` turns it into a
    :class:`~pdmc.errors.ConversionError` before any caller sees it.
    """


@frozen
class TextLimit:
    """How much text a target field holds."""

    size: int
    unit: Literal["bytes", "characters"]


_MAILCHIMP_TEXT_LIMIT: Final = TextLimit(255, "bytes")
_PIPEDRIVE_LIMITS: Final = MappingProxyType(
    {
        "varchar": TextLimit(255, "characters"),
        "varchar_auto": TextLimit(255, "characters"),
        "phone": TextLimit(255, "characters"),
        "text": TextLimit(65_000, "characters"),
    }
)
_NOTES_LIMIT: Final = TextLimit(10_000, "characters")
_TEXT_KINDS: Final = frozenset(
    {Kind.TEXT, Kind.LONG_TEXT, Kind.PHONE, Kind.EMAIL, Kind.URL, Kind.IMAGE_URL, Kind.ZIP}
)
_LARGEST_EXACT = Decimal(2**53)
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_PIPEDRIVE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_YEAR_FIRST = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_YEAR_LAST = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})")
_MONTH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_US_PHONE_DIGITS = 10
_MAILCHIMP_ADDRESS_REQUIRED: Final = ("addr1", "city", "state", "zip")


def text_limit(field: Field) -> TextLimit | None:
    """How much text ``field`` holds as a target, or ``None`` when pdmc knows no limit."""
    if field.side is Side.MAILCHIMP:
        return _MAILCHIMP_TEXT_LIMIT if field.kind is Kind.TEXT else None
    if field.key == "notes":
        return _NOTES_LIMIT
    return _PIPEDRIVE_LIMITS.get(field.type)


def empty_value(field: Field) -> Any:
    """The wire value that clears ``field``: ``""`` for Mailchimp, ``None`` for Pipedrive."""
    return "" if field.side is Side.MAILCHIMP else None


def convert_value(
    wire: Any,
    *,
    source: Field,
    target: Field,
    pair: FieldPair,
    contact: str | None = None,
) -> Any:
    """Convert one source wire value into the target's wire format.

    Returns the value to write; :func:`empty_value` of the target when the source is
    empty and ``pair.clear_when_empty`` is set; :data:`~pdmc.UNSET` ("leave the
    target alone") when ``wire`` is UNSET (the source did not report the field) or
    is empty without ``clear_when_empty``; or a
    :class:`~pdmc.errors.ConversionError` naming ``source``, the reason and
    ``contact``, instead of raising. The pair must have passed FieldMap validation.
    """
    if wire is UNSET:
        return UNSET
    try:
        value = read_value(source, wire)
        if value is None:
            return empty_value(target) if pair.clear_when_empty else UNSET
        value = _coerce(value, target)
        if isinstance(value, str):
            value = _fit(value, target, truncate=pair.truncate)
        return write_value(target, value)
    except InvalidValueError as invalid:
        reason = str(invalid)
        return ConversionError(
            f"{source.title} → {target.title}: {reason}",
            field=source.ref,
            reason=reason,
            contact=contact,
        )


def read_value(field: Field, wire: Any) -> CanonicalValue | None:
    """Read one wire value of ``field`` into its canonical form; ``None`` when empty.

    Raises :class:`InvalidValueError`; :func:`convert_value` turns it into a
    :class:`~pdmc.errors.ConversionError`.
    """
    if wire is None or wire is UNSET:
        return None
    reader = _READERS.get(field.kind)
    if reader is None:
        raise InvalidValueError(f"pdmc does not read {field.kind.description}")
    return reader(field, wire)


def write_value(field: Field, value: CanonicalValue) -> Any:
    """Write a canonical value in ``field``'s wire format (raises like :func:`read_value`)."""
    writer = _WRITERS.get(field.kind)
    if writer is None:
        raise InvalidValueError(f"pdmc does not write {field.kind.description}")
    return writer(field, value)


def _coerce(value: CanonicalValue, target: Field) -> CanonicalValue:
    """Turn a canonical value of the source's kind into one of the target's kind."""
    if isinstance(value, Money) and target.kind is Kind.NUMBER:
        return value.amount
    if isinstance(value, dt.date) and target.kind is Kind.BIRTHDAY:
        return MonthDay(value.month, value.day)
    if isinstance(value, tuple):
        return ", ".join(value)
    return value


def _fit(text: str, target: Field, *, truncate: bool) -> str:
    limit = text_limit(target)
    if limit is None:
        return text
    encoded = text.encode()
    size = len(encoded) if limit.unit == "bytes" else len(text)
    if size <= limit.size:
        return text
    if not truncate:
        raise InvalidValueError(
            f"the text is {size} {limit.unit} long and the {target.side.title} field holds "
            f"{limit.size}; set truncate=True on the pair to cut it"
        )
    if limit.unit == "characters":
        return text[: limit.size]
    # A cut inside a multi-byte character leaves an incomplete sequence at the end;
    # decoding with "ignore" drops exactly that partial character.
    return encoded[: limit.size].decode(errors="ignore")


def _expect(value: CanonicalValue, kind: type[_T]) -> _T:
    if not isinstance(value, kind):
        raise InvalidValueError(f"expected {kind.__name__}, got {_show(value)}")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."  # noqa: PLR2004 - a readable excerpt


def _read_text(_field: Field, wire: Any) -> str | None:
    if not isinstance(wire, str):
        raise InvalidValueError(f"expected text, got {_show(wire)}")
    try:
        wire.encode()
    except UnicodeEncodeError:
        raise InvalidValueError("the text holds an unpaired surrogate, not valid Unicode") from None
    return wire if wire.strip() else None


def _read_number(_field: Field, wire: Any) -> Decimal | None:
    if wire is None:
        return None
    if isinstance(wire, bool):
        raise InvalidValueError(f"{wire!r} is a yes/no value, not a number")
    if isinstance(wire, int):
        return Decimal(wire)
    if isinstance(wire, float):
        if not math.isfinite(wire):
            raise InvalidValueError(f"{wire!r} is not a finite number")
        return Decimal(repr(wire))
    if not isinstance(wire, str):
        raise InvalidValueError(f"expected a number, got {_show(wire)}")
    text = wire.strip()
    if not text:
        return None
    if not _PLAIN_NUMBER.fullmatch(text):
        raise InvalidValueError(
            f"{_show(wire)} is not a plain number: pdmc reads a dot before decimals and no "
            "thousands separators, and never guesses a locale"
        )
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise InvalidValueError(f"{_show(wire)} is not a number") from None


def _read_money(field: Field, wire: Any) -> Money | None:
    if not isinstance(wire, Mapping):
        amount = _read_number(field, wire)
        return None if amount is None else Money(amount)
    amount = _read_number(field, wire.get("value"))
    if amount is None:
        return None
    currency = wire.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise InvalidValueError(f"currency {_show(currency)} is not a currency code")
    return Money(amount, currency or None)


def _read_date(field: Field, wire: Any) -> dt.date | None:
    text = _read_text(field, wire)
    if text is None:
        return None
    text = text.strip()
    parts: tuple[str, str, str] | None = None
    if field.side is Side.PIPEDRIVE:
        if match := _PIPEDRIVE_DATE.fullmatch(text):
            parts = (match[1], match[2], match[3])
    elif match := _YEAR_FIRST.fullmatch(text):
        parts = (match[1], match[3], match[4])
    elif match := _YEAR_LAST.fullmatch(text):
        first, second = (match[1], match[3])
        # DD-MM-YYYY is the only dashed form Mailchimp uses; slashes follow the field.
        day_first = match[2] == "-" or _day_first(field)
        parts = (match[4], second, first) if day_first else (match[4], first, second)
    if parts is None:
        expected = "YYYY-MM-DD" if field.side is Side.PIPEDRIVE else "a date format Mailchimp uses"
        raise InvalidValueError(f"{_show(text)} is not a date in {expected}")
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise InvalidValueError(f"{_show(text)} is not a calendar date") from None


def _read_birthday(field: Field, wire: Any) -> MonthDay | None:
    text = _read_text(field, wire)
    if text is None:
        return None
    match = _MONTH_DAY.fullmatch(text.strip())
    if match is None:
        raise InvalidValueError(f"{_show(text)} is not a birthday (MM/DD or DD/MM)")
    first, second = int(match[1]), int(match[2])
    month, day = (second, first) if _day_first(field) else (first, second)
    try:
        dt.date(2000, month, day)  # a leap year, so 02/29 is a valid birthday
    except ValueError:
        raise InvalidValueError(f"{_show(text)} is not a day of the year") from None
    return MonthDay(month, day)


def _day_first(field: Field) -> bool:
    return (field.format or "").upper().startswith("DD")


def _read_address(field: Field, wire: Any) -> Address | None:
    if isinstance(wire, PostalAddress):
        get: Callable[[str], Any] = lambda name: getattr(wire, name)  # noqa: E731 - one-line view
    elif isinstance(wire, Mapping):
        get = wire.get
    elif isinstance(wire, str) and not wire.strip():
        return None
    else:
        raise InvalidValueError(
            f"expected an address with its parts, got {_show(wire)}; pdmc does not split "
            "one line of text into street, city and zip"
        )
    if field.side is Side.MAILCHIMP:
        parts = {name: _part(get(name)) for name in ("addr1", "addr2", "city", "state", "zip")}
        country = _part(get("country"))
    else:
        street = " ".join(p for p in (_part(get("street_number")), _part(get("route"))) if p)
        parts = {
            "addr1": street or None,
            "addr2": _part(get("subpremise")),
            "city": _part(get("locality")),
            "state": _part(get("admin_area_level_1")),
            "zip": _part(get("postal_code")),
        }
        country = _part(get("country"))
        if not any(parts.values()) and not country and not _part(get("value")):
            return None
    if field.side is Side.MAILCHIMP and not any(parts.values()) and not country:
        return None
    return Address(**parts, country=country and (_country_code(country) or country))


def _part(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValueError(f"expected an address part, got {_show(value)}")
    text = str(value).strip()
    return text or None


def _read_option(field: Field, wire: Any) -> str | None:
    if isinstance(wire, str) and not wire.strip():
        return None
    for option in field.options:
        if str(option.id) == str(wire).strip():
            return option.label
    raise InvalidValueError(f"{_show(wire)} is not one of the field's options (deleted?)")


def _read_options(field: Field, wire: Any) -> tuple[str, ...] | None:
    ids = wire.split(",") if isinstance(wire, str) else wire
    if not isinstance(ids, list | tuple):
        raise InvalidValueError(f"expected a list of option ids, got {_show(wire)}")
    labels = tuple(label for item in ids if (label := _read_option(field, item)) is not None)
    return labels or None


_READERS: Final[Mapping[Kind, Callable[[Field, Any], CanonicalValue | None]]] = MappingProxyType(
    {
        **dict.fromkeys(_TEXT_KINDS, _read_text),
        Kind.NUMBER: _read_number,
        Kind.MONETARY: _read_money,
        Kind.DATE: _read_date,
        Kind.BIRTHDAY: _read_birthday,
        Kind.ADDRESS: _read_address,
        Kind.OPTION: _read_option,
        Kind.MULTI_OPTION: _read_options,
    }
)


def _write_email(_field: Field, value: CanonicalValue) -> str:
    email = _expect(value, str).strip()
    if not _EMAIL.fullmatch(email):
        raise InvalidValueError(f"{_show(email)} is not an email address")
    return email


def _write_text(field: Field, value: CanonicalValue) -> str:
    text = _expect(value, str)
    if field.kind is Kind.PHONE and field.side is Side.MAILCHIMP and field.format == "US":
        return _us_phone(text)
    return text


def _write_number(field: Field, value: CanonicalValue) -> int | float:
    return _json_number(_expect(value, Decimal), whole=field.type == "int")


def _write_date(_field: Field, value: CanonicalValue) -> str:
    return _expect(value, dt.date).isoformat()


def _write_birthday(_field: Field, value: CanonicalValue) -> str:
    birthday = _expect(value, MonthDay)
    return f"{birthday.month:02d}/{birthday.day:02d}"


def _write_address(field: Field, value: CanonicalValue) -> Any:
    address = _expect(value, Address)
    if field.side is Side.MAILCHIMP:
        return _mailchimp_address(address)
    return _pipedrive_address(address, as_model=field.write == "postal_address")


def _json_number(number: Decimal, *, whole: bool) -> int | float:
    if abs(number) > _LARGEST_EXACT:
        raise InvalidValueError(f"{number} is too large to send exactly as a JSON number")
    if number == number.to_integral_value():
        return int(number)
    if whole:
        raise InvalidValueError(f"{number} is not a whole number, and the field holds only those")
    as_float = float(number)
    if Decimal(repr(as_float)) != number:
        raise InvalidValueError(
            f"{number} has more digits than a JSON number keeps; it would be rounded"
        )
    return as_float


def _us_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) == _US_PHONE_DIGITS + 1 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != _US_PHONE_DIGITS:
        raise InvalidValueError(
            f"{_show(phone)} is not a 10-digit US number, which this Mailchimp phone field "
            "(US format) requires"
        )
    return phone


def _mailchimp_address(address: Address) -> dict[str, str]:
    missing = [name for name in _MAILCHIMP_ADDRESS_REQUIRED if not getattr(address, name)]
    if missing:
        raise InvalidValueError(
            "the address is incomplete: Mailchimp needs addr1, city, state and zip, and "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
        )
    if address.country is not None and address.country not in COUNTRY_NAMES:
        raise InvalidValueError(
            f"country {_show(address.country)} is neither a two-letter ISO 3166 code nor a "
            "country name pdmc knows, and Mailchimp would file the address under the US"
        )
    parts = {
        "addr1": address.addr1,
        "addr2": address.addr2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
    }
    return {name: part for name, part in parts.items() if part}


def _pipedrive_address(address: Address, *, as_model: bool) -> PostalAddress | dict[str, str]:
    country = address.country and COUNTRY_NAMES.get(address.country, address.country)
    region = " ".join(p for p in (address.state, address.zip) if p)
    formatted = ", ".join(
        p for p in (address.addr1, address.addr2, address.city, region, country) if p
    )
    parts = {
        "value": formatted or None,
        "route": address.addr1,
        "subpremise": address.addr2,
        "locality": address.city,
        "admin_area_level_1": address.state,
        "postal_code": address.zip,
        "country": country,
    }
    if as_model:
        return PostalAddress(**parts)
    return {name: part for name, part in parts.items() if part}


def _fold(name: str) -> str:
    """A country name folded for lookup: no accents, case, punctuation or leading "the"."""
    plain = unicodedata.normalize("NFKD", name.replace("\u2019", "'"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[^\w']+", " ", plain).split()
    return " ".join(words[1:] if words[:1] == ["the"] else words)


_COUNTRY_BY_NAME: Final = MappingProxyType(
    {_fold(name): code for code, name in COUNTRY_NAMES.items()}
    | {_fold(alias): code for alias, code in COUNTRY_ALIASES.items()}
)


def _country_code(country: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country code or name, or ``None``."""
    if country.upper() in COUNTRY_NAMES:
        return country.upper()
    return _COUNTRY_BY_NAME.get(_fold(country))


_WRITERS: Final[Mapping[Kind, Callable[[Field, CanonicalValue], Any]]] = MappingProxyType(
    {
        **dict.fromkeys(_TEXT_KINDS, _write_text),
        Kind.EMAIL: _write_email,
        Kind.NUMBER: _write_number,
        Kind.DATE: _write_date,
        Kind.BIRTHDAY: _write_birthday,
        Kind.ADDRESS: _write_address,
    }
)
