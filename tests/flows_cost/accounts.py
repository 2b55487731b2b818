"""Accounts for measuring what flows cost: N persons in one filter, N members in one tag.

The realistic seeder mixes filters, tags and statuses to look like a real account;
cost bounds need a known shape instead: every person in one Pipedrive filter (or
every member in one Mailchimp tag), loaded through the emulators' direct state API
without webhooks, a day before the flow is activated. A fixed share of the contacts
are the awkward cases a real account holds, chosen by the contact's number, so the
same N always gives the same account (see :data:`FILTER_CASES` and :data:`TAG_CASES`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final, Literal

from attrs import frozen

from pdmc.emulator import Emulator

__all__ = [
    "FILTER_CASES",
    "SYNCABLE_PER_HUNDRED",
    "TAG",
    "TAG_CASES",
    "FilterAccount",
    "TagAccount",
    "email_of",
    "load_filter_account",
    "load_tag_account",
    "tag_email",
]

_NAMES: Final = (
    ("Zoë", "O'Brien-Łukasik"),
    ("Анна", "Иванова"),
    ("Γιώργος", "Παπαδόπουλος"),
    ("健", "山田"),
    ("伟", "王"),
    ("José Luis", "Núñez"),
    ("Ngozi", "Okonkwo-Adeyemi"),
    ("François", "L'Heureux"),
    ("Søren", "Kierkegård"),
    ("Ada", "Lovelace"),
    ("Mehmet", "Yılmaz"),  # noqa: RUF001 - a Turkish dotless i, on purpose
)
_LONG_LAST_NAME: Final = "長い名字" * 30  # 360 bytes of UTF-8: over Mailchimp's 255
_DOMAINS: Final = ("kestrel-logistics.es", "northwind.co.uk", "posteo.de", "mail.ru", "nifty.jp")
_SETTLE: Final = 24 * 3600
"""Seconds between loading an account and using it: its contacts are a day old."""

TAG: Final = "Bench"
"""The Mailchimp tag whose members the tag account's flow syncs."""

# Pipedrive-filter account: the awkward case of person ``n`` is decided by ``n % 100``.
_SAME_MEMBER: Final = range(10)  # already a member, with exactly the person's values
_STALE_MEMBER: Final = range(10, 20)  # already a member, with another first name
_PENDING, _UNSUBSCRIBED, _CLEANED, _ARCHIVED = 20, 21, 22, 23
_OTHER_CASE: Final = 24  # a member under the same address written in capitals
_NO_EMAIL, _INVALID_EMAIL, _SHARED_FIRST, _SHARED_SECOND = 90, 91, 92, 93
_SEVERAL_EMAILS, _LONG_NAME, _CAPITALS, _FAKE_EMAIL = 94, 95, 96, 97
_PLAIN: Final = range(25, 90)
"""Cases of persons with nothing awkward about them; changes are made to these."""

SYNCABLE_PER_HUNDRED: Final = 100 - len(
    {_UNSUBSCRIBED, _CLEANED, _ARCHIVED, _NO_EMAIL, _INVALID_EMAIL, _SHARED_SECOND, _FAKE_EMAIL}
)
"""Persons of every hundred that a flow can sync: a usable address, no opted-out member."""

FILTER_CASES: Final = {
    "already a member with the same values": len(_SAME_MEMBER),
    "already a member with stale values": len(_STALE_MEMBER),
    "pending member": 1,
    "unsubscribed member": 1,
    "cleaned member": 1,
    "archived member": 1,
    "member under the address in capitals": 1,
    "no email": 1,
    "invalid email": 1,
    "two persons sharing one address": 2,
    "several emails, the primary not first": 1,
    "last name over Mailchimp's 255 bytes": 1,
    "address in capitals": 1,
    "an address Mailchimp refuses as fake": 1,
}
"""How many persons in every hundred of the filter account are each awkward case."""

# Tag account: the case of member ``n`` is decided by ``n % 100``.
_KNOWN_PERSON: Final = range(30)  # a Pipedrive person has the address already
_KNOWN_IN_CAPITALS: Final = range(5)  # ... written in capitals there
_TWO_PERSONS: Final = 30  # two Pipedrive persons share the address (entered twice)
_TAG_STATUS: Final = {31: "unsubscribed", 32: "cleaned", 33: "pending"}
_MEMBER_LONG_NAME: Final = 34

TAG_CASES: Final = {
    "a Pipedrive person has the address": len(_KNOWN_PERSON),
    "... written in capitals there": len(_KNOWN_IN_CAPITALS),
    "two Pipedrive persons share the address": 1,
    "unsubscribed member": 1,
    "cleaned member": 1,
    "pending member": 1,
    "last name over 255 bytes": 1,
}
"""How many members in every hundred of the tag account are each awkward case."""


def email_of(n: int) -> str:
    """The address of contact ``n`` as pdmc stores it (lower case)."""
    case = n % 100
    if case == _SHARED_SECOND:
        return email_of(n - 1)
    if case == _FAKE_EMAIL:
        return f"contact{n}@example.com"
    return f"contact{n}@{_DOMAINS[n % len(_DOMAINS)]}"


def tag_email(n: int) -> str:
    """The address of member ``n`` of a tag account."""
    return f"member{n}@{_DOMAINS[n % len(_DOMAINS)]}"


def _names(n: int, *, long_case: int) -> tuple[str, str]:
    first, last = _NAMES[n % len(_NAMES)]
    return first, _LONG_LAST_NAME if n % 100 == long_case else last


def _point(value: str, *, primary: bool = True, label: str = "work") -> dict[str, Any]:
    return {"value": value, "primary": primary, "label": label}


def _person_emails(n: int) -> list[dict[str, Any]]:
    case, email = n % 100, email_of(n)
    if case == _NO_EMAIL:
        return []
    if case == _INVALID_EMAIL:
        return [_point(f"contact{n} at {_DOMAINS[0]}")]
    if case == _SEVERAL_EMAILS:
        return [_point(f"old{n}@{_DOMAINS[0]}", primary=False, label="home"), _point(email)]
    return [_point(email.upper() if case == _CAPITALS else email)]


@frozen
class FilterAccount:
    """A Pipedrive company whose persons all match one filter, beside a Mailchimp audience.

    Person ``n`` (0-based, in load order) has the id ``first_person_id + n``.
    """

    persons: int
    filter_id: int
    audience_id: str
    first_person_id: int

    def person_id(self, n: int) -> int:
        """The Pipedrive id of person ``n``."""
        return self.first_person_id + n

    def plain(self, count: int) -> Iterator[int]:
        """``count`` persons with nothing awkward about them, spread over the whole account."""
        usable = self.persons * len(_PLAIN) // 100
        if count > usable:
            raise ValueError(f"only {usable} of {self.persons} persons are plain")
        for i in range(count):
            k = i * usable // count
            yield (k // len(_PLAIN)) * 100 + _PLAIN[k % len(_PLAIN)]


def _all_persons_filter(emulator: Emulator) -> int:
    name_given = {
        "object": "person",
        "field_id": "name",
        "operator": "IS NOT NULL",
        "value": None,
        "extra_value": None,
    }
    return emulator.pipedrive.add_filter(
        "Every person with a name",
        {
            "glue": "and",
            "conditions": [
                {"glue": "and", "conditions": [name_given]},
                {"glue": "or", "conditions": []},
            ],
        },
    )


def _member_before(emulator: Emulator, audience_id: str, n: int) -> None:
    """Put person ``n`` in the audience beforehand, when its case says it is there."""
    case = n % 100
    first, last = _names(n, long_case=_LONG_NAME)
    email = email_of(n)
    statuses = {_PENDING: "pending", _UNSUBSCRIBED: "unsubscribed", _CLEANED: "cleaned"}
    if case in _SAME_MEMBER or case in _STALE_MEMBER or case in statuses or case == _ARCHIVED:
        stale = f"Old {first}" if case in _STALE_MEMBER else first
        emulator.mailchimp.add_member(
            audience_id,
            email,
            status=statuses.get(case, "subscribed"),
            merge_fields={"FNAME": stale, "LNAME": last},
        )
        if case == _ARCHIVED:
            emulator.mailchimp.archive(audience_id, email)
    elif case == _OTHER_CASE:
        emulator.mailchimp.add_member(
            audience_id, email.upper(), merge_fields={"FNAME": first, "LNAME": last}
        )


def add_filter_person(emulator: Emulator, n: int) -> int:
    """Add person ``n`` of a filter account (without webhooks); return its id."""
    first, last = _names(n, long_case=_LONG_NAME)
    return emulator.pipedrive.add_person(
        name=f"{first} {last}",
        first_name=first,
        last_name=last,
        emails=_person_emails(n),
        phones=[f"+44 20 7946 {n % 10_000:04d}"] if n % 3 == 0 else [],
        notify=False,
    )


def _stale_member(emulator: Emulator, audience_id: str, n: int) -> None:
    """Put person ``n`` in the audience beforehand with a stale first name, if it has an address."""
    if n % 100 in {_NO_EMAIL, _INVALID_EMAIL, _SHARED_SECOND, _FAKE_EMAIL}:
        return
    first, last = _names(n, long_case=_LONG_NAME)
    emulator.mailchimp.add_member(
        audience_id, email_of(n), merge_fields={"FNAME": f"Old {first}", "LNAME": last}
    )


def load_filter_account(
    emulator: Emulator, persons: int, *, members_before: bool | Literal["all"] = True
) -> FilterAccount:
    """Load ``persons`` persons, all matching one new filter, then let a day pass.

    With ``members_before`` the audience already holds the members the awkward
    cases call for (same values, stale values, pending, unsubscribed, cleaned,
    archived, another case). No webhook fires for anything loaded.
    """
    audience_id = emulator.mailchimp.default_audience_id
    filter_id = _all_persons_filter(emulator)
    first_id = last_id = add_filter_person(emulator, 0)
    for n in range(1, persons):
        last_id = add_filter_person(emulator, n)
    if last_id != first_id + persons - 1:
        raise AssertionError("the emulator gave persons ids out of sequence")
    for n in range(persons):
        if members_before == "all":
            _stale_member(emulator, audience_id, n)
        elif members_before:
            _member_before(emulator, audience_id, n)
    emulator.advance(_SETTLE)
    return FilterAccount(persons, filter_id, audience_id, first_id)


@frozen
class TagAccount:
    """A Mailchimp audience whose members are all in one tag, beside a Pipedrive company."""

    members: int
    audience_id: str
    segment_id: int
    duplicated_emails: frozenset[str]
    """Addresses that two Pipedrive persons held before any sync (entered twice)."""

    def plain(self, count: int) -> list[int]:
        """``count`` members with no Pipedrive person beforehand, spread over the account."""
        usable = [n for n in range(self.members) if n % 100 >= _MEMBER_LONG_NAME + 1]
        if count > len(usable):
            raise ValueError(f"only {len(usable)} of {self.members} members are plain")
        return [usable[i * len(usable) // count] for i in range(count)]


def add_tag_member(emulator: Emulator, audience_id: str, n: int) -> None:
    """Add member ``n`` of a tag account to the tag (without webhooks)."""
    first, last = _names(n, long_case=_MEMBER_LONG_NAME)
    emulator.mailchimp.add_member(
        audience_id,
        tag_email(n),
        status=_TAG_STATUS.get(n % 100, "subscribed"),
        merge_fields={"FNAME": first, "LNAME": last},
        tags=(TAG,),
    )


def load_tag_account(emulator: Emulator, members: int) -> TagAccount:
    """Load ``members`` members, all in the tag :data:`TAG`, and the persons some have.

    Nearly a third of the addresses belong to Pipedrive persons already (some written
    in capitals there, some held by two persons), and a tenth as many persons again
    have nothing to do with the audience. No webhook fires; then a day passes.
    """
    audience_id = emulator.mailchimp.default_audience_id
    segment_id = emulator.mailchimp.add_tag(audience_id, TAG)
    duplicated = set()
    pipedrive = emulator.pipedrive
    for n in range(members):
        add_tag_member(emulator, audience_id, n)
        case, email = n % 100, tag_email(n)
        first, last = _names(n, long_case=_MEMBER_LONG_NAME)
        owners = 2 if case == _TWO_PERSONS else 1 if case in _KNOWN_PERSON else 0
        written = email.upper() if case in _KNOWN_IN_CAPITALS else email
        for _ in range(owners):
            pipedrive.add_person(name=f"{first} {last}", emails=[_point(written)], notify=False)
        if owners == 2:
            duplicated.add(email)
        if n % 10 == 0:
            pipedrive.add_person(
                name=f"Lead {n}", emails=[_point(f"lead{n}@{_DOMAINS[1]}")], notify=False
            )
    emulator.advance(_SETTLE)
    return TagAccount(members, audience_id, segment_id, frozenset(duplicated))
