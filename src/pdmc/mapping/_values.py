"""Canonical values: one Python form per kind, between the two vendors' wire formats.

Every value read from either side becomes one of these (or ``None`` when empty)
before it is converted and written; fingerprints hash their :func:`canonical_json`.

| Kind | Canonical form |
|---|---|
| text, long text, phone, email, url, image url, zip | ``str`` |
| number | ``decimal.Decimal`` |
| monetary | :class:`Money` |
| date | ``datetime.date`` |
| birthday | :class:`MonthDay` |
| address | :class:`Address` |
| option / multi-option (opt-in only) | the label ``str`` / a ``tuple`` of labels |
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TypeAlias

from attrs import asdict, frozen

__all__ = ["Address", "CanonicalValue", "MonthDay", "Money", "canonical_json"]


@frozen
class MonthDay:
    """A month and day without a year (a Mailchimp birthday); ``02/29`` is allowed."""

    month: int
    day: int


@frozen
class Money:
    """An amount and its currency code (a Pipedrive monetary value)."""

    amount: Decimal
    currency: str | None = None


@frozen
class Address:
    """A postal address in Mailchimp's shape.

    ``country`` is the ISO 3166-1 alpha-2 code when pdmc recognised the country,
    otherwise the text as it came.
    """

    addr1: str | None = None
    addr2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


CanonicalValue: TypeAlias = str | Decimal | dt.date | MonthDay | Money | Address | tuple[str, ...]


def canonical_json(value: CanonicalValue | None) -> object:  # noqa: PLR0911 - a case a type
    """Return ``value`` as plain JSON data whose text is the same for equal values.

    Numbers are written without exponent or trailing zeros (``1.50`` and ``1.5``
    agree), dates in ISO form, birthdays as ``--MM-DD``.
    """
    match value:
        case Decimal():
            return _plain_decimal(value)
        case dt.date():
            return value.isoformat()
        case MonthDay(month=month, day=day):
            return f"--{month:02d}-{day:02d}"
        case Money(amount=amount, currency=currency):
            return {"amount": _plain_decimal(amount), "currency": currency}
        case Address():
            return asdict(value)
        case tuple():
            return list(value)
        case _:
            return value


def _plain_decimal(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in {"-0", "0"} else text
